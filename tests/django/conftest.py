"""The fixtures of the Django tests (tests/harness/django_fixtures.py: a real project on
fresh SQLite, PostgreSQL and MariaDB databases, set up once per session)."""

from harness.django_fixtures import alias, django_project

__all__ = ["alias", "django_project"]
