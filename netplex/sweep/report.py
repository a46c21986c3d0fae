"""A sweep's results: one table (a row per variant) and one JSON document.

The table shows each variant's parameter values, its verdict, probes passed
of all, and the metrics any variant measured (run.metrics): iperf wire
rate per flow, UDP loss, ping loss, the longest outage. The JSON holds the
same rows with every variant's whole result (`netplex run --json`'s object).
"""
from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from netplex.units import format_rate

__all__ = ["sweep_json", "sweep_table", "summary_line"]


def sweep_json(scenario: str, file: str, grid: dict[str, list[str]], rows: list[dict[str, Any]],
               runner: dict[str, Any]) -> dict[str, Any]:
    """The document `--json OUT` writes. `runner` says where it ran ({"workers": N} or
    {"cluster": ADDRESS}); rows are in variant order."""
    return {"scenario": scenario, "file": file, "params": grid, **runner,
            "summary": summary(rows), "variants": rows}


def summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {"variants": len(rows),
            "passed": sum(1 for r in rows if r["exit_status"] == 0),
            "failed": sum(1 for r in rows if r["exit_status"] == 1),
            "errors": sum(1 for r in rows if r["exit_status"] not in (0, 1))}


def summary_line(rows: list[dict[str, Any]]) -> str:
    s = summary(rows)
    return (f"{s['variants']} variant{'s' if s['variants'] != 1 else ''}: {s['passed']} passed, "
            f"{s['failed']} failed, {s['errors']} could not run")


def _rates(values: list[int]) -> str:
    return ", ".join(format_rate(int(v)) for v in values)


# metric key -> (column header, how it is shown)
_COLUMNS: list[tuple[str, str, Any]] = [
    ("wire_bps", "iperf wire", _rates),
    ("udp_lost", "udp lost", lambda v: ", ".join(str(x) for x in v)),
    ("ping_loss_pct", "ping loss", lambda v: f"{v:g}%"),
    ("rtt_ms", "rtt ms", lambda v: ", ".join(f"{x:g}" for x in v)),
    ("outage_ms", "outage", lambda v: f"{v:g} ms"),
]


def sweep_table(grid: dict[str, list[str]], rows: list[dict[str, Any]]) -> Table:
    """A row per variant: #, each parameter, result, probes, then the metrics measured."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("#", justify="right")
    for name in grid:
        table.add_column(name)
    table.add_column("result")
    table.add_column("probes", justify="right")
    shown = [(key, head, fmt) for key, head, fmt in _COLUMNS if any(key in r["metrics"] for r in rows)]
    for _, head, _ in shown:
        table.add_column(head, overflow="fold")
    errors = any(r["exit_status"] not in (0, 1) for r in rows)
    if errors:
        table.add_column("error", overflow="fold")
    for r in rows:
        status = r["exit_status"]
        verdict = (Text("PASS", style="bold green") if status == 0 else
                   Text("FAIL", style="bold red") if status == 1 else Text("ERROR", style="bold red"))
        total = r["probes_passed"] + r["probes_failed"]
        # Text cells: a value or an error message is shown as written, never read as rich markup
        cells: list[Text] = [Text(str(r["index"])), *(Text(r["params"].get(n, "")) for n in grid), verdict,
                             Text(f"{r['probes_passed']}/{total}")]
        for key, _, fmt in shown:
            cells.append(Text(fmt(r["metrics"][key]) if key in r["metrics"] else "-"))
        if errors:
            cells.append(Text(_error_text(r["result"].get("error")) if status not in (0, 1) else ""))
        table.add_row(*cells)
    return table


def _error_text(error: dict[str, Any] | None) -> str:
    """Why a variant could not run, on one line (the message's first; the JSON has it whole)."""
    return _error_lines(error).split("\n", 1)[0]


def _error_lines(error: dict[str, Any] | None) -> str:
    if not error:
        return ""
    if "command" in error:
        return f"{error.get('node')}: setup line {error.get('line')}: {error['command']}: {error.get('message', '')}"
    if "field" in error:
        return f"{error.get('file')}:{error.get('file_line')}: {error['field']}: {error.get('message', '')}"
    return str(error.get("message", ""))
