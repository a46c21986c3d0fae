"""The ingress qdisc (iproute2 tc/q_ingress.c): no options."""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.tc_util import Opts, QdiscUtil, TcExit


def parse_ingress(opts: list[str]) -> None:
    if opts:
        raise TcExit(1, f"What is \"{opts[0]}\"?\nUsage: ... ingress\n")


def print_ingress(q: Any, o: Opts) -> str:
    return "---------------- "


def json_ingress(q: Any, o: Opts) -> dict[str, Any]:
    return {}   # its dashes are PRINT_FP only


INGRESS = QdiscUtil("ingress", parse_ingress, print_ingress, classless=True, json_qopt=json_ingress)
