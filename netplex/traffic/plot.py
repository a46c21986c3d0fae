"""Throughput plots for `netplex run FILE --plot out.png` (matplotlib, the `plot` extra).

One panel per iperf probe: each flow's wire throughput per second, and each
tc class's throughput per second (dashed), in kbit/s; each scenario event that fell
within the probe's flows (the result's `events`, SCENARIO.md v1.1) as a vertical line
at its time from the flows' start, labelled with the action and the worst outage.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any


def event_marks(events: list[dict[str, Any]], probe: int) -> list[tuple[float, str]]:
    """(seconds from the probe's flows' start, label) of each event that ran during probe
    `probe`: "cut srv:eth0 (outage 64.0 ms)", the longest outage of its flows."""
    marks = []
    for ev in events:
        flows = [f for f in ev.get("flows", []) if f["probe"] == probe]
        if not flows:
            continue
        worst = max(flows, key=lambda f: f["outage_ms"])
        outage = "never recovered" if worst.get("recovered") is False else f"outage {worst['outage_ms']} ms"
        marks.append((min(f["flow_at_ms"] for f in flows) / 1000, f"{ev['action']} {ev['target']} ({outage})"))
    return marks


def plot_results(results: list[Any], path: Path) -> int:
    """Draw every iperf probe of `results` into `path`; returns the number of panels drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise RuntimeError("--plot needs matplotlib: pip install 'netplex[plot]'") from None
    panels = [(r, p) for r in results for p in r.probes if p.kind == "iperf" and p.observed.get("flows")]
    if not panels:
        return 0
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 3.6 * len(panels)), squeeze=False)
    for ax, (r, p) in zip(axes[:, 0], panels):
        for label, f in zip(p.what.removeprefix("iperf ").split(", "), p.observed["flows"]):
            series = f.get("wire_intervals") or f.get("intervals") or []
            ax.plot(range(1, len(series) + 1), [v / 1000 for v in series], marker="o", ms=3, label=label)
        for name, c in sorted((p.observed.get("classes") or {}).items()):
            bps = c.get("bps") or []
            if any(bps):
                ax.plot(range(1, len(bps) + 1), [v / 1000 for v in bps], ls="--", lw=1, label=f"class {name}")
        for t_s, label in event_marks(r.events or [], p.index):
            ax.axvline(t_s, color="crimson", ls=":", lw=1.2)
            ax.annotate(label, (t_s, 1), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                        fontsize=7, color="crimson")
        ax.set_title(f"{r.scenario} ({r.backend}) — probe {p.index}")
        ax.set_xlabel("second")
        ax.set_ylabel("kbit/s")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return len(panels)
