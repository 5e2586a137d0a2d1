"""How a task function's arguments and result become bytes, and come back typed.

A codec serves one task function. The default, :class:`JsonCodec`, writes
the arguments as one JSON object (parameter name to value; defaults are not
stored, so the function's own defaults apply when it runs) and the result
as a JSON value, and reads them back into the types the function's
annotations name, with msgspec: datetimes, dates, times, timedeltas, UUIDs,
Decimals, bytes (base64), enums, tuples, sets, dataclasses, TypedDicts,
msgspec Structs, and pydantic models where pydantic is installed. An
unannotated parameter (or one annotated ``Any``) gets what JSON holds: a
datetime passed there arrives as its ISO 8601 string.

Another codec is any class whose constructor takes the task function and
that has the four methods of :class:`Codec`; give it to ``App(codec=...)``
or ``@app.task(codec=...)``.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, NotRequired, Protocol, TypedDict

import msgspec

from ..errors import TaskkitError


class Codec(Protocol):
    """Encodes the calls and results of one task function."""

    def encode_call(self, arguments: Mapping[str, Any]) -> bytes:
        """The bound arguments (parameter name to value) as bytes; TypeError names a bad one."""
        ...

    def decode_call(self, data: bytes) -> dict[str, Any]:
        """The arguments back, parameter name to value."""
        ...

    def encode_result(self, value: Any) -> bytes:
        """What the function returned, as bytes."""
        ...

    def decode_result(self, data: bytes) -> Any:
        """The stored result back as a value."""
        ...


CodecFactory = Callable[[Callable[..., Any]], Codec]
"""Makes the codec of a task function (a codec class is one)."""


class ResultEncodeError(TaskkitError, TypeError):
    """A task returned a value its codec cannot encode (the task fails, never retried)."""


def _enc_hook(value: Any) -> Any:
    """Values msgspec does not know: pydantic models (duck-typed), else TypeError."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"{type(value).__qualname__} objects cannot be encoded as JSON")


def _dec_hook(kind: type, value: Any) -> Any:
    """Types msgspec does not know: ``object`` (anything), pydantic models (duck-typed)."""
    if kind is object:
        return value
    validate = getattr(kind, "model_validate", None)
    if callable(validate):
        return validate(value)
    raise TypeError(f"{kind.__qualname__} cannot be decoded from JSON")


class JsonCodec:
    """Typed JSON with msgspec; the decoders are built on first use.

    Building them resolves the function's annotations, which may name
    classes defined after the function in its module.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self._encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
        self._decoders: tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]] | None = None

    def encode_call(self, arguments: Mapping[str, Any]) -> bytes:
        try:
            data = self._encoder.encode(arguments)
        except (TypeError, ValueError, msgspec.MsgspecError) as exc:
            name = _failing_argument(self._encoder, arguments)
            raise TypeError(f"{_argument(name)} cannot be encoded as JSON: {exc}") from None
        try:
            self._call_decoder().decode(data)  # what a worker will do: fail here, not there
        except msgspec.ValidationError as exc:
            name = _path_argument(str(exc))
            raise TypeError(f"{_argument(name)} does not match its annotation: {exc}") from None
        return data

    def decode_call(self, data: bytes) -> dict[str, Any]:
        arguments: dict[str, Any] = self._call_decoder().decode(data)
        return arguments

    def encode_result(self, value: Any) -> bytes:
        try:
            return self._encoder.encode(value)
        except (TypeError, ValueError, msgspec.MsgspecError) as exc:
            raise ResultEncodeError(
                f"the result of task function {_qualname(self.function)} cannot be encoded: {exc}"
            ) from None

    def decode_result(self, data: bytes) -> Any:
        return self._result_decoder().decode(data)

    def _call_decoder(self) -> msgspec.json.Decoder[Any]:
        return (self._decoders or self._build())[0]

    def _result_decoder(self) -> msgspec.json.Decoder[Any]:
        return (self._decoders or self._build())[1]

    def _build(self) -> tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
        hints = _type_hints(self.function)
        arguments = TypedDict(  # type: ignore[misc] # built from the signature at run time
            f"{_qualname(self.function)}_arguments", _fields(self.function, hints)
        )
        self._decoders = (
            msgspec.json.Decoder(arguments, dec_hook=_dec_hook),
            msgspec.json.Decoder(hints.get("return", Any), dec_hook=_dec_hook),
        )
        return self._decoders


def _qualname(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _type_hints(function: Callable[..., Any]) -> dict[str, Any]:
    """The function's annotations, resolved (async functions: the awaited return type)."""
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as exc:
        raise TypeError(
            f"the annotations of task function {_qualname(function)} cannot be resolved "
            f"({type(exc).__name__}: {exc}); import the types they name at module level"
        ) from None
    if "return" in hints and hints["return"] is type(None):
        hints["return"] = None
    return hints


def _fields(function: Callable[..., Any], hints: Mapping[str, Any]) -> dict[str, Any]:
    """One TypedDict field per parameter; those with defaults (and * and **) may be absent."""
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        kind = hints.get(parameter.name, Any)
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            fields[parameter.name] = NotRequired[list[kind]]  # type: ignore[valid-type]
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            fields[parameter.name] = NotRequired[dict[str, kind]]  # type: ignore[valid-type]
        elif parameter.default is not inspect.Parameter.empty:
            fields[parameter.name] = NotRequired[kind]
        else:
            fields[parameter.name] = kind
    return fields


_PATH = re.compile(r"at `\$\.([A-Za-z_]\w*)")


def _argument(name: str | None) -> str:
    return "the arguments" if name is None else f"argument {name!r}"


def _path_argument(message: str) -> str | None:
    """The parameter a validation error's path (``at `$.name```) starts with."""
    match = _PATH.search(message)
    return None if match is None else match.group(1)


def _failing_argument(encoder: msgspec.json.Encoder, arguments: Mapping[str, Any]) -> str | None:
    """The first argument that cannot be encoded on its own."""
    for name, value in arguments.items():
        try:
            encoder.encode(value)
        except (TypeError, ValueError, msgspec.MsgspecError):
            return name
    return None
