"""taskkit 0.2's backends: ``redis`` (now taskkit-redis) and ``django`` (not kept)."""
