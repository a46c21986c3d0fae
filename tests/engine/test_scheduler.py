"""The scheduler: integer-ns time, deterministic order, run limits."""
from __future__ import annotations

from netplex.engine.link import Link
from netplex.engine.scheduler import Scheduler


def test_events_run_in_time_then_insertion_order() -> None:
    s = Scheduler()
    seen: list[tuple[int, str]] = []
    s.at(20, lambda: seen.append((s.now, "b")))
    s.at(10, lambda: seen.append((s.now, "a")))
    s.at(20, lambda: seen.append((s.now, "c")))
    s.after(5, lambda: seen.append((s.now, "first")))
    s.run()
    assert seen == [(5, "first"), (10, "a"), (20, "b"), (20, "c")]


def test_run_until_advances_clock_even_when_idle() -> None:
    s = Scheduler()
    fired: list[int] = []
    s.at(100, fired.append, 1)
    s.at(300, fired.append, 3)
    s.run(until=200)
    assert fired == [1] and s.now == 200
    s.run(until=1000)
    assert fired == [1, 3] and s.now == 1000


def test_run_stops_when_predicate_true() -> None:
    s = Scheduler()
    hits: list[int] = []
    for t in range(1, 10):
        s.at(t * 10, hits.append, t)
    s.run(until=10_000, stop=lambda: len(hits) == 3)
    assert hits == [1, 2, 3] and s.now == 30
    assert s.pending() == 6


def test_past_event_runs_now_not_in_the_past() -> None:
    s = Scheduler()
    s.run(until=50)
    times: list[int] = []
    s.at(10, lambda: times.append(s.now))
    s.run()
    assert times == [50]


def test_link_serialisation_and_delay() -> None:
    s = Scheduler()
    got: list[tuple[int, object, int]] = []
    link = Link(s, rate_bps=8_000_000, delay_ns=1_000)   # 1 byte per µs
    done = link.deliver(0, 100, lambda f, n: got.append((s.now, f, n)), "frame")
    assert done == 100_000
    s.run()
    assert got == [(101_000, "frame", 100)]


def test_link_without_rate_is_instantaneous() -> None:
    s = Scheduler()
    got: list[int] = []
    link = Link(s)
    assert link.deliver(7, 1500, lambda f, n: got.append(s.now), None) == 7
    s.run()
    assert got == [7]


def test_loss_is_seeded_and_reproducible() -> None:
    def losses(seed: int) -> list[bool]:
        s = Scheduler()
        link = Link(s, loss=0.3, seed=seed)
        out = []
        for i in range(200):
            before = link.lost
            link.deliver(0, 10, lambda f, n: None, i)
            out.append(link.lost > before)
        return out

    a, b = losses(4), losses(4)
    assert a == b
    assert 30 < sum(a) < 90
    assert losses(5) != a
