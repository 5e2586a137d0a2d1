"""``taskkit new-backend NAME``: write the skeleton of a backend plugin to start from.

It needs no clone of the taskkit repository: the templates ship with
taskkit-core (see ``skeleton``).
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigurationError
from ..plugins import list_backends
from .options import option, taskkit_command
from .skeleton import check_name, render, write

NEXT_STEPS = """\
next:
  cd {directory}
  pip install -e ".[test]"
  taskkit backends      # {name}:// is listed, from taskkit-{name}
  pytest -x             # the conformance kit: the first failure names what to write next
The guide for what goes where is plugins.md ("Start in five minutes")."""


def check_free(name: str) -> str:
    """``name`` unless an installed distribution already serves ``name://``."""
    taken = {b.scheme: b.distribution for b in list_backends()}
    if name in taken:
        raise ConfigurationError(
            f"{name}:// is already served by {taken[name]}, installed here; two plugins cannot "
            "share a URL scheme, so choose another name (nothing was written)"
        )
    return name


@click.command("new-backend")
@click.argument("name")
@option(
    "--directory",
    env="TASKKIT_NEW_BACKEND_DIRECTORY",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the project (default: ./taskkit-NAME); must not exist or be empty.",
)
@taskkit_command
def new_backend_command(name: str, directory: Path | None) -> int:
    """Write a new backend plugin project for NAME:// URLs.

    NAME becomes the URL scheme, the package taskkit_NAME and the
    distribution taskkit-NAME. The project has the entry point, the hook,
    an opener, config, schema, a backend whose every method raises
    NotImplementedError under its contract, locks, events, the capability
    declaration, and tests that run taskkit's conformance kit.
    """
    files = render(check_free(check_name(name)))
    target = directory or Path(f"taskkit-{name}")
    write(files, target)
    click.echo(f"wrote {len(files)} files to {target}/: a taskkit backend for {name}:// URLs")
    click.echo(NEXT_STEPS.format(directory=target, name=name))
    return 0
