"""What the dashboard's pages show, read through the Backend protocol (memory://)."""

from __future__ import annotations

import re
from typing import cast

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from taskkit_core.dashboard import DashboardSettings, create_app
from taskkit_core.dashboard.jobcontrol import METHODS
from taskkit_core.testing import FAST_SETTINGS, RecordingHandler, wait_until
from taskkit_core.worker.roster import live_workers

from taskkit_core import Backend, Connection, Kit, RegularSchedule, ScheduleEntry, connect

from .support import (
    READ_ONLY,
    TOKEN,
    app_over,
    csrf_of,
    failed,
    queued,
    refresh_lease,
    sign_in,
)


def rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'data-{attribute}="([^"]*)"', html)


def test_the_overview_shows_every_groups_counts(client: TestClient, connection: Connection) -> None:
    backend = connection.backend
    for _ in range(3):
        queued(backend, "mail")
    failed(backend, "mail", "ValueError: no")
    queued(backend, "reports")
    sign_in(client)
    page = client.get("/").text
    assert rows(page, "group") == ["mail", "reports"]
    mail = page.split('data-group="mail"')[1].split("</tr>")[0]
    numbers = re.findall(r'class="n[^"]*">(?:<a[^>]*>)?([\d,.\-]+)', mail)
    assert numbers[:7] == ["3", "3", "0", "0", "1", "0", numbers[6]]  # queued due running ok failed
    assert "2 groups with tasks" in page


def test_the_group_list_is_paged_and_filtered(connection: Connection) -> None:
    for n in range(7):
        queued(connection.backend, f"group-{n:02d}")
    settings = DashboardSettings(page_size=3)
    with TestClient(create_app(connection=connection, settings=settings)) as client:
        first = client.get("/").text
        assert rows(first, "group") == ["group-00", "group-01", "group-02"]
        second = client.get("/", params={"after": "group-02"}).text
        assert rows(second, "group") == ["group-03", "group-04", "group-05"]
        last = client.get("/", params={"after": "group-05"}).text
        assert rows(last, "group") == ["group-06"] and 'rel="next"' not in last
        assert rows(client.get("/", params={"match": "P-04"}).text, "group") == ["group-04"]


def test_a_fragment_is_only_the_table_htmx_refreshes(
    client: TestClient, connection: Connection
) -> None:
    queued(connection.backend, "mail")
    sign_in(client)
    part = client.get("/", params={"part": "1"}).text
    assert part.lstrip().startswith('<div id="groups"') and "<html" not in part
    assert 'hx-trigger="every 1.0s"' in part and 'hx-get="/?part=1"' in part


def test_the_group_page_pages_tasks_newest_first_and_filters_by_name(
    connection: Connection,
) -> None:
    sends = [queued(connection.backend, "mail", name=f"send-{n}").id for n in range(5)]
    other = queued(connection.backend, "mail", name="other").id
    newest = sorted([*sends, other], reverse=True)  # ids sort by creation time
    with TestClient(
        create_app(connection=connection, settings=DashboardSettings(page_size=2))
    ) as c:
        page = c.get("/group", params={"g": "mail", "state": "queued"}).text
        assert rows(page, "task") == newest[:2]
        older = c.get("/group", params={"g": "mail", "before": newest[1]}).text
        assert rows(older, "task") == newest[2:4]
        named = c.get("/group", params={"g": "mail", "name": "SEND"}).text
        assert rows(named, "task") == sorted(sends, reverse=True)[:2]
        assert c.get("/group", params={"g": "mail", "state": "failed"}).status_code == 200


def test_the_task_page_shows_fields_error_timeline_and_a_capped_payload(
    connection: Connection,
) -> None:
    task = failed(
        connection.backend, "mail", "Traceback (most recent call last):\n  boom\nValueError: x"
    )
    settings = DashboardSettings(preview_bytes=10)
    with TestClient(create_app(connection=connection, settings=settings)) as client:
        page = client.get("/task", params={"id": task.id}).text
    assert 'id="task-state">failed<' in page and 'id="task-name">boom<' in page
    assert "Traceback (most recent call last):\n  boom\nValueError: x" in page
    assert "2 of 2 bytes" in page and "created (put)" in page


def test_a_long_payload_is_cut_to_the_preview_size(connection: Connection) -> None:
    task = queued(connection.backend, "mail", data=b"a" * 50 + b"<end>")
    settings = DashboardSettings(preview_bytes=20)
    with TestClient(create_app(connection=connection, settings=settings)) as client:
        page = client.get("/task", params={"id": task.id}).text
    assert "20 of 55 bytes" in page and "(cut)" in page
    assert f'id="task-payload">{"a" * 20}</pre>' in page


def test_an_unknown_task_is_one_line_and_a_404ish_400(client: TestClient) -> None:
    sign_in(client)
    reply = client.get("/task", params={"id": "nope"})
    assert reply.status_code == 400
    assert re.search(r'id="error">no task with id &#39;nope&#39;[^<\n]*<', reply.text)


def test_the_workers_page_shows_each_lease_and_what_runs_there(
    client: TestClient, connection: Connection
) -> None:
    refresh_lease(connection.backend, "host-a:4242:beef", ttl=30.0)
    task = queued(connection.backend, "mail")
    claimed = connection.backend.claim_tasks("mail", "host-a:4242:beef", 1)
    assert [c.task.id for c in claimed] == [task.id]
    sign_in(client)
    page = client.get("/workers").text
    row = page.split('data-worker="host-a:4242:beef"')[1].split("</tr>")[0]
    assert "<td>host-a</td>" in row and ">4242<" in row and "expires in" in row
    assert "mail</a> (1)" in row
    assert '<td class="serves">?</td>' in row  # no roster card: what it serves is not known


def test_the_workers_page_shows_what_a_live_worker_serves_and_paused(
    client: TestClient, connection: Connection
) -> None:
    kit = Kit(connection.backend, connection.bridge, RecordingHandler(), settings=FAST_SETTINGS)
    with kit.start_threads({"mail": 2, "reports": 1}, polling_interval=0.05) as runtime:
        kit.send_pause_event({"reports"})
        sign_in(client)

        def row() -> str:
            page = client.get("/workers").text
            return page.split(f'data-worker="{runtime.worker_id}"')[1].split("</tr>")[0]

        wait_until(lambda: "(paused)" in row())
        serves = row().split('class="serves">')[1].split("</td>")[0]
        assert re.sub(r"<[^>]+>", "", serves) == "mail 2, reports 1 (paused)"


def test_the_schedules_page_shows_the_last_and_next_point(connection: Connection) -> None:
    every_minute = RegularSchedule(seconds=0)
    entry = ScheduleEntry("tick", every_minute, "cron", "tick", b"{}")
    with TestClient(app_over(connection, READ_ONLY, schedules={"main": [entry]})) as client:
        page = client.get("/schedules").text
    row = page.split("<tbody>")[1].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells[0] == "main" and cells[1] == "tick" and cells[3] == "tick"
    assert cells[4] == "-"  # no point fired yet
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:00 ", cells[5])  # next: the next whole minute


def test_without_a_schedule_the_page_says_where_to_give_one(client: TestClient) -> None:
    sign_in(client)
    assert "--app module:kit" in client.get("/schedules").text


class ProtocolThreeBackend:
    """A backend as a plugin written for the 0.3 protocol has it: no job-control methods."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name in METHODS:
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_without_job_control_task_pages_say_so_in_one_line() -> None:
    memory = connect("memory://dash_plain")
    plain = Connection(cast(Backend, ProtocolThreeBackend(memory.backend)), memory.bridge)
    try:
        with TestClient(create_app(connection=plain, settings=READ_ONLY)) as client:
            reply = client.get("/group", params={"g": "mail"})
            assert client.get("/").status_code == 200  # the overview needs no job control
    finally:
        plain.close()
    assert reply.status_code == 501
    assert "need a backend with job control" in reply.text


def test_mounted_in_another_app_its_links_follow_the_mount_path(connection: Connection) -> None:
    task = failed(connection.backend, "mail", "x")
    dashboard = app_over(connection)
    host = Starlette(routes=[Mount("/ops/taskkit", app=dashboard)])
    with TestClient(host) as client:
        assert (
            client.get("/ops/taskkit/", follow_redirects=False)
            .headers["location"]
            .startswith("http://testserver/ops/taskkit/login?next=%2Fops%2Ftaskkit%2F")
        )
        sign_in_at(client, "/ops/taskkit")
        page = client.get("/ops/taskkit/group", params={"g": "mail", "state": "failed"}).text
        assert "http://testserver/ops/taskkit/static/htmx.min.js" in page
        assert (
            f"/ops/taskkit/confirm/retry?task={task.id}&amp;next=%2Fops%2Ftaskkit%2Fgroup" in page
        )
        assert client.get("/ops/taskkit/static/htmx.min.js").status_code == 200


def sign_in_at(client: TestClient, prefix: str) -> None:
    page = client.get(f"{prefix}/login")
    form = {"csrf": csrf_of(page.text), "secret": TOKEN, "next": f"{prefix}/"}
    reply = client.post(f"{prefix}/login", data=form, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == f"{prefix}/"


def test_the_overview_shows_a_group_paused_by_the_workers_themselves(
    connection: Connection,
) -> None:
    """Paused before the dashboard started (it saw no event): the workers' roster says so."""
    kit = Kit(connection.backend, connection.bridge, RecordingHandler(), settings=FAST_SETTINGS)
    queued(connection.backend, "mail")
    queued(connection.backend, "reports")
    with kit.start_threads({"mail": 1, "reports": 1}, polling_interval=0.05):
        kit.send_pause_event({"reports"})
        wait_until(lambda: live_workers(connection.backend).paused_groups().get("reports"))
        late = connect(connection.backend.url, namespace=connection.backend.namespace)
        try:  # a bridge made after the pause: it never sees that event
            with TestClient(create_app(connection=late, settings=READ_ONLY)) as client:
                page = client.get("/").text
        finally:
            late.close()
    states = {
        group: page.split(f'data-group="{group}"')[1].split('class="state">')[1].split("</td>")[0]
        for group in ("mail", "reports")
    }
    assert "paused" in states["reports"] and "paused" not in states["mail"]
