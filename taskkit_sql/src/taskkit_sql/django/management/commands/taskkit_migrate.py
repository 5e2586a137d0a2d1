"""``manage.py taskkit_migrate [--sql]``: create or upgrade taskkit's tables.

``manage.py migrate`` does the same for taskkit's database; this command is
for doing it alone, or printing the DDL (``--sql``) to apply it yourself.
"""

from __future__ import annotations

from ._taskkit import TaskkitCommand


class Command(TaskkitCommand):
    help = (
        "Create or upgrade taskkit's tables in TASKKIT['DATABASE'] (manage.py migrate does "
        "it too). Options are those of `taskkit migrate` (--sql, --namespace): see --help."
    )
    prefix = ("migrate", "--url", "django://")
