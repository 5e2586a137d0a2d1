"""No models: taskkit's tables belong to taskkit's own migrations (Alembic), not Django's.

The module exists because Django sends ``post_migrate`` only to apps with a
models module; ``apps`` uses that signal to bring taskkit's tables up to date
after ``manage.py migrate``.
"""
