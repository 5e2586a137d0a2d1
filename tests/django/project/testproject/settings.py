"""Settings of the test project: databases come from the test session (tests/django/conftest.py).

TASKKIT_DJANGO_DATABASES holds the DATABASES setting as JSON (a fresh SQLite
file, and fresh databases on the PostgreSQL and MariaDB test servers), so
manage.py run in a subprocess sees the same databases as the tests.
"""

import json
import os

import pymysql

# Django's MySQL backend needs the MySQLdb module (mysqlclient, which needs a
# compiler and the client library); PyMySQL stands in for it, told to report a
# mysqlclient version Django accepts.
pymysql.version_info = (2, 2, 1, "final", 0)
pymysql.install_as_MySQLdb()

SECRET_KEY = "taskkit-tests-only"
DEBUG = False
USE_TZ = True
INSTALLED_APPS = ["taskkit_sql.django", "shop"]
DATABASES = json.loads(os.environ["TASKKIT_DJANGO_DATABASES"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TASKS = {
    "default": {
        "BACKEND": "taskkit_sql.django.tasks.TaskkitBackend",
        "QUEUES": ["default", "reports"],
    }
}
TASKKIT = json.loads(os.environ.get("TASKKIT_DJANGO_TASKKIT", "{}"))
LOGGING = {
    "version": 1,
    # Without this, dictConfig silences every logger that exists already: in the
    # test process, taskkit's own, which later tests read through caplog.
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
ROOT_URLCONF = "testproject.urls"
ALLOWED_HOSTS = ["testserver"]
