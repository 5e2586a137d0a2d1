"""Method stubs copied from taskkit's protocols, so a new backend starts from the contract.

The signature and docstring of each public method of a protocol class
(``Backend``, ``EventBridge``, ``Lock``) are taken from its source as
written, and the body becomes the one given, by default a
``NotImplementedError`` naming the method. The stubs therefore follow the
protocols of the taskkit-core that is installed, renames included.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import taskkit_core

ABC_NAMES = {"Callable", "Collection", "Iterable", "Iterator", "Mapping", "Sequence"}
TYPING_NAMES = {"Any"}


@dataclass(frozen=True)
class Protocol:
    """One protocol class, read from its source."""

    cls: type
    lines: list[str]
    node: ast.ClassDef

    @classmethod
    def of(cls, protocol: type) -> Protocol:
        source = textwrap.dedent(inspect.getsource(protocol))
        node = ast.parse(source).body[0]
        assert isinstance(node, ast.ClassDef), protocol
        return cls(protocol, source.splitlines(), node)

    def docstring(self) -> str:
        """The class docstring, as written (with its quotes and indentation)."""
        return self._segment(self.node.body[0])

    def methods(self) -> Iterator[ast.FunctionDef]:
        """The public methods, in the order the protocol declares them."""
        for node in self.node.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield node

    def stub(self, method: ast.FunctionDef, body: str) -> str:
        """``method`` with its signature and docstring as written and ``body`` inside."""
        first = method.body[0]
        header = self.lines[method.lineno - 1 : first.lineno]
        if header[-1][: first.col_offset].strip():  # ``def f(...) -> T: ...`` ends the header
            header[-1] = header[-1].rsplit(" ...", 1)[0]
        else:
            header.pop()
        doc = self._segment(first) + "\n" if _is_docstring(first) else ""
        return "\n".join(header) + f"\n{doc}        {body}\n"

    def names_used(self) -> set[str]:
        """Every name the public methods' annotations mention."""
        return {
            node.id
            for method in self.methods()
            for node in ast.walk(method.args)
            if isinstance(node, ast.Name)
        } | {
            node.id
            for method in self.methods()
            if method.returns is not None
            for node in ast.walk(method.returns)
            if isinstance(node, ast.Name)
        }

    def _segment(self, node: ast.stmt) -> str:
        assert node.end_lineno is not None
        return "\n".join(self.lines[node.lineno - 1 : node.end_lineno])


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def not_implemented(scheme: str, name: str) -> str:
    """The body of a stub: an error that names the method still to write."""
    message = f'"{scheme}:// does not implement {name} yet"'
    if len(message) > 100 - len("        raise NotImplementedError()"):
        return f"raise NotImplementedError(\n            {message}\n        )"
    return f"raise NotImplementedError({message})"


def stubs(protocol: Protocol, scheme: str, bodies: Mapping[str, str] | None = None) -> str:
    """Every public method of ``protocol`` as a stub, a blank line between two."""
    given = bodies or {}
    return "\n".join(
        protocol.stub(m, given.get(m.name) or not_implemented(scheme, m.name))
        for m in protocol.methods()
    ).rstrip("\n")


def source_of(name: str, protocol: Protocol) -> str:
    """The module to import ``name`` from, as a plugin would write it."""
    if name in ABC_NAMES:
        return "collections.abc"
    if name in TYPING_NAMES:
        return "typing"
    if name in taskkit_core.__all__:
        return "taskkit_core"
    if name in vars(sys.modules[protocol.cls.__module__]):
        return protocol.cls.__module__
    raise LookupError(f"cannot tell where {name!r} (used by {protocol.cls.__name__}) comes from")


def imports(*protocols: Protocol, extra: Mapping[str, str] | None = None) -> str:
    """The import lines the stubs of ``protocols`` need, grouped and sorted as isort does."""
    wanted: dict[str, set[str]] = {}
    for module, name in (extra or {}).items():
        wanted.setdefault(module, set()).update(name.split())
    for protocol in protocols:
        for name in protocol.names_used() - set(vars(builtins)):
            wanted.setdefault(source_of(name, protocol), set()).add(name)
    std = [m for m in wanted if m.partition(".")[0] in sys.stdlib_module_names]
    groups = [sorted(std), sorted(set(wanted) - set(std))]
    return "\n\n".join(
        "\n".join(from_import(m, wanted[m]) for m in group) for group in groups if group
    )


def from_import(module: str, names: set[str]) -> str:
    """``from module import a, B`` in isort's order, wrapped in parentheses when long."""
    ordered = sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 100:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in ordered) + ")"
