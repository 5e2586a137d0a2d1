"""The read-only pages: overview, chart, group, task, workers, schedules.

Each page is a plain function of the request, run on Starlette's thread
pool (backend calls block). With ``?part=1`` a page renders only its
table, which htmx polls to refresh it in place.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from ..errors import BackendUnavailable, InvalidTaskError, TaskkitError
from ..records import TaskState
from ..task import check_name
from .auth import actor, to_sign_in
from .charts import throughput_chart, timing_chart
from .context import Dashboard
from .jobcontrol import FINISHED, JobControlMissing
from .overview import group_page, totals
from .schedules import schedule_rows
from .tasks import extra_fields, headers, preview, task_page, timeline
from .workers import read_workers

logger = logging.getLogger("taskkit.dashboard")

Page = Callable[[Request, Dashboard], Response]

MAX_QUERY = 1000


def dashboard(request: Request) -> Dashboard:
    """The Dashboard this request belongs to."""
    found: Dashboard = request.app.state.dashboard
    found.controls.start()  # mounted apps get no lifespan events: start on first use
    return found


def query(request: Request, name: str) -> str:
    """A query parameter ("" when absent); an over-long one is a bad request."""
    value = request.query_params.get(name, "")
    if len(value) > MAX_QUERY:
        raise InvalidTaskError(f"the {name} parameter is {len(value)} characters long")
    return value


def is_part(request: Request) -> bool:
    return request.query_params.get("part") == "1"


def guarded(page: Page) -> Callable[[Request], Response]:
    """``page`` behind the sign-in (when credentials exist) and with errors as one-line pages."""

    @functools.wraps(page)
    def endpoint(request: Request) -> Response:
        board = dashboard(request)
        if board.credentials.configured and actor(request, board.credentials) is None:
            return to_sign_in(request)
        try:
            return page(request, board)
        except Exception as exc:
            return error_page(request, board, exc)

    return endpoint


STATUS = {InvalidTaskError: 400, JobControlMissing: 501, BackendUnavailable: 503}


def error_page(request: Request, board: Dashboard, exc: Exception) -> Response:
    """One line saying what went wrong, without the URL's password; details in the log."""
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
    if isinstance(exc, TaskkitError):
        message = board.scrub(f"{exc}")
        logger.warning("dashboard: %s: %s", request.url.path, message)
    else:
        message = "an unexpected error: the dashboard's log has the details"
        logger.error(
            "dashboard: %s failed: %s", request.url.path, board.scrub(traceback.format_exc())
        )
    return board.render(request, "error.html", {"message": message}, status=status)


@guarded
def overview(request: Request, board: Dashboard) -> Response:
    stats = board.stats.get()
    page = group_page(
        stats,
        board.controls,
        query(request, "after") or None,
        query(request, "match"),
        board.settings.page_size,
    )
    context = {
        "page": page,
        "totals": totals(stats),
        "match": query(request, "match"),
        "taken": stats.taken,
    }
    return board.render(request, "_groups.html" if is_part(request) else "overview.html", context)


@guarded
def chart(request: Request, board: Dashboard) -> Response:
    buckets = board.chart.get()
    context = {
        "throughput": throughput_chart(buckets),
        "timing": timing_chart(buckets),
        "job_control": board.jobs_or_none() is not None,
    }
    return board.render(request, "_chart.html", context)


def _state(request: Request) -> TaskState:
    value = query(request, "state") or TaskState.QUEUED.value
    try:
        return TaskState(value)
    except ValueError:
        raise InvalidTaskError(f"unknown state {value!r}") from None


@guarded
def group(request: Request, board: Dashboard) -> Response:
    name = check_name("group", query(request, "g"))
    state, task_name = _state(request), query(request, "name")
    page = task_page(
        board.jobs(),
        name,
        state,
        query(request, "before") or None,
        task_name,
        board.settings.page_size,
    )
    context = {
        "group": name,
        "state": state,
        "states": list(TaskState),
        "page": page,
        "name": task_name,
        "control": board.stats.get().control(name, board.controls),
        "finished": FINISHED,
        "every_task": [("task", info.task.id) for info in page.rows],
    }
    return board.render(request, "_tasks.html" if is_part(request) else "group.html", context)


@guarded
def task(request: Request, board: Dashboard) -> Response:
    task_id = query(request, "id")
    info = board.jobs().read_task(task_id) if task_id else None
    if info is None:
        raise InvalidTaskError(f"no task with id {task_id!r} (finished tasks go after their ttl)")
    context = {
        "info": info,
        "preview": preview(info.task.data, board.settings.preview_bytes),
        "timeline": timeline(info),
        "extra": extra_fields(info),
        "headers": headers(info),
    }
    return board.render(request, "_task.html" if is_part(request) else "task.html", context)


@guarded
def workers(request: Request, board: Dashboard) -> Response:
    found = read_workers(
        board.backend,
        board.settings.worker_ttl,
        query(request, "after") or None,
        board.settings.page_size,
    )
    context = {"workers": found, "worker_ttl": board.settings.worker_ttl}
    return board.render(request, "_workers.html" if is_part(request) else "workers.html", context)


@guarded
def schedules(request: Request, board: Dashboard) -> Response:
    known = board.schedules is not None
    rows = schedule_rows(board.backend, board.schedules) if board.schedules else []
    context = {"rows": rows, "known": known}
    return board.render(
        request, "_schedules.html" if is_part(request) else "schedules.html", context
    )
