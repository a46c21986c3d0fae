"""`ip -j` (iproute2 6.1's json_writer): the objects `ip -j route show` and `ip -j
neigh show` print, with iproute2's keys, in its order, and its two layouts:
compact (`[{"dst":"default",...}]`, one line) and `-p` pretty (four-space indents,
`},{` between objects, `[ "STALE" ]` arrays).

A route (print_route): type (not unicast), dst ("default", a host without /32),
gateway, dev (unless `dev` selected it), table (only listing every table),
protocol (not boot), scope (not global), prefsrc, metric, flags (always: onlink,
linkdown), metrics ([{"mtu": N}]). A neighbour (print_neigh): dst, dev (unless
selected), lladdr (when known), state (the NUD state names).
"""
from __future__ import annotations

import json
from typing import Any

__all__ = ["dump"]

JsonObj = dict[str, Any]


def _pretty_value(v: Any, depth: int) -> str:
    if isinstance(v, list):
        if not v:
            return "[ ]"
        if all(not isinstance(x, dict) for x in v):
            return "[ " + ",".join(json.dumps(x) for x in v) + " ]"
        return "[ " + ",".join(_pretty_obj(x, depth + 1) for x in v) + " ]"
    return json.dumps(v)


def _pretty_obj(obj: JsonObj, depth: int) -> str:
    pad = "    " * (depth + 1)
    lines = [f"{pad}{json.dumps(k)}: {_pretty_value(v, depth + 1)}" for k, v in obj.items()]
    return "{\n" + ",\n".join(lines) + "\n" + "    " * depth + "}"


def dump(objs: list[JsonObj], pretty: bool) -> str:
    """The array as iproute2 prints it, with its trailing newline."""
    if not pretty:
        return json.dumps(objs, separators=(",", ":")) + "\n"
    if not objs:
        return "[ ]\n"
    return "[ " + ",".join(_pretty_obj(o, 1) for o in objs) + " ]\n"
