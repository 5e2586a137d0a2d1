"""Imported first by every module of the integration that needs Django.

Without Django the import fails with one line naming the extra to install,
instead of a bare ``No module named 'django'``.
"""

from __future__ import annotations

INSTALL_HINT = 'taskkit\'s Django integration needs Django: pip install "taskkit[django]"'

try:
    import django
except ModuleNotFoundError:  # pragma: no cover - the tests run with Django installed
    raise ImportError(INSTALL_HINT) from None

__all__ = ["INSTALL_HINT", "django"]
