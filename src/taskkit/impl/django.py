"""taskkit 0.2's ``taskkit.impl.django``: importing it says where the Django integration went."""

from .._django import DJANGO_GONE

raise ImportError(DJANGO_GONE)
