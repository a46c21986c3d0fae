"""OpenFlow groups as ovs-ofctl writes them and ovs-vswitchd keeps them (lib/ofp-group.c:
parse_ofp_group_mod_str, ofputil_group_format; ofproto/ofproto.c group_mod).

A group is a type and a list of buckets, each an action set with a weight (select),
a watched port or group (fast failover): `group_id=1,type=select,bucket=weight:10,
actions=output:1,bucket=weight:20,actions=output:2`. Types: all (every bucket on a clone
of the packet), select (one bucket by a hash), indirect (its one bucket), ff /
fast_failover (the first live bucket). `selection_method=dp_hash` (OVS's default method, the
one netplex models) is taken; the other methods, `selection_method_param`, `fields` and
the bucket commands of OpenFlow 1.5 (insert-buckets, remove-buckets) are refused with
netplex's words.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from netplex.ovs.actions import Act, format_actions, parse_actions, split_top
from netplex.ovs.flow import FlowError, _parse_int

__all__ = ["GROUP_TYPES", "Bucket", "Group", "dp_hash_table", "format_group", "parse_group_mod"]

GROUP_TYPES = {"all": "all", "select": "select", "indirect": "indirect", "ff": "ff", "fast_failover": "ff"}
OFPG_MAX = 0xFFFFFF00
OFPP_ANY = 0xFFFF
OFPG_ANY = 0xFFFFFFFF


@dataclass
class Bucket:
    """struct ofputil_bucket."""

    bucket_id: int
    actions: list[Act]
    weight: int = 1
    watch_port: int = OFPP_ANY
    watch_group: int = OFPG_ANY
    packets: int = 0
    bytes: int = 0


@dataclass
class Group:
    """struct ofgroup: what group_mod ADD made."""

    group_id: int
    type: str
    buckets: list[Bucket] = field(default_factory=list)
    selection_method: str = ""      # as given (`dp_hash`), printed back by dump-groups
    created: int = 0
    packets: int = 0
    bytes: int = 0


@lru_cache(maxsize=256)
def dp_hash_table(weights: tuple[int, ...], max_hash: int = 256) -> tuple[int, ...] | None:
    """group_setup_dp_hash_table (ofproto/ofproto-dpif.c): a select group's hash values
    (a power of two, at least 16, enough for the smallest weight to get one) dealt to its
    buckets by Webster's method — each value to the bucket with the highest weight/divisor
    (the first on a tie), whose divisor then grows by 2. The bucket index per hash value,
    or None when the weights need more than `max_hash` values or are all zero (OVS then
    falls back to its default selection method)."""
    total = sum(weights)
    if not weights or not total:
        return None
    low = min(w for w in weights if w > 0)
    slots = -(-total // low)
    n_hash = max(16, 1 << (slots - 1).bit_length())
    if n_hash > max_hash:
        return None
    divisor = [1] * len(weights)
    value = [float(w) for w in weights]
    table = []
    for _ in range(n_hash):
        win = 0
        for i in range(1, len(weights)):
            if value[i] > value[win]:
                win = i
        divisor[win] += 2
        value[win] = weights[win] / divisor[win]
        table.append(win)
    return tuple(table)


def _bucket_texts(text: str) -> tuple[str, list[str]]:
    """The group's own words and each `bucket=...`'s (a bucket runs to the next `bucket=`)."""
    parts = split_top(text)
    head: list[str] = []
    buckets: list[list[str]] = []
    for p in parts:
        s = p.strip()
        if s.startswith("bucket="):
            buckets.append([s[len("bucket="):]])
        elif buckets:
            buckets[-1].append(s)
        else:
            head.append(s)
    return ",".join(head), [",".join(b) for b in buckets]


def _parse_bucket(text: str, n: int, port_no: Callable[[str], int | None], table: int) -> Bucket:
    """parse_bucket_str: bucket_id, weight, watch_port, watch_group, then actions."""
    b = Bucket(n, [])
    acts: list[str] = []
    items = split_top(text)
    for i, raw in enumerate(items):
        item = raw.strip()
        key, sep, value = item.partition(":") if ":" in item.split("=")[0] else item.partition("=")
        if key == "actions" and sep == "=":
            acts += [",".join(items[i:])[len("actions="):]]
            break
        if key in ("bucket_id", "weight", "watch_port", "watch_group") and sep:
            if key == "watch_port":
                port = port_no(value)
                if port is None:
                    raise FlowError(f"{value}: invalid or unknown port for watch_port")
                b.watch_port = port
                continue
            num = _parse_int(value)
            if num is None:
                raise FlowError(f"invalid {key.replace('_', ' ')} {value}" if key != "weight"
                                else f'invalid weight "{value}"')
            if key == "bucket_id":
                b.bucket_id = num
            elif key == "weight":
                b.weight = num
            else:
                b.watch_group = num
            continue
        acts.append(item)
    text_acts = ",".join(a for a in acts if a)
    b.actions = parse_actions(text_acts, port_no, table, of_version=4, outer="group") if text_acts else []
    return b


def parse_group_mod(text: str, command: str, port_no: Callable[[str], int | None]) -> Group:
    """parse_ofp_group_mod_str for add-group / mod-group (`command` add or modify) and the
    `group_id=N` of del-groups (command delete: `all` too)."""
    head, bucket_texts = _bucket_texts(text)
    group_id: int | None = None
    gtype: str | None = None
    method = ""
    for raw in split_top(head) if head else []:
        item = raw.strip()
        if not item:
            continue
        key, _, value = item.partition("=")
        if key == "group_id":
            if command == "delete" and value == "all":
                group_id = OFPG_ANY
                continue
            n = _parse_int(value)
            if n is None or n > OFPG_MAX:
                raise FlowError(f"invalid group id {value if n is None else n}")
            group_id = n
        elif key == "type":
            if value not in GROUP_TYPES:
                raise FlowError(f"invalid group type {value}")
            gtype = GROUP_TYPES[value]
        elif key == "selection_method" and value == "dp_hash":
            method = value
        elif key in ("selection_method", "selection_method_param", "fields", "command_bucket_id"):
            raise FlowError(f"netplex: ovs-ofctl group {key} is not supported")
        else:
            raise FlowError(f"unknown keyword {key}")
    if group_id is None:
        if command == "delete":
            return Group(OFPG_ANY, "all")
        raise FlowError("must specify a group_id")
    if command == "delete":
        return Group(group_id, "all")
    if gtype is None:
        raise FlowError("must specify a type")
    buckets = [_parse_bucket(t, i, port_no, 0) for i, t in enumerate(bucket_texts)]
    if gtype == "indirect" and len(buckets) > 1:
        raise FlowError("Indirect groups can have at most one bucket.")
    if gtype == "ff" and any(b.watch_port == OFPP_ANY and b.watch_group == OFPG_ANY for b in buckets):
        raise FlowError("fast failover bucket requires watch_port or watch_group")
    weights = tuple(b.weight for b in buckets)
    if gtype == "select" and any(weights) and dp_hash_table(weights) is None:
        raise FlowError("netplex: ovs-ofctl select group weights needing more than 256 hash values "
                        "(OVS's default selection method) are not supported")
    return Group(group_id, gtype, buckets, method)


def _fmt_port(n: int) -> str:
    return {0xFFFE: "LOCAL", 0xFFF8: "IN_PORT", 0xFFFD: "CONTROLLER"}.get(n, str(n))


def format_group(g: Group, version: int, command: str = "") -> str:
    """ofputil_group_format: OpenFlow 1.1-1.4 leave bucket ids out, 1.0 (Nicira) and 1.5 print them."""
    of13 = version >= 2
    ids = version == 1 or version >= 6
    head = f"{command} " if command else ""
    out = f"{head}group_id={g.group_id},type={g.type}"
    if g.selection_method and ids:     # ofputil_group_properties_format (Nicira and 1.5 carry it)
        out += f",selection_method={g.selection_method}"
    for b in g.buckets:
        parts = []
        if ids:
            parts.append(f"bucket_id:{b.bucket_id}")
        if b.weight != 1 or (g.type == "select" and b.weight != 1):
            parts.append(f"weight:{b.weight}")
        if b.watch_port != OFPP_ANY:
            parts.append(f"watch_port:{_fmt_port(b.watch_port)}")
        if b.watch_group != OFPG_ANY:
            parts.append(f"watch_group:{b.watch_group}")
        parts.append(f"actions={format_actions(b.actions, of13) if b.actions else 'drop'}")
        out += ",bucket=" + ",".join(parts)
    return out
