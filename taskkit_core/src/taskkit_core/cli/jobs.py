"""``taskkit show | tasks | retry | cancel | purge``: inspect and repair tasks by id or group.

Each opens the backend from --url (or the --app Kit's), does one thing and
prints what happened. An unknown task id is one error line and exit code
1; a usage error (bad state, limit, or contradictory options) exits 2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..backend import Backend
from ..errors import NotFound
from ..records import FINISHED_STATES, CancelResult, RetryResult, TaskState, check_list_limit
from ..task import check_name
from .connection import app_option, load_optional_app, opened
from .errors import CommandError
from .options import namespace_option, option, taskkit_command, url_option
from .output import print_json
from .render import note, show
from .task_view import as_json, detail_lines, listing_table

STATES = {"queued": "queued", "staged": "staged", "running": "staged", "succeeded": "succeeded"}
STATES |= {"done": "succeeded", "failed": "failed", "cancelled": "cancelled"}
"""The --state names: the TaskState values, with running and done as everyday words."""

F = Callable[..., Any]


def _backend_options(func: F) -> F:
    return url_option(namespace_option(app_option(func)))


def _json_option(command: str) -> Callable[[F], F]:
    return option(
        "--json",
        "json_output",
        env=f"TASKKIT_{command.upper()}_JSON",
        is_flag=True,
        help="Print JSON instead of text.",
    )


def _opened(url: str | None, namespace: str | None, app_spec: str | None) -> Any:
    return opened(url, namespace, load_optional_app(app_spec) if url is None else None)


@click.command("show")
@click.argument("task_id", metavar="ID")
@_backend_options
@_json_option("show")
@taskkit_command
def show_command(
    task_id: str, url: str | None, namespace: str | None, app_spec: str | None, json_output: bool
) -> int:
    """Show everything known about the task ID: state, attempts, times, worker, error."""
    with _opened(url, namespace, app_spec) as connection:
        info = connection.backend.read_task(task_id)
    if info is None:
        raise NotFound(f"no task with id {task_id!r}")
    if json_output:
        print_json(as_json(info))
    else:
        click.echo("\n".join(detail_lines(info)))
    return 0


@click.command("tasks")
@_backend_options
@option("--group", env="TASKKIT_TASKS_GROUP", metavar="GROUP", help="Only tasks of GROUP.")
@option(
    "--state",
    env="TASKKIT_TASKS_STATE",
    type=click.Choice(sorted(STATES)),
    default="failed",
    show_default=True,
    help="Which tasks: queued, running (staged), done (succeeded), failed or cancelled.",
)
@option(
    "--limit",
    env="TASKKIT_TASKS_LIMIT",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="How many tasks, at most (1 to 1000).",
)
@option(
    "--before",
    env="TASKKIT_TASKS_BEFORE",
    metavar="ID",
    help="The next page: tasks older than this id (the last one shown).",
)
@_json_option("tasks")
@taskkit_command
def tasks_command(
    url: str | None,
    namespace: str | None,
    app_spec: str | None,
    group: str | None,
    state: str,
    limit: int,
    before: str | None,
    json_output: bool,
) -> int:
    """List tasks in one state (failed by default), newest first, a page at a time."""
    wanted = TaskState(STATES[state])
    if group is not None:
        check_name("group", group)
    with _opened(url, namespace, app_spec) as connection:
        infos = connection.backend.list_tasks(wanted, group, check_list_limit(limit), before)
    if json_output:
        print_json([as_json(info) for info in infos])
    else:
        where = f" of group {group}" if group else ""
        show(listing_table(infos, f"{wanted.value} tasks{where}, newest first"))
    if len(infos) == limit:
        note(f"more may follow: add --before {infos[-1].task.id}")
    return 0


CANCEL_WORDS = {
    CancelResult.CANCELLED: "cancelled (it will not start)",
    CancelResult.REQUESTED: "cancel requested (its worker stops it within one heartbeat)",
    CancelResult.FINISHED: "already finished; nothing changed",
}


@click.command("cancel")
@click.argument("task_ids", nargs=-1, required=True, metavar="ID...")
@_backend_options
@taskkit_command
def cancel_command(
    task_ids: tuple[str, ...], url: str | None, namespace: str | None, app_spec: str | None
) -> int:
    """Cancel tasks: a queued one never starts, a running one is asked to stop.

    Cancelling a finished task says so and changes nothing; an unknown id
    exits 1.
    """
    with _opened(url, namespace, app_spec) as connection:
        answers = connection.backend.cancel_tasks(*task_ids)
    for task_id, answer in answers.items():
        if answer is not CancelResult.NOT_FOUND:
            click.echo(f"{task_id}: {CANCEL_WORDS[answer]}")
    _fail_for_missing(answers, CancelResult.NOT_FOUND)
    return 0


@click.command("retry")
@click.argument("task_ids", nargs=-1, metavar="[ID]...")
@_backend_options
@option(
    "--failed",
    "all_failed",
    env="TASKKIT_RETRY_FAILED",
    is_flag=True,
    help="Retry every failed task of --group instead of IDs.",
)
@option("--group", env="TASKKIT_RETRY_GROUP", metavar="GROUP", help="The group for --failed.")
@taskkit_command
def retry_command(
    task_ids: tuple[str, ...],
    url: str | None,
    namespace: str | None,
    app_spec: str | None,
    all_failed: bool,
    group: str | None,
) -> int:
    """Queue failed or cancelled tasks again, due now, with a fresh attempt count.

    Give IDs, or --failed --group GROUP for every failed task of a group.
    A task that succeeded, or is queued or running, is not retried (exit 1).
    """
    if bool(task_ids) == all_failed or (all_failed and not group) or (group and not all_failed):
        raise click.UsageError("give task IDs, or --failed with --group GROUP (not both)")
    with _opened(url, namespace, app_spec) as connection:
        if all_failed:
            assert group is not None
            count = _retry_group(connection.backend, check_name("group", group))
            click.echo(f"queued {count} failed task(s) of group {group} again")
            return 0
        answers = connection.backend.retry_tasks(*task_ids)
    _report_retries(answers)
    return 0


def _retry_group(backend: Backend, group: str) -> int:
    """Retry every task of ``group`` that is failed now, a page of ids at a time."""
    ids: list[str] = []
    before: str | None = None
    while page := backend.list_tasks(TaskState.FAILED, group, 1000, before):
        ids += [info.task.id for info in page]
        before = page[-1].task.id
    retried = 0
    for start in range(0, len(ids), 1000):
        answers = backend.retry_tasks(*ids[start : start + 1000])
        retried += sum(answer is RetryResult.QUEUED for answer in answers.values())
    return retried


def _report_retries(answers: dict[str, RetryResult]) -> None:
    for task_id, answer in answers.items():
        if answer is RetryResult.QUEUED:
            click.echo(f"{task_id}: queued again")
    _fail_for_missing(answers, RetryResult.NOT_FOUND)
    refused = [task_id for task_id, a in answers.items() if a is RetryResult.NOT_RETRYABLE]
    if refused:
        raise CommandError(
            f"not retried (only failed or cancelled tasks can be): {', '.join(refused)}"
        )


def _fail_for_missing(answers: dict[str, Any], missing: object) -> None:
    unknown = [task_id for task_id, answer in answers.items() if answer is missing]
    if unknown:
        raise NotFound(f"no task with id {', '.join(repr(i) for i in unknown)}")


@click.command("purge")
@_backend_options
@option("--group", env="TASKKIT_PURGE_GROUP", required=True, metavar="GROUP", help="The group.")
@option(
    "--finished",
    env="TASKKIT_PURGE_FINISHED",
    is_flag=True,
    help="Required: delete the group's finished tasks (succeeded, failed, cancelled).",
)
@taskkit_command
def purge_command(
    url: str | None, namespace: str | None, app_spec: str | None, group: str, finished: bool
) -> int:
    """Delete the finished tasks of GROUP (succeeded, failed, cancelled) and their results.

    Queued and running tasks are never touched.
    """
    if not finished:
        raise click.UsageError("purge deletes finished tasks only: say so with --finished")
    check_name("group", group)
    with _opened(url, namespace, app_spec) as connection:
        count = connection.backend.purge_tasks(group, FINISHED_STATES)
    click.echo(f"purged {count} finished task(s) of group {group}")
    return 0


def job_commands() -> list[click.Command]:
    """show, tasks, cancel, retry and purge."""
    return [show_command, tasks_command, cancel_command, retry_command, purge_command]
