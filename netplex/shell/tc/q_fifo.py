"""pfifo and bfifo options (iproute2 tc/q_fifo.c, tc-pfifo(8))."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.shell.tc.tc_util import Opts, QdiscUtil, TcExit, next_arg
from netplex.stack.qdisc import FifoOpts
from netplex.units import get_size, sprint_size


def _explain_fifo(kind: str) -> str:
    return "Usage: ... <[p|b]fifo | pfifo_head_drop> [ limit NUMBER ]\n"


def parse_fifo(kind: str) -> Callable[[list[str]], FifoOpts]:
    def parse(opts: list[str]) -> FifoOpts:
        limit: int | None = None
        i = 0
        while i < len(opts):
            if opts[i] == "limit":
                i += 1
                v = get_size(next_arg(opts, i))
                if v is None:
                    raise TcExit(1, f"{kind}: Illegal value for \"limit\": \"{opts[i]}\"\n")
                limit = v
            elif opts[i] == "help":
                raise TcExit(1, _explain_fifo(kind))
            else:
                raise TcExit(1, f"{kind}: unknown parameter \"{opts[i]}\"\n{_explain_fifo(kind)}")
            i += 1
        return FifoOpts(limit)
    return parse


def print_pfifo(q: Any, o: Opts) -> str:
    return f"limit {q.limit}p"


def print_bfifo(q: Any, o: Opts) -> str:
    return f"limit {sprint_size(q.limit)}"


def json_fifo(q: Any, o: Opts) -> dict[str, Any]:
    """fifo_print_opt under -j: the limit as a number (packets or bytes)."""
    return {"limit": q.limit}


PFIFO = QdiscUtil("pfifo", parse_fifo("pfifo"), print_pfifo, classless=True, json_qopt=json_fifo)
BFIFO = QdiscUtil("bfifo", parse_fifo("bfifo"), print_bfifo, classless=True, json_qopt=json_fifo)
