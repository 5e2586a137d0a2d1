"""The key layout: every Redis key, hash field and channel taskkit uses, in one place.

This module is the one source of the layout. The Lua scripts do not spell
a key name or a task field: they write names (``KEY_TASK``,
``FIELD_STATE``, ``FIELD_LIST``...) that ``lua_layout`` replaces with the
constants below (``Family``, ``Fixed``, ``Field``, ``TASK_FIELDS``) when
the scripts are loaded, and ``tests/redis_backend/test_layout.py`` fails
if a script spells one itself.

All keys of a namespace ``N`` (option ``namespace``, default ``taskkit``)
start with the prefix ``{N}:``. The braces are a Redis Cluster hash tag:
every key of one namespace lands in one slot, so each Lua script may touch
any of them. ``N`` is 1-41 letters, digits or underscores, so the ``}``
ends it and no namespace's prefix is a prefix of another's: two namespaces
never share a key, and ``destroy_all`` deletes exactly ``SCAN MATCH {N}:*``.

Keys (``P`` is the prefix ``{N}:``):

``P t:<task id>`` hash, one task. Fields (all strings, see ``Field``):
    ``g`` group, ``n`` name, ``d`` payload bytes, ``due``, ``c`` created,
    ``s`` scheduled ("" for none), ``r`` retry_count, ``ttl`` (seconds);
    written only when not the default (absent: 0, none, empty; a task
    written by taskkit 0.3 has none of them): ``p`` priority (a non-zero
    integer), ``to`` timeout (seconds), ``h`` headers (a JSON object),
    ``uk`` unique key, ``up`` unique period (seconds), ``us`` unique
    states (``queued`` or ``active``, with ``uk``);
    ``st`` state: ``queued``, ``staged``, ``succeeded``, ``failed`` or
    ``cancelled`` (the stored form of the task states, see ``states``);
    ``a`` attempt (claims so far, less releases); ``w`` worker id and
    ``b`` began (claim time) of the current or last claim, removed when the
    task is queued again; ``cr`` "1"
    while a cancel request waits for the worker of the staged task; when
    finished ``f`` finished-at and ``res`` result bytes or ``err`` error
    message (failed or cancelled; ``err`` stays while a task queued again
    by ``retry_tasks`` waits, and is not read once it succeeded). Times are float
    seconds since the epoch written with 17 significant digits (exact
    round trip). No expiry while queued or staged; a finished task gets
    ``PEXPIRE`` of its ttl, so it and its result vanish even if nothing
    discards them.
``P q:<hex group>`` sorted set, the queued task ids of priority 0 of one
    group (the queue of taskkit 0.3, whose tasks all have priority 0)
    scored by due; equal scores order by id, which is the claim order
    within a priority. Redis deletes it when it empties. Members whose
    task is gone are dropped by the next claim that meets them.
``P q:<hex group>:<priority>`` sorted set, the same for one non-zero
    priority (``-100`` .. ``100``, written as a decimal integer).
``P qp:<hex group>`` sorted set, the group's non-zero priorities that have
    a queue, each member its decimal text scored by its value. A claim
    reads it (highest first), then takes due tasks from the queue of each
    priority higher than 0, then from ``q:<hex group>``, then from the
    negative ones, until it has enough: each queue is read from its head
    (``ZRANGEBYSCORE -inf now LIMIT``), so tasks not yet due are never
    scanned, and a group using only priority 0 pays one read of an absent
    key. (One sorted set per group with a score combining priority and due
    was the other way: a double has no room for both a priority and a due
    time to the microsecond, and a claim would still need one range read
    per priority.) Removed with the last of its priorities' queues.
``P groups`` set, the names of groups with at least one queue (status).
``P staged`` sorted set, staged task ids scored by claim time. Bounded by
    the number of tasks workers hold at once.
``P done`` sorted set, finished task ids scored by finished-at.
``P expiry`` sorted set, finished task ids scored by finished-at + ttl:
    the disposable ones are those below now. Both are pruned by
    ``discard_tasks`` (the discard service), which also removes members
    whose task hash already expired.
``P ix:<state>`` sorted set, every finished task in one finished state
    (``succeeded``, ``failed`` or ``cancelled``), all scores 0, each member
    ``<task id> NUL <hex group>``: by lexicographic order, newest first
    with ``ZRANGE ... BYLEX REV``, it lists the state across groups
    (``list_tasks`` without a group); the group in the member lets
    ``discard_tasks`` find the entry of the next key even when the task
    hash already expired.
``P ix:<state>:<hex group>`` sorted set, the same for one group, members
    the task ids: ``list_tasks`` of a group and ``purge_tasks`` read it. Both
    index keys are written when a task finishes and pruned with ``done``;
    queued and staged tasks are listed from the queues and ``staged``.
``P layout`` string, ``2`` once the tasks finished before this layout
    (by taskkit 0.3, which kept no ``ix`` keys) were indexed; written by
    the first ``list_tasks`` or ``purge_tasks`` (see ``listing``). Never
    expires.
``P u:<hex group>:<hex unique key>`` string, the id of the task holding a
    unique key in its group. A put with the key reads the holder's state,
    created, ``up`` and ``us`` in the same script: while the holder counts
    the put is refused, otherwise the new task becomes the holder.
    Expires at the holder's created + period when it has one; deleted when
    its holder finishes, is cancelled or discarded (only if it still names
    that task).
``P cr:<hex worker id>`` set, the ids of tasks staged to that worker with a
    waiting cancel request: the heartbeat (``refresh_leases``) reads it
    for its workers in the same script, no scan. A task leaves it when its
    attempt settles or is restored (cancelled); dropped with the lease.
``P workers`` sorted set, the leases: worker ids scored by the server
    time their lease ends (the stored name is taskkit 0.3's: a new name
    would change the storage, which stays as it was). Workers drop their
    lease on a clean stop; the purge service removes expired ones.
``P wc:<hex worker id>`` hash, per group the last claim of that worker:
    its idempotency token and the (task id, attempt) pairs it staged,
    packed with MessagePack. A claim repeated with the same token after
    its reply was lost returns those tasks again instead of staging new
    ones (a forgotten claim is not left staged). Expires an hour after the
    worker's last claim; dropped with the worker's lease.
``P schedulers`` hash, scheduler name -> its state bytes. Long-lived: one
    field per named schedule, never expires.
``P lock:<hex lock name>`` string, the random token of the lock's holder,
    with a ``PX`` lease (see ``locks``).
``P events`` stream, the control events (shutdown, pause, resume): one
    entry per event, its field ``e`` the event as JSON bytes. Each send
    trims it to about 1000 entries (``XADD MAXLEN ~``) and sets its
    ``PEXPIRE`` to an hour, so it vanishes an hour after the last event.
    Receivers read past the last entry id they delivered (see ``events``).

Upgrading from taskkit 0.3 needs no step: its keys are this layout with
every task at priority 0 and no optional field, and the ``ix`` keys of the
tasks it finished are built lazily (``P layout``).

One key outside every namespace (see ``namespaces``):

``taskkit:namespaces`` hash, every namespace opened on this database: its
    name lower-cased -> its exact name. A namespace differing from a
    recorded one only in case is refused. ``drop`` removes the namespace's
    field; ``destroy_all`` leaves it.

Pub/sub channel (not a key, but namespaced the same way):

``P wake`` the name of a group that has a task due now (a wake-up).

Group, worker, lock names and unique keys may hold any character (colons,
braces, newlines, 400 emoji); in keys they are written as the hex of their
UTF-8 bytes, so keys stay printable and two names never share a key. Task
ids are written as given, always as the last component after a fixed,
family-unique prefix (``t:``, ``q:``, ``qp:``, ``ix:``, ``u:``, ``cr:``,
``wc:``, ``lock:``; the fixed keys hold no second colon). Where a key has
two variable parts they are hex digits, decimal digits or a state name,
none of which holds a colon, so every key stays distinct.

Long-lived structural keys with no expiry: ``schedulers`` (one field per
schedule name), ``layout``, unique keys without a period while their
holder counts, and, while they are not empty, ``groups``, ``staged``,
``done``, ``expiry``, the ``ix`` indexes, ``cr`` sets and ``workers``.
Once every task finished and was discarded and every worker stopped, only
``schedulers`` and ``layout`` remain (and ``events``, for an hour after
the last control event).

Scripts receive the fixed keys they use (and the queue or claim record
of the group and worker they work on) in KEYS, and the prefix in ARGV[1].
Task hashes, and the keys that depend on a task found in the store (its
queue, indexes, unique key, its worker's cancel requests), are derived
inside the scripts from the prefix, with the same hex encoding as
:func:`encode_name`. The hash tag keeps every derived
key in the slot of the declared ones, as Redis Cluster requires.
"""

from __future__ import annotations

from dataclasses import dataclass


class Family:
    """The fixed start of each key family; the variable part follows it."""

    TASK = "t:"  # + task id
    QUEUE = "q:"  # + hex group [+ ":" + non-zero priority]
    PRIORITIES = "qp:"  # + hex group
    INDEX = "ix:"  # + finished state [+ ":" + hex group]
    UNIQUE = "u:"  # + hex group + ":" + hex unique key
    CANCEL_REQUESTS = "cr:"  # + hex worker id
    WORKER_CLAIMS = "wc:"  # + hex worker id
    LOCK = "lock:"  # + hex lock name


class Fixed:
    """The keys (and the channel) with no variable part, after the prefix."""

    GROUPS = "groups"
    STAGED = "staged"
    DONE = "done"
    EXPIRY = "expiry"
    LEASES = "workers"  # the stored name of 0.3, kept: see the module docstring
    SCHEDULERS = "schedulers"
    LAYOUT = "layout"
    EVENTS = "events"
    WAKE = "wake"  # a pub/sub channel


class Field:
    """The fields of a task hash ``P t:<task id>``, as stored."""

    GROUP = "g"
    NAME = "n"
    DATA = "d"
    DUE = "due"
    CREATED = "c"
    SCHEDULED = "s"
    RETRY_COUNT = "r"
    TTL = "ttl"
    STATE = "st"
    ATTEMPT = "a"
    WORKER = "w"
    BEGAN = "b"
    FINISHED = "f"
    RESULT = "res"
    ERROR = "err"
    PRIORITY = "p"
    TIMEOUT = "to"
    HEADERS = "h"
    UNIQUE_KEY = "uk"
    UNIQUE_PERIOD = "up"
    UNIQUE_STATES = "us"
    CANCEL_REQUESTED = "cr"


TASK_FIELDS = (
    Field.GROUP,
    Field.NAME,
    Field.DATA,
    Field.DUE,
    Field.CREATED,
    Field.SCHEDULED,
    Field.RETRY_COUNT,
    Field.TTL,
    Field.PRIORITY,
    Field.TIMEOUT,
    Field.HEADERS,
    Field.UNIQUE_KEY,
    Field.UNIQUE_PERIOD,
    Field.UNIQUE_STATES,
)
"""The fields that make a Task, in the order of ``records.task_args`` and
``records.decode_task`` (and of the rows claim.lua returns). The first
REQUIRED_FIELDS are always written; the others only when not the default."""

REQUIRED_FIELDS = 8
"""How many of TASK_FIELDS every task hash holds (the fields of taskkit 0.3);
the others are optional, sent to the scripts joined in one argument."""

SEPARATOR = "\x00"
"""NUL: between the task id and the hex group in a member of ``P ix:<state>``,
and between the optional fields of a task in a put's arguments (``records``).
Neither a hex group nor any optional field can hold it (JSON escapes it, a
unique key refuses it)."""


def constants(names: type) -> dict[str, str]:
    """The upper-case string attributes of ``Family``, ``Fixed`` or ``Field``, in order."""
    return {k: v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}


def encode_name(name: str) -> str:
    """A group, worker or lock name as it appears in a key: hex of its UTF-8 bytes."""
    return name.encode("utf-8").hex()


@dataclass(frozen=True)
class Keys:
    """The key and channel names of one namespace."""

    namespace: str

    @property
    def prefix(self) -> str:
        """``{namespace}:``: the start of every key, with the cluster hash tag."""
        return f"{{{self.namespace}}}:"

    @property
    def pattern(self) -> str:
        """A SCAN MATCH pattern for exactly this namespace's keys."""
        return f"{self.prefix}*"

    def task(self, task_id: str) -> str:
        return f"{self.prefix}{Family.TASK}{task_id}"

    def queue(self, group: str, priority: int = 0) -> str:
        """The queue of one priority of a group (priority 0 keeps the 0.3 name)."""
        base = f"{self.prefix}{Family.QUEUE}{encode_name(group)}"
        return f"{base}:{priority}" if priority else base

    def priorities(self, group: str) -> str:
        """The sorted set of a group's non-zero priorities that have a queue."""
        return f"{self.prefix}{Family.PRIORITIES}{encode_name(group)}"

    def index(self, state: str, group: str | None = None) -> str:
        """The index of finished tasks in ``state`` (stored form), of a group or all."""
        key = f"{self.prefix}{Family.INDEX}{state}"
        return key if group is None else f"{key}:{encode_name(group)}"

    def unique(self, group: str, key: str) -> str:
        """The holder of a unique key in a group."""
        return f"{self.prefix}{Family.UNIQUE}{encode_name(group)}:{encode_name(key)}"

    def cancel_requests(self, worker_id: str) -> str:
        """The ids of tasks staged to a worker whose cancellation was requested."""
        return f"{self.prefix}{Family.CANCEL_REQUESTS}{encode_name(worker_id)}"

    def worker_claims(self, worker_id: str) -> str:
        return f"{self.prefix}{Family.WORKER_CLAIMS}{encode_name(worker_id)}"

    def lock(self, name: str) -> str:
        return f"{self.prefix}{Family.LOCK}{encode_name(name)}"

    @property
    def groups(self) -> str:
        return self.prefix + Fixed.GROUPS

    @property
    def staged(self) -> str:
        return self.prefix + Fixed.STAGED

    @property
    def done(self) -> str:
        return self.prefix + Fixed.DONE

    @property
    def expiry(self) -> str:
        return self.prefix + Fixed.EXPIRY

    @property
    def leases(self) -> str:
        return self.prefix + Fixed.LEASES

    @property
    def schedulers(self) -> str:
        return self.prefix + Fixed.SCHEDULERS

    @property
    def layout(self) -> str:
        return self.prefix + Fixed.LAYOUT

    @property
    def events(self) -> str:
        """The stream of control events."""
        return self.prefix + Fixed.EVENTS

    @property
    def wake(self) -> str:
        """The pub/sub channel of wake-ups (group names)."""
        return self.prefix + Fixed.WAKE
