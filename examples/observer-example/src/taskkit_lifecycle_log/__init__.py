"""An example taskkit observer: the life of each task as JSON lines (see plugin.py)."""
