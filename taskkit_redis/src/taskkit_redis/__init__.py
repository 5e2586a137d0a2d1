"""taskkit-redis: taskkit backend on Redis."""
