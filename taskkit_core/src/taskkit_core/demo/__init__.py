"""The example app that ``taskkit demo`` runs (see ``app.py``); it ships in the package
so the demo works from an installed wheel."""
