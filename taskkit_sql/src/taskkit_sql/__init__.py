"""taskkit-sql: taskkit backend on SQLAlchemy Core."""
