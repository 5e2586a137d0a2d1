"""The actions: pause, resume, shut down a group; retry, cancel, purge tasks.

Each is offered only when the dashboard was started with actions allowed,
to a signed-in person, behind a confirmation page whose form carries the
session's CSRF token. What was done, by whom and from where, goes to the
``taskkit.dashboard`` log at INFO.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import InvalidTaskError
from ..events import make_event
from ..records import TaskState
from ..task import check_name
from .auth import actor, check_csrf, safe_next
from .context import Dashboard
from .jobcontrol import FINISHED
from .pages import dashboard, error_page, guarded
from .text import visible

logger = logging.getLogger("taskkit.dashboard")

MAX_TASKS = 1000
MAX_ID_LENGTH = 200


@dataclass(frozen=True)
class Targets:
    """What an action applies to: a group, task ids, finished states (purge)."""

    group: str | None = None
    task_ids: list[str] = field(default_factory=list)
    states: list[TaskState] = field(default_factory=list)


@dataclass(frozen=True)
class Action:
    """One action: its title, what it applies to, and what confirming it does."""

    name: str
    title: str
    on: str  # "group", "tasks" or "purge"
    explain: str
    run: Callable[[Dashboard, Targets], str]


def _control(name: str) -> Callable[[Dashboard, Targets], str]:
    def run(board: Dashboard, targets: Targets) -> str:
        assert targets.group is not None
        event = make_event(name, [targets.group])
        board.bridge.send_event(event)
        board.controls.note(event)
        return f"{name} sent to group {targets.group!r}"

    return run


def _retry(board: Dashboard, targets: Targets) -> str:
    results = board.jobs().retry_tasks(*targets.task_ids)
    board.stats.forget()
    return "retry: " + _tally(results.values())


def _cancel(board: Dashboard, targets: Targets) -> str:
    results = board.jobs().cancel_tasks(*targets.task_ids)
    board.stats.forget()
    return "cancel: " + _tally(results.values())


def _purge(board: Dashboard, targets: Targets) -> str:
    assert targets.group is not None
    count = board.jobs().purge_tasks(targets.group, targets.states)
    board.stats.forget()
    states = ", ".join(s.value for s in targets.states)
    return f"purged {count} {states} task(s) of group {targets.group!r}"


def _tally(results: Iterable[str]) -> str:
    """How many of each result, e.g. "2 queued, 1 not_found"."""
    counts = Counter(str(result) for result in results)
    return ", ".join(f"{n} {result}" for result, n in sorted(counts.items())) or "nothing"


ACTIONS = {
    a.name: a
    for a in (
        Action(
            "pause",
            "Pause group",
            "group",
            "Its workers take no new tasks until resumed; running tasks finish.",
            _control("pause"),
        ),
        Action(
            "resume",
            "Resume group",
            "group",
            "Paused workers of the group take tasks again.",
            _control("resume"),
        ),
        Action(
            "shutdown",
            "Shut down group",
            "group",
            "Workers serving the group finish their "
            "running tasks and stop; they do not come back by themselves.",
            _control("shutdown"),
        ),
        Action(
            "retry",
            "Retry tasks",
            "tasks",
            "Failed or cancelled tasks are queued again, due now, with their attempts reset.",
            _retry,
        ),
        Action(
            "cancel",
            "Cancel tasks",
            "tasks",
            "Queued tasks are cancelled at once; running "
            "ones are asked to stop at their worker's next heartbeat.",
            _cancel,
        ),
        Action(
            "purge",
            "Purge finished tasks",
            "purge",
            "The group's finished tasks in these "
            "states are deleted with their results. This cannot be undone.",
            _purge,
        ),
    )
}


def action_of(request: Request) -> Action:
    name = request.path_params["action"]
    if name not in ACTIONS:
        raise InvalidTaskError(f"unknown action {name!r}")
    return ACTIONS[name]


def _task_id(value: str) -> str:
    if (
        not value
        or len(value) > MAX_ID_LENGTH
        or visible(value) != value
        or not value.isprintable()
    ):
        raise InvalidTaskError(f"not a task id: {value[:MAX_ID_LENGTH]!r}")
    return value


def targets_of(action: Action, values: FormData | ImmutableMultiDict[str, str]) -> Targets:
    """The action's targets from a form or query; InvalidTaskError for anything odd."""
    if action.on == "tasks":
        ids = [_task_id(str(v)) for v in values.getlist("task")]
        if not 1 <= len(ids) <= MAX_TASKS:
            raise InvalidTaskError(f"give 1 to {MAX_TASKS} task ids, got {len(ids)}")
        return Targets(task_ids=list(dict.fromkeys(ids)))
    group = check_name("group", str(values.get("group", "")))
    if action.on == "group":
        return Targets(group=group)
    return Targets(group=group, states=_finished_states(values.getlist("state")))


def _finished_states(values: Sequence[object]) -> list[TaskState]:
    chosen = [str(v) for v in values] or [s.value for s in FINISHED]
    wrong = [v for v in chosen if v not in {s.value for s in FINISHED}]
    if wrong:
        raise InvalidTaskError(f"purge deletes finished tasks only, not {wrong[0]!r}")
    return [TaskState(v) for v in dict.fromkeys(chosen)]


def _refusal(request: Request, board: Dashboard) -> Response | None:
    """Why this request may not act (a page saying so), or None when it may."""
    if not board.settings.allow_actions:
        message = "this dashboard is read-only: start it with --allow-actions to act"
        return board.render(request, "error.html", {"message": message}, status=403)
    if actor(request, board.credentials) is None:
        message = "sign in to act"
        return board.render(request, "error.html", {"message": message}, status=401)
    return None


@guarded
def confirm(request: Request, board: Dashboard) -> Response:
    """The confirmation page of an action: what it will do, and the form that does it."""
    refused = _refusal(request, board)
    if refused is not None:
        return refused
    action = action_of(request)
    targets = targets_of(action, request.query_params)
    context = {
        "action": action,
        "targets": targets,
        "finished": FINISHED,
        "back": safe_next(request.query_params.get("next"), request.url_for("overview").path),
    }
    return board.render(request, "confirm.html", context)


async def perform(request: Request) -> Response:
    """Do a confirmed action (POST), log it, and go back with a one-line summary."""
    board = dashboard(request)
    refused = _refusal(request, board)
    if refused is not None:
        return refused
    form = await request.form()
    if not check_csrf(request, form):
        message = "the form's CSRF token is missing or out of date: reload the page and try again"
        return board.render(request, "error.html", {"message": message}, status=403)
    try:
        action = action_of(request)
        summary = await run_in_threadpool(action.run, board, targets_of(action, form))
    except Exception as exc:
        return await run_in_threadpool(error_page, request, board, exc)
    who = actor(request, board.credentials)
    client = request.client.host if request.client else "?"
    logger.info("dashboard: %s (from %s) did %s: %s", who, client, action.name, summary)
    request.session["flash"] = summary
    back = safe_next(str(form.get("next", "")), request.url_for("overview").path)
    return RedirectResponse(back, status_code=303)
