"""Encoding: typed JSON by default, pydantic models where installed, codecs per task or app."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from taskkit_core import App, Failed, JsonCodec

from .conftest import StartWorkers

pytest.importorskip("pydantic")
from pydantic import BaseModel


class Customer(BaseModel):
    name: str
    since: datetime


class TextCodec:
    """Stores the one ``text`` argument as UTF-8 and results as their str."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def encode_call(self, arguments: Mapping[str, Any]) -> bytes:
        return str(arguments["text"]).encode()

    def decode_call(self, data: bytes) -> dict[str, Any]:
        return {"text": data.decode()}

    def encode_result(self, value: Any) -> bytes:
        return str(value).encode()

    def decode_result(self, data: bytes) -> Any:
        return data.decode()


app = App("memory://", namespace="codecs")


@app.task
def welcome(customer: Customer) -> Customer:
    return Customer(name=customer.name.upper(), since=customer.since)


@app.task(codec=TextCodec)
def shout(text: str) -> str:
    return text.upper() + "!"


@app.task
def loose(when: Any) -> Any:
    return when


@app.task
def unencodable() -> object:
    return object()


@pytest.fixture
def codec_app() -> Iterator[App]:
    yield app
    app.kit.backend.destroy_all()


def test_pydantic_models_travel_as_themselves(codec_app: App, workers: StartWorkers) -> None:
    since = datetime(2020, 5, 17, 12, 0, tzinfo=UTC)
    result = welcome.delay(Customer(name="ann", since=since))
    (task,) = codec_app.kit.backend.lookup_tasks(result.id).values()
    assert task is not None and b'"since":"2020-05-17T12:00:00Z"' in task.data
    workers(codec_app)
    assert result.get(timeout=10) == Customer(name="ANN", since=since)


def test_a_codec_per_task_and_plain_json_for_untyped_parameters(
    codec_app: App, workers: StartWorkers
) -> None:
    shouted, loosely = shout.delay("hey"), loose.delay(datetime(2020, 1, 1, tzinfo=UTC))
    (task,) = codec_app.kit.backend.lookup_tasks(shouted.id).values()
    assert task is not None and task.data == b"hey"
    workers(codec_app)
    assert shouted.get(timeout=10) == "HEY!"
    assert loosely.get(timeout=10) == "2020-01-01T00:00:00Z", "Any gets what JSON holds"


def test_an_app_wide_codec(codec_app: App) -> None:
    assert App("memory://").codec is JsonCodec
    texts = App("memory://", codec=TextCodec)

    @texts.task
    def echo(text: str) -> str:
        return text

    assert echo.codec.encode_call({"text": "x"}) == b"x"


def test_a_result_that_cannot_be_encoded_fails_the_task(
    codec_app: App, workers: StartWorkers
) -> None:
    result = unencodable.delay()
    workers(codec_app)
    with pytest.raises(Failed, match="ResultEncodeError: the result of task function"):
        result.get(timeout=10)
