"""``python -m taskkit_core``: the ``taskkit`` command."""

from taskkit_core.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports this module
    main()
