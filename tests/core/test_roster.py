"""The worker roster on every backend: cards written with compare-and-set, read against leases."""

from __future__ import annotations

import threading

from taskkit_core.worker.roster import ROSTER, WorkerCard, live_workers, read_roster, write_card

from taskkit_core import Backend


def card(worker_id: str, **fields: object) -> WorkerCard:
    values: dict[str, object] = {
        "host": "h",
        "pid": 1,
        "started": 1.0,
        "threads": {"default": 2, "mail": 1},
    }
    values.update(fields)
    return WorkerCard(worker_id, **values)  # type: ignore[arg-type]


def test_cards_of_live_workers_say_what_they_serve_and_paused(backend: Backend) -> None:
    backend.refresh_leases(["w1", "w2"], 30)
    assert write_card(backend, card("w1", paused=["mail"]), "w1")
    assert write_card(backend, card("w2", threads={"mail": 4}, paused=["mail"]), "w2")
    live = live_workers(backend)
    assert sorted(live.cards) == ["w1", "w2"] and live.unknown == []
    assert live.paused_groups() == {"default": False, "mail": True}
    assert live.serving("mail") is True
    assert live.serving("nosuchgroup") is False


def test_a_stopped_group_is_no_longer_served(backend: Backend) -> None:
    backend.refresh_leases(["w1"], 30)
    write_card(backend, card("w1", stopped=["mail"]), "w1")
    assert live_workers(backend).serving("mail") is False


def test_a_live_worker_without_a_card_makes_the_answer_unknown(backend: Backend) -> None:
    backend.refresh_leases(["old"], 30)
    assert live_workers(backend).serving("default") is None


def test_a_write_drops_the_cards_of_workers_without_a_lease(backend: Backend) -> None:
    backend.refresh_leases(["w1", "gone"], 30)
    write_card(backend, card("gone"), "gone")
    backend.drop_leases(["gone"])
    write_card(backend, card("w1"), "w1")
    assert sorted(read_roster(backend)) == ["w1"]
    write_card(backend, None, "w1")
    assert read_roster(backend) == {}


def test_concurrent_writers_keep_every_card(backend: Backend) -> None:
    ids = [f"w{i}" for i in range(8)]
    backend.refresh_leases(ids, 30)
    threads = [threading.Thread(target=write_card, args=(backend, card(w), w)) for w in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(read_roster(backend)) == ids


def test_an_unreadable_roster_reads_as_empty(backend: Backend) -> None:
    backend.persist_scheduler_state_and_put_tasks(ROSTER, b"not json")
    assert read_roster(backend) == {}
    backend.refresh_leases(["w1"], 30)
    assert write_card(backend, card("w1"), "w1")
    assert list(read_roster(backend)) == ["w1"]
