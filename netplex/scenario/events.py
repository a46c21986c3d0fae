"""Scenario events (SCENARIO.md v1.1 `events:`): what each action takes down, the
`--events` command-line syntax, and the outage each event caused to the traffic probes.

Both backends share `LinkEvents` (which link ends an event takes down and
which come back), so a cut means the same thing in the simulator and on the
kernel twin: both ends of the cable go administratively down (a veth end
down leaves its peer without carrier, as a pulled cable does), and a
restore brings back exactly the ends the events took down. A failed node
takes every one of its link ends down; its neighbours lose carrier.

`event_report` turns what the backend did (`EventDone`) and the pauses each
iperf flow saw (`FlowGaps`) into the result's `events` list: per event its
time, and per flow that carried traffic then, `outage_ms` (last arrival
before the event to first arrival after it) and, for paced UDP flows,
`lost` (the datagrams sent into the pause), and `flow_at_ms` (the event's time from the
start of the flow's probe, where `--plot` marks it).
"""
from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from netplex.errors import NetplexError
from netplex.scenario.backend import EventDone, FlowGaps, gap_threshold_ns
from netplex.scenario.model import Event, Link

__all__ = ["EventsOptionError", "LinkEvents", "parse_events_option", "event_report", "EVENT_WINDOW_NS"]

End = tuple[str, str]

EVENT_WINDOW_NS = 1_000_000_000
"""A pause that starts up to 1 s after an event (and before the next) is the event's doing."""


class LinkEvents:
    """Which link ends an event takes down or brings back up.

    An end stays down while any cause holds it (a cut of its cable, a failure of its
    node); an end the user had already taken down is left alone.
    """

    def __init__(self, links: Sequence[Link]) -> None:
        self.cable: dict[End, tuple[End, ...]] = {}
        for link in links:
            ends = tuple((n, i) for n, i in link.ends)
            for end in ends:
                self.cable[end] = ends
        self.causes: dict[End, set[tuple[str, Any]]] = {}

    def _targets(self, ev: Event) -> tuple[tuple[str, Any], tuple[End, ...]]:
        end = ev.cut or ev.restore
        if end is not None:
            ends = self.cable[end]
            return ("cable", ends), ends
        node = ev.fail or ev.recover
        return ("node", node), tuple(e for e in self.cable if e[0] == node)

    def take_down(self, ev: Event, is_up: Callable[[End], bool]) -> list[End]:
        """`cut`/`fail`: the ends to set down now (those that are up and not already held down)."""
        cause, ends = self._targets(ev)
        out: list[End] = []
        for end in ends:
            held = self.causes.get(end)
            if held is None:
                if not is_up(end):
                    continue
                held = self.causes[end] = set()
                out.append(end)
            held.add(cause)
        return out

    def bring_up(self, ev: Event) -> list[End]:
        """`restore`/`recover`: the ends no other cause holds down any more."""
        cause, ends = self._targets(ev)
        out: list[End] = []
        for end in ends:
            held = self.causes.get(end)
            if held is None or cause not in held:
                continue
            held.discard(cause)
            if not held:
                del self.causes[end]
                out.append(end)
        return out

    def apply(self, ev: Event, is_up: Callable[[End], bool]) -> tuple[list[End], bool]:
        """The ends this event changes and the state they go to (False: down)."""
        if ev.cut is not None or ev.fail is not None:
            return self.take_down(ev, is_up), False
        return self.bring_up(ev), True


# --- `netplex run --events "at 5s cut tor1-1:p3; at 12s fail agg1"` ---------------------------


class EventsOptionError(NetplexError):
    """A clause of `--events` that does not parse; the message names it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=2)


def parse_events_option(text: str) -> list[Event]:
    """`at TIME ACTION ARG; ...` with ACTION cut|restore NODE:IF, fail|recover NODE, run NODE CMD..."""
    out: list[Event] = []
    for n, clause in enumerate((c.strip() for c in text.split(";")), start=1):
        if not clause:
            continue
        try:
            words = shlex.split(clause)
        except ValueError as e:
            raise EventsOptionError(f'--events: event {n} "{clause}": {e}') from None
        if len(words) < 4 or words[0] != "at":
            raise EventsOptionError(f'--events: event {n} "{clause}": write "at TIME cut|restore NODE:IFNAME", '
                                    '"at TIME fail|recover NODE" or "at TIME run NODE COMMAND"')
        at, action, rest = words[1], words[2], words[3:]
        data: dict[str, Any] = {"at": at}
        if action == "run":
            if len(rest) < 2:
                raise EventsOptionError(f'--events: event {n} "{clause}": run needs a node and a command')
            data["run"] = {"node": rest[0], "cmd": " ".join(rest[1:])}
        elif len(rest) != 1:
            raise EventsOptionError(f'--events: event {n} "{clause}": {action} takes one argument')
        else:
            data[action] = rest[0]
        try:
            out.append(Event.model_validate(data))
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "event"
            raise EventsOptionError(f'--events: event {n} "{clause}": {field}: '
                                    f'{str(err["msg"]).removeprefix("Value error, ")}') from None
    return out


# --- the result's `events` ----------------------------------------------------------------------


def _ms(ns: int) -> float:
    return round(ns / 1e6, 1)


def event_report(events: Sequence[Event], origin_ns: int, done: Sequence[EventDone],
                 probe_gaps: Sequence[tuple[int, Sequence[FlowGaps]]]) -> list[dict[str, Any]]:
    """One entry per event: its time and, per traffic flow it fell within, the outage.

    A flow's pause is the event's when it starts no earlier than one gap threshold
    before the event, within EVENT_WINDOW_NS after it, and before the next event ran;
    each pause counts for one event only. No such pause: `outage_ms` 0.
    """
    times = [d.time_ns for d in done]
    ran = sorted((t, i) for i, t in enumerate(times) if t is not None)
    next_time: dict[int, int | None] = {}
    for k, (_t, i) in enumerate(ran):
        next_time[i] = ran[k + 1][0] if k + 1 < len(ran) else None
    used: set[tuple[int, int, int]] = set()
    out: list[dict[str, Any]] = []
    for i, (ev, d) in enumerate(zip(events, done)):
        entry: dict[str, Any] = {"index": i, "at_ms": _ms(ev.at_ns), "action": ev.action, "target": ev.target}
        t = d.time_ns
        entry["ran"] = t is not None
        if t is not None:
            entry["time_ms"] = _ms(t - origin_ns)
        if d.error:
            entry["error"] = d.error
        flows: list[dict[str, Any]] = []
        if t is not None:
            nxt = next_time.get(i)
            for pi, gaps in probe_gaps:
                for fi, fg in enumerate(gaps):
                    if not fg.start_ns <= t < fg.end_ns:
                        continue
                    thr = gap_threshold_ns(fg.interval_ns)
                    rec: dict[str, Any] = {"probe": pi, "flow": fi, "flow_at_ms": _ms(t - fg.start_ns),
                                           "outage_ms": 0.0}
                    if fg.interval_ns:
                        rec["lost"] = 0
                    for gi, (s, e) in enumerate(fg.gaps):
                        if (pi, fi, gi) in used or e <= t or s < t - thr or s > t + EVENT_WINDOW_NS:
                            continue
                        if nxt is not None and s >= nxt:
                            continue
                        used.add((pi, fi, gi))
                        rec["outage_ms"] = _ms(e - s)
                        if fg.interval_ns:
                            rec["lost"] = max(0, round((e - s) / fg.interval_ns) - 1)
                        if fg.open_at_end and gi == len(fg.gaps) - 1:
                            rec["recovered"] = False
                        break
                    flows.append(rec)
        entry["flows"] = flows
        out.append(entry)
    return out
