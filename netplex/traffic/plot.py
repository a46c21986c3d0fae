"""Throughput plots for `netplex run FILE --plot out.png` (matplotlib, the `plot` extra).

One panel per iperf probe: each flow's wire throughput per second, and each
tc class's throughput per second (dashed), in kbit/s.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any


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
        ax.set_title(f"{r.scenario} ({r.backend}) — probe {p.index}")
        ax.set_xlabel("second")
        ax.set_ylabel("kbit/s")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return len(panels)
