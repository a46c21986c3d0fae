"""The datapath's flows as `ovs-dpctl` and `ovs-appctl dpctl/...` show them (lib/dpctl.c:
dpctl_dump_flows, dpctl_del_flows, dpctl_show; lib/odp-util.c odp_flow_format and
format_odp_key_attr for the key/mask text; ovs-dpctl(8)).

netplex's datapath is the kernel's (`system@ovs-system`, stack/openvswitch.py); its flows
are ovs-vswitchd's megaflows (flowcache.py). A flow prints as OVS 3.1 prints a kernel
datapath flow: `recirc_id(0),in_port(2),eth(src=..,dst=..),eth_type(0x0800),ipv4(frag=no),
packets:N, bytes:N, used:0.004s, actions:3` — attributes wholly wildcarded left out, a
partly masked field as `value/mask`; `-m` prints every attribute with its mask, port names
and the flow's ufid. Before a dump the revalidators' round runs (idle flows deleted, stale
ones re-translated), as OVS's threads would have done meanwhile.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from netplex.ovs.flow import ETH_P_IP, VLAN_CFI, format_mac
from netplex.ovs.flowcache import Megaflow
from netplex.ovs.vswitchd import OvsVswitchd
from netplex.ovs.xlate import format_odp, revalidate_all
from netplex.packet.addr import int_to_ip
from netplex.packet.ethernet import ETH_P_ARP
from netplex.shell.result import Result
from netplex.stack.openvswitch import OVS_DATAPATH_NAME, OvsInternalDev, OvsTunnelVport

__all__ = ["dpctl", "dpif_dump_flows", "format_key"]

DP_NAME = f"system@{OVS_DATAPATH_NAME}"
_ALL = (1 << 64) - 1
_CT_FLAGS = (("new", 0x01), ("est", 0x02), ("rel", 0x04), ("rpl", 0x08), ("inv", 0x10), ("trk", 0x20),
             ("snat", 0x40), ("dnat", 0x80))


def _masked(name: str, v: int, m: int, full: int, text: Callable[[int], str], mtext: Callable[[int], str],
            verbose: bool) -> str | None:
    """One field of an attribute: left out when wildcarded (unless verbose), `name=v/m` when partial."""
    if not m and not verbose:
        return None
    if m == full:
        return f"{name}={text(v)}"
    return f"{name}={text(v)}/{mtext(m)}"      # the packet's value, unmasked, as the ukey keeps it


def _attr(name: str, fields: list[str | None]) -> str | None:
    got = [f for f in fields if f is not None]
    return f"{name}({','.join(got)})" if got else None


def format_key(flow: dict[str, int], mask: dict[str, int], in_port: str, verbose: bool = False) -> str:
    """odp_flow_format of a megaflow's key and mask."""
    def g(k: str) -> tuple[int, int]:
        return flow.get(k, 0), mask.get(k, 0)

    dec: Callable[[int], str] = str

    def hx(x: int) -> str:     # C's %#x: no prefix for 0
        return f"{x:#x}" if x else "0"

    ip = int_to_ip
    out: list[str | None] = []
    if verbose:
        out += ["skb_priority(0/0)", "skb_mark(0/0)"]
    st, sm = g("ct_state")
    if sm or verbose:
        flags = "".join(("+" if st & b else "-") + n for n, b in _CT_FLAGS if sm & b)
        out.append(f"ct_state({flags})" if sm else "ct_state(0/0)")
    for k in ("ct_zone", "ct_mark"):
        v, m = g(k)
        full = 0xFFFF if k == "ct_zone" else 0xFFFFFFFF
        if m or verbose:
            out.append(f"{k}({hx(v) if k == 'ct_mark' else v}" + ("" if m == full else f"/{hx(m)}") + ")")
    if verbose:
        out.append("ct_label(0/0)")
    rid = flow.get("recirc_id", 0)
    out.append(f"recirc_id({hx(rid)})")
    if verbose:
        out.append("dp_hash(0/0)")
    out.append(f"in_port({in_port})")
    eth = _attr("eth", [_masked("src", *g("dl_src"), (1 << 48) - 1, format_mac, format_mac, verbose),
                        _masked("dst", *g("dl_dst"), (1 << 48) - 1, format_mac, format_mac, verbose)])
    out.append(eth)
    dl_type = flow.get("dl_type", 0)
    tci, tm = g("vlan_tci")
    tail: list[str | None] = []
    if tci & VLAN_CFI:
        out.append("eth_type(0x8100)")
        tm |= VLAN_CFI if tm else 0
        vid, vm, pcp, pm = tci & 0xFFF, tm & 0xFFF, tci >> 13, tm >> 13
        parts = []
        if verbose or vid or vm:
            parts.append(f"vid={vid}" + ("" if vm == 0xFFF else f"/{vm:#x}"))
        if verbose or pcp or pm:
            parts.append(f"pcp={pcp}" + ("" if pm == 7 else f"/{pm:#x}"))
        out.append(f"vlan({','.join(parts)})")
        target = tail
    else:
        target = out
    target.append(f"eth_type({dl_type:#06x})")
    if dl_type == ETH_P_IP:
        proto = flow.get("nw_proto", 0)
        target.append(_attr("ipv4", [
            _masked("src", *g("nw_src"), 0xFFFFFFFF, ip, ip, verbose),
            _masked("dst", *g("nw_dst"), 0xFFFFFFFF, ip, ip, verbose),
            _masked("proto", *g("nw_proto"), 0xFF, dec, hx, verbose),
            _masked("tos", *g("nw_tos"), 0xFF, hx, hx, verbose),
            _masked("ttl", *g("nw_ttl"), 0xFF, dec, hx, verbose),
            "frag=no"]))
        l4 = {6: "tcp", 17: "udp", 1: "icmp"}.get(proto)
        if l4 is not None:
            names = ("type", "code") if l4 == "icmp" else ("src", "dst")
            full = 0xFF if l4 == "icmp" else 0xFFFF
            target.append(_attr(l4, [_masked(names[0], *g("tp_src"), full, dec, hx, verbose),
                                     _masked(names[1], *g("tp_dst"), full, dec, hx, verbose)]))
            if l4 == "tcp" and (mask.get("tcp_flags") or verbose):
                v, m = g("tcp_flags")
                target.append(f"tcp_flags({v:#x}" + ("" if m == 0xFFF else f"/{m:#x}") + ")")
    elif dl_type == ETH_P_ARP:
        target.append(_attr("arp", [
            _masked("sip", *g("nw_src"), 0xFFFFFFFF, ip, ip, verbose),
            _masked("tip", *g("nw_dst"), 0xFFFFFFFF, ip, ip, verbose),
            _masked("op", *g("nw_proto"), 0xFF, dec, hx, verbose),
            _masked("sha", *g("arp_sha"), (1 << 48) - 1, format_mac, format_mac, verbose),
            _masked("tha", *g("arp_tha"), (1 << 48) - 1, format_mac, format_mac, verbose)]))
    if tail:
        out.append("encap(" + ",".join(x for x in tail if x is not None) + ")")
    return ",".join(x for x in out if x is not None)


def _used(e: Megaflow, now: int) -> str:
    if e.used is None:
        return "never"
    d = max(0, now - e.used) // 1_000_000
    return f"{d // 1000}.{d % 1000:03d}s"


def _tcp_flags(flags: int) -> str:
    """packet_format_tcp_flags: the TCP flags the flow's packets carried."""
    names = (("S", 0x002), ("F", 0x001), ("P", 0x008), ("R", 0x004), ("U", 0x020), (".", 0x010), ("E", 0x040),
             ("C", 0x080), ("N", 0x100))
    return "".join(c for c, b in names if flags & b) or "none"


def _ufid(e: Megaflow) -> str:
    h = hashlib.sha1(repr((e.part, e.fields, e.key)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _port_names(vsd: OvsVswitchd) -> dict[int, str]:
    dp = next((xb.dp for xb in vsd.bridges.values()), None)
    return {} if dp is None else {n: d.name for n, d in dp.vports.items()}


def _in_port(vsd: OvsVswitchd, e: Megaflow) -> int | None:
    xb = vsd.bridges.get(e.part[0])
    p = xb.ports.get(e.part[1]) if xb is not None else None
    if p is None:
        return None
    if p.tunnel is not None:
        dev = p.dev
        return xb.dp.port_of.get(dev.ifindex) if xb is not None and dev is not None else None
    return p.dp_port


def dump_flows(vsd: OvsVswitchd, verbose: bool, bridge: str | None = None) -> str:
    """The datapath's flows (only those whose input port is `bridge`'s, for dpif/dump-flows)."""
    revalidate_all(vsd)
    now = vsd.now()
    names = _port_names(vsd)
    lines = []
    for e in vsd.flow_cache.flows():
        if bridge is not None and e.part[0] != bridge:
            continue
        n = _in_port(vsd, e)
        if n is None:
            continue
        port = names.get(n, str(n)) if verbose else str(n)
        key = format_key(e.flow, e.mask(), port, verbose)
        acts = format_odp(e.odp)
        if verbose:
            acts = ",".join(names.get(int(a), a) if a.isdigit() else a for a in _split_actions(acts))
        head = f"ufid:{_ufid(e)}, " if verbose else ""
        dp = "dp:ovs, " if verbose else ""
        flags = f", flags:{_tcp_flags(e.tcp_flags)}" if e.tcp_flags else ""
        lines.append(f"{head}{key}, packets:{e.packets}, bytes:{e.bytes}, used:{_used(e, now)}{flags}, "
                      f"{dp}actions:{acts}")
    return "".join(line + "\n" for line in lines)


def _split_actions(text: str) -> list[str]:
    """The top-level actions of a datapath action list (commas inside parentheses kept)."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    return out + [cur]


def show(vsd: OvsVswitchd) -> str:
    """dpctl_show for the kernel datapath: lookups, flows, masks and the ports."""
    revalidate_all(vsd)
    cache = vsd.flow_cache
    masks = {e.fields for e in cache.flows()}
    n_pkts = cache.hits + cache.misses
    lines = [f"{DP_NAME}:", f"  lookups: hit:{cache.hits} missed:{cache.misses} lost:0",
             f"  flows: {cache.n_flows}",
             f"  masks: hit:{cache.mask_hits} total:{len(masks)} hit/pkt:"
             f"{cache.mask_hits / n_pkts if n_pkts else 0.0:.2f}"]
    dp = next((xb.dp for xb in vsd.bridges.values()), None)
    if dp is not None:
        lines.append(f"  port 0: {OVS_DATAPATH_NAME} (internal)")
        for n, dev in sorted(dp.vports.items()):
            if isinstance(dev, OvsInternalDev):
                lines.append(f"  port {n}: {dev.name} (internal)")
            elif isinstance(dev, OvsTunnelVport):
                lines.append(f"  port {n}: {dev.name} ({dev.ttype}: packet_type=ptap)"
                             if dev.ttype != "gre" else f"  port {n}: {dev.name} (gre: packet_type=legacy_l2)")
            else:
                lines.append(f"  port {n}: {dev.name}")
    return "\n".join(lines) + "\n"


def dpctl(vsd: OvsVswitchd | None, cmd: str, args: list[str], prog: str) -> Result:
    """dpctl/dump-flows [-m] [DP], dpctl/del-flows [DP], dpctl/show [DP] (`prog`: how errors are
    prefixed: `ovs-dpctl` or, through ovs-appctl, `ovs-vswitchd` with the server's error)."""
    appctl = prog != "ovs-dpctl"
    verbose = False
    rest: list[str] = []
    for a in args:
        if a in ("-m", "--more") and cmd == "dump-flows":
            verbose = True
        elif a.startswith("-") or "=" in a:
            return Result(2, "", f"netplex: {'ovs-appctl dpctl/' if appctl else 'ovs-dpctl '}{cmd} {a} is not supported\n")
        else:
            rest.append(a)
    if len(rest) > 1:
        return Result(2, "", f"netplex: {'ovs-appctl dpctl/' if appctl else 'ovs-dpctl '}{cmd} with "
                             f"{len(rest)} arguments is not supported\n")
    none = vsd is None or not vsd.bridges
    if none or (rest and rest[0] not in (DP_NAME, OVS_DATAPATH_NAME)):
        lines = ["no datapaths exist"] if none and not rest else []
        lines.append("datapath not found (Invalid argument)")
        if appctl:
            return Result(2, "", "".join(f"ovs-vswitchd: {x}\n" for x in lines)
                          + "ovs-appctl: ovs-vswitchd: server returned an error\n")
        return Result(1, "", "".join(f"ovs-dpctl: {x}\n" for x in lines))
    assert vsd is not None
    if cmd == "dump-flows":
        return Result(0, dump_flows(vsd, verbose))
    if cmd == "del-flows":
        vsd.flow_cache.flush()
        return Result(0, "")
    return Result(0, show(vsd))


def dpif_dump_flows(vsd: OvsVswitchd, args: list[str]) -> Result:
    """`ovs-appctl dpif/dump-flows BRIDGE` (ofproto/ofproto-dpif.c ofproto_unixctl_dpif_dump_flows):
    the datapath flows whose input port is one of the bridge's; its options are refused."""
    err = "ovs-appctl: ovs-vswitchd: server returned an error\n"
    opts = [a for a in args if a.startswith("-")]
    if opts:
        return Result(2, "", f"netplex: ovs-appctl dpif/dump-flows {opts[0]} is not supported\n")
    if not args:
        return Result(2, "", f"\"dpif/dump-flows\" command requires at least 1 arguments\n{err}")
    if args[-1] not in vsd.bridges:
        return Result(2, "", f"no such bridge\n{err}")
    return Result(0, dump_flows(vsd, False, args[-1]))
