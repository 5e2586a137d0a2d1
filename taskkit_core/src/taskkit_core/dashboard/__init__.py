"""taskkit's web dashboard: see and steer one backend from a browser.

``create_app(url=...)`` builds a Starlette application (serve it with
``taskkit dashboard`` or mount it in yours); ``DashboardSettings`` and
``Credentials`` say what it may do and who may do it. Needs the extra
``taskkit[dashboard]``.
"""

from .app import create_app
from .settings import Credentials, DashboardSettings

__all__ = ["Credentials", "DashboardSettings", "create_app"]
