"""taskkit 0.2's Django app: listing it in INSTALLED_APPS says where the integration went.

The error is raised when Django loads the app, at start-up, rather than
letting the application run without its task backend.
"""

from ..._django import DJANGO_GONE

raise ImportError(DJANGO_GONE)
