"""Why taskkit 0.2's Django backend is gone, said once for its two import paths."""

from . import PORTING_GUIDE

DJANGO_GONE = (
    "taskkit 0.2's Django backend (the app taskkit.contrib.django and taskkit.impl.django) is "
    "not part of taskkit 0.4: remove 'taskkit.contrib.django' from INSTALLED_APPS and move to "
    f"taskkit 0.4's Django integration: see {PORTING_GUIDE}; "
    'to keep running taskkit 0.2 until then, pin "taskkit==0.2.4"'
)
