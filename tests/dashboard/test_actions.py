"""Actions: each behind a confirmation, each changing the backend as it says (memory://)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from taskkit_core import Connection, NotFound, connect

from .support import csrf_of, failed, queued, queued_ids, sign_in


def confirm_and_act(client: TestClient, action: str, **params: str) -> str:
    """Open the confirmation page of ``action``, press its button; the next page's text."""
    page = client.get(f"/confirm/{action}", params={**params, "next": "/"})
    assert page.status_code == 200, page.text
    form = {
        "csrf": csrf_of(page.text),
        "next": "/",
        **{name: value for name, value in params.items()},
    }
    reply = client.post(f"/actions/{action}", data=form, follow_redirects=True)
    assert reply.status_code == 200, reply.text
    return reply.text


def flash(page: str) -> str:
    match = re.search(r'class="flash" role="status">([^<]*)<', page)
    assert match, "no one-line summary on the page"
    return match.group(1)


def received(connection: Connection) -> list[dict[str, object]]:
    return [dict(e) for e in connection.bridge.receive_events(timeout=0.5)]


@pytest.fixture
def listener(connection: Connection) -> Iterator[Connection]:
    """A second connection to the same store, whose bridge sees the events sent from now on."""
    other = connect(connection.backend.url, namespace=connection.backend.namespace)
    yield other
    other.close()


@pytest.mark.parametrize("action", ["pause", "resume", "shutdown"])
def test_a_group_control_sends_its_event_and_shows_on_the_overview(
    client: TestClient, connection: Connection, listener: Connection, action: str
) -> None:
    queued(connection.backend, "mail")
    sign_in(client)
    page = confirm_and_act(client, action, group="mail")
    assert received(listener) == [{"name": action, "groups": ["mail"]}]
    assert flash(page) == f"{action} sent to group &#39;mail&#39;"
    row = page.split('data-group="mail"')[1].split("</tr>")[0]
    badge = {"pause": "paused", "shutdown": "shut down", "resume": None}[action]
    assert (f">{badge}</span>" in row) if badge else ("badge" not in row)


def test_a_pause_sent_elsewhere_shows_as_paused(
    client: TestClient, connection: Connection, listener: Connection
) -> None:
    queued(connection.backend, "mail")
    sign_in(client)
    client.get("/")  # the dashboard's event reader is running from here on
    listener.bridge.send_event({"name": "pause", "groups": None})
    for _ in range(50):
        row = client.get("/").text.split('data-group="mail"')[1].split("</tr>")[0]
        if ">paused</span>" in row:
            break
    assert ">paused</span>" in row


def test_retry_queues_a_failed_task_again(client: TestClient, connection: Connection) -> None:
    task = failed(connection.backend, "mail", "ValueError: no")
    sign_in(client)
    page = confirm_and_act(client, "retry", task=task.id)
    assert flash(page) == "retry: 1 queued"
    assert task.id in queued_ids(connection.backend, "mail")


def test_cancel_cancels_a_queued_task(client: TestClient, connection: Connection) -> None:
    task = queued(connection.backend, "mail")
    sign_in(client)
    assert flash(confirm_and_act(client, "cancel", task=task.id)) == "cancel: 1 cancelled"
    assert task.id not in queued_ids(connection.backend, "mail")
    info = connection.backend.read_task(task.id)
    assert info is not None and info.state == "cancelled"


def test_purge_deletes_the_finished_tasks_of_the_group_only(
    client: TestClient, connection: Connection
) -> None:
    gone = failed(connection.backend, "mail", "x")
    kept = queued(connection.backend, "mail")
    elsewhere = failed(connection.backend, "other", "x")
    sign_in(client)
    page = confirm_and_act(client, "purge", group="mail", state="failed")
    assert flash(page) == "purged 1 failed task(s) of group &#39;mail&#39;"
    found = connection.backend.lookup_tasks(gone.id, kept.id, elsewhere.id)
    assert found[gone.id] is None and found[kept.id] and found[elsewhere.id]
    with pytest.raises(NotFound):
        connection.backend.get_result(gone.id)


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        ("purge", {"group": "mail", "state": "queued"}, "purge deletes finished tasks only"),
        ("pause", {"group": ""}, "group must not be empty"),
        ("retry", {}, "give 1 to 1000 task ids, got 0"),
        ("cancel", {"task": "a\x1bb"}, "not a task id"),
        ("explode", {"group": "mail"}, "unknown action"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    client: TestClient,
    connection: Connection,
    listener: Connection,
    action: str,
    params: dict[str, str],
    message: str,
) -> None:
    task = queued(connection.backend, "mail")
    sign_in(client)
    csrf = csrf_of(client.get("/").text)
    reply = client.post(f"/actions/{action}", data={"csrf": csrf, **params})
    assert reply.status_code == 400
    line = re.search(r'id="error">([^<]*)<', reply.text)
    assert line and message in line.group(1) and "\n" not in line.group(1)
    assert queued_ids(connection.backend, "mail") == {task.id}
    assert received(listener) == []


def test_an_action_is_logged_with_who_did_it(
    client: TestClient, connection: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="taskkit.dashboard")
    task = failed(connection.backend, "mail", "x")
    sign_in(client, user="ann", secret="ann-secret-9f2")
    confirm_and_act(client, "retry", task=task.id)
    assert "dashboard: ann (from testclient) did retry: retry: 1 queued" in caplog.messages


def test_the_confirmation_page_names_what_will_change(
    client: TestClient, connection: Connection, listener: Connection
) -> None:
    task = failed(connection.backend, "mail", "x")
    sign_in(client)
    page = client.get("/confirm/retry", params={"task": task.id}).text
    assert "Retry tasks?" in page and f'name="task" value="{task.id}"' in page
    assert 'id="confirm"' in page and 'method="post"' in page
    assert received(listener) == [] and task.id not in queued_ids(connection.backend, "mail")
