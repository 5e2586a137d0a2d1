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
    ``st`` state: ``queued``, ``staged``, ``succeeded`` or ``failed``
    (the stored form of the task states, see ``states``);
    ``a`` attempt (claims so far, less releases); ``w`` worker id and
    ``b`` began (claim time) of the current or last claim, removed when the
    task is queued again; when finished ``f`` finished-at and ``res``
    result bytes or ``err`` error message. Times are float seconds since
    the epoch written with 17 significant digits (exact round trip).
    No expiry while queued or staged; a finished task gets ``PEXPIRE`` of
    its ttl, so it and its result vanish even if nothing discards them.
``P q:<hex group>`` sorted set, the queued task ids of one group scored
    by due; equal scores order by id, which is the claim order. Redis
    deletes it when it empties. Members whose task is gone are dropped by
    the next claim that meets them.
``P groups`` set, the names of groups whose queue is not empty (status).
``P staged`` sorted set, staged task ids scored by claim time. Bounded by
    the number of tasks workers hold at once.
``P done`` sorted set, finished task ids scored by finished-at.
``P expiry`` sorted set, finished task ids scored by finished-at + ttl:
    the disposable ones are those below now. Both are pruned by
    ``discard_tasks`` (the discard service), which also removes members
    whose task hash already expired.
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

One key outside every namespace (see ``namespaces``):

``taskkit:namespaces`` hash, every namespace opened on this database: its
    name lower-cased -> its exact name. A namespace differing from a
    recorded one only in case is refused. ``drop`` removes the namespace's
    field; ``destroy_all`` leaves it.

Pub/sub channel (not a key, but namespaced the same way):

``P wake`` the name of a group that has a task due now (a wake-up).

Group, worker and lock names may hold any character (colons, braces,
newlines, 400 emoji); in keys they are written as the hex of their UTF-8
bytes, so keys stay printable and two names never share a key. Task ids
are written as given: each variable part is the last component after a
fixed, family-unique prefix (``t:``, ``q:``, ``wc:``, ``lock:``; the fixed
keys hold no second colon), which already makes every key distinct.

Long-lived structural keys with no expiry: ``schedulers`` (one field per
schedule name) and, while they are not empty, ``groups``, ``staged``,
``done``, ``expiry`` and ``workers``. Once every task finished and was
discarded and every worker stopped, only ``schedulers`` remains (and
``events``, for an hour after the last control event).

Scripts receive the fixed keys they use (and the queue or claim record
of the group and worker they work on) in KEYS, and the prefix in ARGV[1].
Task hashes, and the queues of tasks found in the store (a restored
task's group), are derived inside the scripts from the prefix, with the
same hex encoding as :func:`encode_name`. The hash tag keeps every derived
key in the slot of the declared ones, as Redis Cluster requires.
"""

from __future__ import annotations

from dataclasses import dataclass


class Family:
    """The fixed start of each key family; the variable part follows it."""

    TASK = "t:"  # + task id
    QUEUE = "q:"  # + hex group
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


TASK_FIELDS = (
    Field.GROUP,
    Field.NAME,
    Field.DATA,
    Field.DUE,
    Field.CREATED,
    Field.SCHEDULED,
    Field.RETRY_COUNT,
    Field.TTL,
)
"""The fields that make a Task, in the order of ``records.task_args`` and
``records.decode_task`` (and of the rows claim.lua returns)."""


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

    def queue(self, group: str) -> str:
        return f"{self.prefix}{Family.QUEUE}{encode_name(group)}"

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
    def events(self) -> str:
        """The stream of control events."""
        return self.prefix + Fixed.EVENTS

    @property
    def wake(self) -> str:
        """The pub/sub channel of wake-ups (group names)."""
        return self.prefix + Fixed.WAKE
