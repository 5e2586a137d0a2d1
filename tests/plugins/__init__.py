"""Tests of the third-party plugin path: the guide, the example plugin, broken plugins."""
