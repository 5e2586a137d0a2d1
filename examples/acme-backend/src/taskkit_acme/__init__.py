"""taskkit-acme: an example taskkit backend on SQLite, the worked example of plugins.md.

Applications never import this package: they open ``acme:///path/to/file.db``
with ``taskkit_core.Kit.from_url`` and taskkit finds the backend through the
``taskkit`` entry point. The modules, in reading order: plugin (the hook),
config (URL and options), schema (tables, migrate, drop), database
(connection and transactions), backend, locks, events.

Nothing is imported here, so loading the plugin stays cheap.
"""

__all__: list[str] = []
