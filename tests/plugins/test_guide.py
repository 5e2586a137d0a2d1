"""plugins.md stays true: its hooks, signatures and examples match the code.

The guide marks code blocks with a hidden comment on the line before the
fence: ``<!-- runnable -->`` blocks are run (in the plugin venv, where
taskkit-acme is installed), ``<!-- file: PATH -->`` blocks must equal that
file of the repository and ``<!-- excerpt: PATH -->`` blocks must appear in it;
``<!-- skeleton: PATH -->`` and ``<!-- skeleton-excerpt: PATH -->`` do the same
with the files ``taskkit new-backend mydb`` writes.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from taskkit_core.cli.skeleton import render
from taskkit_core.observers import hookspecs as observer_hookspecs

from taskkit_core import (
    Backend,
    BackendRegistry,
    Capabilities,
    EventBridge,
    hookspecs,
    registry,
    testing,
)

from .venv import GUIDE, REPO, Venv

MARKER = re.compile(r"^<!-- (?:(runnable)|(file|excerpt|skeleton|skeleton-excerpt): (\S+)) -->$")


@dataclass(frozen=True)
class Block:
    """A fenced code block of the guide and the marker above it, if any."""

    line: int
    language: str
    code: str
    marker: str | None = None
    path: str | None = None


def blocks(text: str) -> list[Block]:
    """Every fenced code block of ``text``, in order."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("```"):
            index += 1
            continue
        end = lines.index("```", index + 1)
        above = MARKER.match(lines[index - 1]) if index else None
        found.append(
            Block(
                line=index + 1,
                language=lines[index][3:].strip(),
                code="\n".join(lines[index + 1 : end]) + "\n",
                marker=(above.group(1) or above.group(2)) if above else None,
                path=above.group(3) if above else None,
            )
        )
        index = end + 1
    return found


GUIDE_TEXT = GUIDE.read_text()
SKELETON = render("mydb")
BLOCKS = blocks(GUIDE_TEXT)
RUNNABLE = [b for b in BLOCKS if b.marker == "runnable"]


def squeeze(code: str) -> str:
    """Code without whitespace and trailing commas, so formatting does not matter."""
    return re.sub(r",([)\]])", r"\1", re.sub(r"\s+", "", code))


def def_header(function: Callable[..., Any]) -> str:
    """The ``def name(...) -> ...:`` header of ``function`` as written in its source."""
    source = inspect.getsource(function)
    start = source.index("def ")
    return source[start : source.index(":\n", start) + 1]


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, title) of every heading outside code blocks."""
    found, fenced = [], False
    for index, line in enumerate(text.splitlines()):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"^(#+) (.+)$", line)):
            found.append((index, len(match.group(1)), match.group(2)))
    return found


def section(title: str) -> str:
    """The guide's text under the heading ``title``, with its subsections."""
    lines, marks = GUIDE_TEXT.splitlines(), headings(GUIDE_TEXT)
    starts = [(i, level) for i, level, text in marks if text == title]
    assert starts, f"plugins.md has no heading {title!r}"
    start, level = starts[0]
    ends = [i for i, lvl, _ in marks if i > start and lvl <= level]
    return "\n".join(lines[start + 1 : ends[0] if ends else len(lines)]) + "\n"


def hookspec_functions() -> list[Callable[..., Any]]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return [f for _, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, marker)]


def test_the_guide_has_runnable_and_checked_blocks() -> None:
    assert len(RUNNABLE) >= 5
    assert {b.marker for b in BLOCKS} >= {"runnable", "file", "excerpt", "skeleton"}


@pytest.mark.parametrize("hook", hookspec_functions(), ids=lambda f: f.__name__)
def test_every_hook_has_a_section_with_its_exact_signature(hook: Callable[..., Any]) -> None:
    text = section(f"`{hook.__name__}`")
    code = [squeeze(b.code) for b in blocks(text)]
    assert squeeze(def_header(hook)) in code, f"the section must show {def_header(hook)}"
    assert re.search(r"Added in taskkit-core \d+\.\d+", text), "say which release added it"


def observer_hooks() -> list[Callable[..., Any]]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    members = inspect.getmembers(observer_hookspecs, inspect.isfunction)
    return [f for _, f in members if hasattr(f, marker)]


@pytest.mark.parametrize("hook", observer_hooks(), ids=lambda f: f.__name__)
def test_every_observer_hook_is_shown_with_its_exact_signature(hook: Callable[..., Any]) -> None:
    text = section("14. Observers")
    shown = squeeze("\n".join(b.code for b in blocks(text)))
    assert squeeze(def_header(hook)) in shown, f"Observers must show {def_header(hook)}"
    assert f"`{hook.__name__}" in text, "the table says when it runs"


def test_registry_add_is_shown_with_its_exact_signature() -> None:
    header = squeeze(def_header(BackendRegistry.add))
    assert any(squeeze(b.code) == header for b in BLOCKS), def_header(BackendRegistry.add)


@pytest.mark.parametrize("alias", ["Opener", "Migrator", "Dropper"])
def test_the_opener_migrate_and_drop_types_match_the_registry(alias: str) -> None:
    source = inspect.getsource(registry)
    (definition,) = re.findall(rf"^{alias} = .+$", source, re.M)
    assert f"\n{definition}\n" in GUIDE_TEXT


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Capabilities)])
def test_every_capability_has_a_row(name: str) -> None:
    assert f"\n| `{name}` |" in section("6. Capabilities")
    assert name in testing.CAPABILITY_SENTENCES


@pytest.mark.parametrize(
    "method",
    sorted(
        name
        for protocol in (Backend, EventBridge)
        for name, _ in inspect.getmembers(protocol, inspect.isfunction)
        if not name.startswith("_")
    ),
)
def test_every_protocol_method_is_named(method: str) -> None:
    assert f"`{method}`" in section("1. What a backend is")


@pytest.mark.parametrize("contract", [n for n in testing.__all__ if n.endswith("Contract")])
def test_every_contract_class_is_listed(contract: str) -> None:
    assert f"| `{contract}` |" in section("9. Running the conformance kit")


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.marker in ("file", "excerpt")], ids=lambda b: str(b.path)
)
def test_blocks_showing_the_example_are_its_files(block: Block) -> None:
    assert block.path is not None
    text = (REPO / block.path).read_text()
    if block.marker == "file":
        assert block.code == text, f"plugins.md line {block.line} differs from {block.path}"
    else:
        assert block.code in text, f"plugins.md line {block.line} is not in {block.path}"


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if b.marker in ("skeleton", "skeleton-excerpt")],
    ids=lambda b: str(b.path),
)
def test_blocks_showing_the_skeleton_are_what_new_backend_writes(block: Block) -> None:
    assert block.path is not None
    text = SKELETON[PurePosixPath(block.path)]
    if block.marker == "skeleton":
        assert block.code == text, f"plugins.md line {block.line} differs from {block.path}"
    else:
        assert block.code in text, f"plugins.md line {block.line} is not in {block.path}"


def test_links_to_repository_files_resolve() -> None:
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", GUIDE_TEXT)
    missing = [t for t in targets if not (REPO / t).exists()]
    assert targets
    assert missing == []


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: f"line{b.line}")
def test_runnable_blocks_run(block: Block, plugin_venv: Venv, tmp_path: Path) -> None:
    assert block.language == "python"
    script = tmp_path / "block.py"
    script.write_text(block.code)
    plugin_venv.run("python", str(script), cwd=tmp_path, timeout=120)
