"""Shared pieces of the iproute2 6.1 tools (`ip`, `bridge`): argument matching,
the errors iproute2 prints, and how a link's header line is formatted.

Reference: iproute2-6.1 lib/utils.c (matches, invarg, duparg2, get_prefix),
ip/ipaddress.c (print_linkinfo, print_link_flags, print_stats64).
"""
from __future__ import annotations

import re
from typing import Any

from netplex.errors import NetplexError
from netplex.machine import Machine
from netplex.packet.addr import bytes_to_mac, ip_to_int
from netplex.stack.bond import Bond
from netplex.stack.device import Veth
from netplex.stack.if_flags import (
    IFF_ALLMULTI,
    IFF_BROADCAST,
    IFF_DYNAMIC,
    IFF_LOOPBACK,
    IFF_MASTER,
    IFF_MULTICAST,
    IFF_NOARP,
    IFF_NOTRAILERS,
    IFF_POINTOPOINT,
    IFF_PROMISC,
    IFF_SLAVE,
)
from netplex.stack.stp import CS_NS, HZ

__all__ = ["IpError", "matches", "invarg", "duparg2", "need_arg", "parse_prefix", "parse_inet_addr", "parse_s32", "parse_u32", "s32",
           "link_name", "link_flags", "operstate", "link_header", "link_lines", "stats_lines",
           "ifname_or_error"]


class IpError(NetplexError):
    """A user error: `message` exactly as the tool prints it (with newline) and its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message if message.endswith("\n") or not message else message + "\n", status=status)


def matches(arg: str, keyword: str) -> bool:
    """iproute2's matches(): `arg` is a non-empty prefix of `keyword`."""
    return 0 < len(arg) <= len(keyword) and keyword.startswith(arg)


def invarg(msg: str, arg: str) -> IpError:
    """invarg(): `Error: argument "X" is wrong: MSG` (MSG often carries its own newline)."""
    return IpError(f'Error: argument "{arg}" is wrong: {msg}\n', 255)


def duparg2(key: str, arg: str) -> IpError:
    return IpError(f'Error: either "{key}" is duplicate, or "{arg}" is a garbage.\n', 255)


def need_arg(args: list[str], i: int) -> str:
    """NEXT_ARG(): the word at `i`, or incomplete_command()'s error when the line ends first."""
    if i >= len(args):
        raise IpError('Command line is not complete. Try option "help"', 255)
    return args[i]


def need_arg_past(args: list[str], i: int, word: str) -> tuple[str, int]:
    """need_arg at `i`, and past an optional `word` the next one (`via inet ADDR`, `to PREFIX`,
    `as to LABELS`): the value and its index."""
    v = need_arg(args, i)
    if v == word:
        i += 1
        v = need_arg(args, i)
    return v, i


def _dotted(text: str) -> int | None:
    """inet_pton-like parse of a dotted quad, None when invalid."""
    try:
        return ip_to_int(text)
    except ValueError:
        return None


def parse_prefix(text: str, allow_default: bool = True, family_known: bool = False) -> tuple[int, int]:
    """get_prefix(): `A/P`, `A` (a /32) or `default`; else iproute2's error (status 1), which names
    the family (family_name_verbose: "inet" once an earlier address fixed it, else "any valid")."""
    if allow_default and text in ("default", "any", "all"):
        return 0, 0
    addr, slash, plen_s = text.partition("/")
    a = _dotted(addr)
    plen = 32
    if slash:
        if not plen_s.isdigit() or int(plen_s) > 32:
            a = None
        else:
            plen = int(plen_s)
    if a is None:
        raise IpError(f'Error: {"inet" if family_known else "any valid"} prefix is expected rather than "{text}".', 1)
    return a, plen


def parse_inet_addr(text: str) -> int:
    """get_addr() for a single IPv4 address (status 1 when invalid)."""
    a = _dotted(text)
    if a is None:
        raise IpError(f'Error: inet address is expected rather than "{text}".', 1)
    return a


def parse_u32(text: str) -> int | None:
    """get_u32 with base 0 (decimal, 0x hex, leading-0 octal); None when invalid."""
    try:
        if text.lower().startswith("0x"):
            v = int(text[2:], 16)
        elif len(text) > 1 and text.startswith("0"):
            v = int(text[1:], 8)
        else:
            if not text.isdigit():
                return None
            v = int(text)
    except ValueError:
        return None
    return v if 0 <= v <= 0xFFFFFFFF else None


def parse_s32(text: str) -> int | None:
    """get_integer: strtol with base 0 reading the whole word, within an int; None when invalid."""
    m = re.fullmatch(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", text)
    if m is None:
        return None
    body = m.group(2)
    v = int(body, 16) if body[:2].lower() == "0x" else int(body, 8) if body.startswith("0") else int(body)
    v = -v if m.group(1) == "-" else v
    return v if -0x80000000 <= v <= 0x7FFFFFFF else None


def s32(v: int) -> int:
    """A u32 the kernel keeps, as iproute2 prints it with %d (IFLA_TXQLEN 4294967295: -1)."""
    return v - (1 << 32) if v & 0x80000000 else v


# /usr/share/iproute2/rt_dsfield as Debian 12 ships it (rtnl_dsfield_a2n / rtnl_dsfield_n2a)
DSFIELD_NAMES: dict[int, str] = {
    0x00: "default", 0x28: "AF11", 0x30: "AF12", 0x38: "AF13", 0x48: "AF21", 0x50: "AF22", 0x58: "AF23",
    0x68: "AF31", 0x70: "AF32", 0x78: "AF33", 0x88: "AF41", 0x90: "AF42", 0x98: "AF43", 0x20: "CS1",
    0x40: "CS2", 0x60: "CS3", 0x80: "CS4", 0xA0: "CS5", 0xC0: "CS6", 0xE0: "CS7", 0xB8: "EF"}
_DSFIELD_IDS = {v: k for k, v in DSFIELD_NAMES.items()}


def parse_dsfield(text: str) -> int | None:
    """rtnl_dsfield_a2n: a name of rt_dsfield, else a hex number (strtoul base 16) up to 255; None when invalid."""
    if text in _DSFIELD_IDS:
        return _DSFIELD_IDS[text]
    body = text[2:] if text[:2].lower() == "0x" else text
    if not body or any(c not in "0123456789abcdefABCDEF" for c in body):
        return None
    v = int(body, 16)
    return v if v <= 255 else None


def parse_tos(text: str) -> int:
    """`tos|dsfield TOS` of ip route get and ip rule: rtnl_dsfield_a2n, else invarg."""
    tos = parse_dsfield(text)
    if tos is None:
        raise invarg("TOS value is invalid\n", text)
    return tos


def dsfield_name(v: int) -> str:
    """rtnl_dsfield_n2a: the rt_dsfield name, else 0x%02x."""
    return DSFIELD_NAMES.get(v) or f"{v:#04x}"


def ifname_or_error(ns: Any, name: str) -> Any:
    dev = ns.devices.get(name)
    if dev is None:
        raise IpError(f'Cannot find device "{name}"', 1)
    return dev


# ---------------------------------------------------------------- links

def link_name(dev: Any) -> str:
    """`eth0@if2` (peer in another namespace), `v1@v2` (same namespace) or `eth0`."""
    if isinstance(dev, Veth) and dev.peer is not None:
        peer = dev.peer
        if peer.ns is dev.ns:
            return f"{dev.name}@{peer.name}"
        return f"{dev.name}@if{peer.ifindex}"
    suffix = dev.link_suffix()
    if suffix is not None:
        return f"{dev.name}@{suffix}"
    return dev.name


def link_netns(dev: Any, machine: Machine | None = None) -> str | None:
    """` link-netns NAME` (the peer's namespace has a name on this machine: /run/netns/NAME)
    or ` link-netnsid N` (it has none: a machine's root namespace seen from one of its named
    ones, or another machine's namespace, which no /run/netns of this machine names; the id
    is allocated on first dump, as rtnl_fill_link_netnsid does), or None."""
    if not (isinstance(dev, Veth) and dev.peer is not None and dev.peer.ns is not dev.ns):
        return None
    peer_ns = dev.peer.ns
    if machine is not None and peer_ns not in machine.namespaces():
        return f" link-netnsid {machine.peernet2id_alloc(dev.ns, peer_ns)}"
    if machine is not None and peer_ns is machine.root and machine.netns_name(dev.ns) is not None:
        nsid = machine.peernet2id(dev.ns, peer_ns)
        if nsid is not None:
            return f" link-netnsid {nsid}"
    return f" link-netns {peer_ns.name}"


def link_flags(dev: Any) -> str:
    """print_link_flags(): `<NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN>`."""
    f = dev.flags()
    carrier = dev.up and dev.has_carrier()
    names: list[str] = []
    if dev.up and not carrier:
        names.append("NO-CARRIER")
    for bit, name in ((IFF_LOOPBACK, "LOOPBACK"), (IFF_BROADCAST, "BROADCAST"),
                      (IFF_POINTOPOINT, "POINTOPOINT"), (IFF_MULTICAST, "MULTICAST"),
                      (IFF_NOARP, "NOARP"), (IFF_ALLMULTI, "ALLMULTI"), (IFF_PROMISC, "PROMISC"),
                      (IFF_MASTER, "MASTER"), (IFF_SLAVE, "SLAVE"),
                      (IFF_DYNAMIC, "DYNAMIC"), (IFF_NOTRAILERS, "NOTRAILERS")):
        if f & bit:
            names.append(name)
    if dev.up:
        names.append("UP")
    if carrier:
        names.append("LOWER_UP")
    # IFLA_LINK names a device of this namespace that is down: a veth's peer, the lower
    # device of a VLAN or macvlan (print_linkinfo's m_flag)
    link = dev.peer if isinstance(dev, Veth) else dev.lower_dev()
    if link is not None and link.ns is dev.ns and not link.up and link_name(dev).endswith("@" + link.name):
        names.append("M-DOWN")
    return "<" + ",".join(names) + ">"


def operstate(dev: Any) -> str:
    """IFLA_OPERSTATE, as the device computes it (NetDevice.operstate)."""
    return dev.operstate()


def link_header(dev: Any, mode: bool = True) -> str:
    """The first line of `ip link` / `ip addr` for a device, without newline."""
    parts = [f"{dev.ifindex}: {link_name(dev)}: {link_flags(dev)} mtu {dev.mtu} qdisc {dev.qdisc_name()}"]
    if dev.master is not None:
        parts.append(f"master {dev.master.name}")
    parts.append(f"state {operstate(dev)}")
    if mode:
        parts.append("mode DEFAULT")
    # iproute2 prints IFLA_TXQLEN only when it is not 0 (the line then ends "group default ")
    group = "default" if dev.netdev_group == 0 else str(dev.netdev_group)   # rtnl_group_n2a
    parts.append(f"group {group} qlen {s32(dev.txqueuelen)}" if dev.txqueuelen else f"group {group} ")
    return " ".join(parts)


def link_lladdr_line(dev: Any, machine: Machine | None = None) -> str:
    text = getattr(dev, "lladdr_text", None)   # link/gre LOCAL peer REMOTE
    if text is not None:
        return text()
    if dev.link_type == "loopback":
        line = f"    link/loopback {bytes_to_mac(dev.mac)} brd 00:00:00:00:00:00"   # lo takes a MAC (eth_mac_addr)
    else:
        line = f"    link/{dev.link_type} {bytes_to_mac(dev.mac)} brd ff:ff:ff:ff:ff:ff"
    netns = link_netns(dev, machine)
    if netns is not None:
        line += netns
    return line


def _cols(values: list[list[int]], stats_level: int) -> list[int]:
    cols = [len("*X errors:"), len("packets"), len("errors"), len("dropped"), len("heartbt"),
            len("overrun"), len("compressed"), len("otherhost")]
    for row in values:
        for i, v in enumerate(row):
            cols[i] = max(cols[i], len(str(v)))
    return cols


def stats_lines(dev: Any, level: int = 1) -> list[str]:
    """print_stats64() for `ip -s link` (one -s; -s -s adds the error blocks)."""
    s = dev.stats
    rx = [s.rx_bytes, s.rx_packets, s.rx_errors, s.rx_dropped, 0, s.multicast]
    tx = [s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped, 0, 0]
    rows = [rx, tx]
    transns = dev.carrier_changes   # IFLA_CARRIER_CHANGES
    if level > 1:
        rows += [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, transns]]   # the blank bytes column first
    c = _cols(rows, level)

    def nums(vals: list[int]) -> str:
        return "    " + "".join(f"{v:>{c[i]}} " for i, v in enumerate(vals))

    out = [f"    RX: {'bytes':>{c[0] - 4}} {'packets':>{c[1]}} {'errors':>{c[2]}} {'dropped':>{c[3]}} "
           f"{'missed':>{c[4]}} {'mcast':>{c[5]}} {'':>{c[6]}}", nums(rx)]
    if level > 1:
        out.append(f"    RX errors: {'length':>{c[1]}} {'crc':>{c[2]}} {'frame':>{c[3]}} {'fifo':>{c[4]}} "
                   f"{'overrun':>{c[5]}}")
        out.append("    " + f"{'':>{c[0]}} " + "".join(f"{0:>{c[i]}} " for i in range(1, 6)))
    out += [f"    TX: {'bytes':>{c[0] - 4}} {'packets':>{c[1]}} {'errors':>{c[2]}} {'dropped':>{c[3]}} "
            f"{'carrier':>{c[4]}} {'collsns':>{c[5]}} {'':>{c[6]}}", nums(tx)]
    if level > 1:
        out.append(f"    TX errors: {'aborted':>{c[1]}} {'fifo':>{c[2]}} {'window':>{c[3]}} {'heartbt':>{c[4]}} "
                   f"{'transns':>{c[5]}}")
        out.append("    " + f"{'':>{c[0]}} " + "".join(f"{0:>{c[i]}} " for i in range(1, 5)) + f"{transns:>{c[5]}} ")
    return out


LOOPBACK_TAIL = ("addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 "
                 "tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ")


def promisc_allmulti(dev: Any) -> tuple[int, int]:
    """IFLA_PROMISCUITY and IFLA_ALLMULTI: a bridge port is promiscuous and all-multicast;
    `ip link set promisc on` counts once more."""
    return dev.promiscuity(), (dev.bridge_port is not None) + bool(dev.gflags & IFF_ALLMULTI)


def link_lines(dev: Any, *, mode: bool = True, stats: int = 0, details: bool = False,
               machine: Machine | None = None) -> list[str]:
    """The `ip link show` record of one device, as lines without newlines (`mode`: False for `ip addr`'s)."""
    lines = [link_header(dev, mode), link_lladdr_line(dev, machine)]
    if details:
        port = dev.bridge_port
        promisc, allmulti = promisc_allmulti(dev)
        lines[1] += f" promiscuity {promisc}  allmulti {allmulti} minmtu {dev.min_mtu} maxmtu {dev.max_mtu} "
        extra = details_line(dev)
        master = dev.master
        if extra and isinstance(master, Bond):
            cut = extra.find("addrgenmode ")
            if cut >= 0:
                extra = extra[:cut] + "\n" + master.slave_text(dev) + extra[cut:]
                lines.extend(extra.split("\n"))
                extra = ""
        if extra and port is not None:
            # the kind's own attributes, then the bridge port's (bridge_slave), then the common tail
            cut = extra.find("addrgenmode ")
            if cut >= 0:
                lines.append(extra[:cut])
                extra = bridge_slave_line(port) + extra[cut:]
        if extra:
            lines.append(extra)
        elif dev.kind == "loopback":   # no IFLA_LINKINFO: the common tail goes on the link/ line
            lines[1] += LOOPBACK_TAIL
    if dev.alias and mode:   # IFLA_IFALIAS: `ip link` prints it, `ip addr` does not
        lines.append(f"    alias {dev.alias}")
    if stats:
        lines += stats_lines(dev, stats)
    return lines


def onoff(v: bool) -> str:
    """iproute2's `on`/`off` for a flag."""
    return "on" if v else "off"


def bridge_slave_line(port: Any) -> str:
    """iplink_bridge_slave.c's print_opt, the attributes netplex models (ends before addrgenmode)."""
    from netplex.shell.brctl import _port_view
    from netplex.shell.bridge import port_state
    from netplex.stack.bridge import PORT_STATE_NAMES

    pv = _port_view(port.bridge, port)
    mt, ft, ht = pv["timers"]

    def bid(b: bytes) -> str:
        return b[:2].hex() + "." + ":".join(f"{x:x}" for x in b[2:])

    return (f"    bridge_slave state {PORT_STATE_NAMES[port_state(port)]} priority {port.priority} "
            f"cost {port.path_cost} hairpin {onoff(port.hairpin)} guard {onoff(port.guard)} "
            f"root_block {onoff(port.root_block)} fastleave {onoff(port.fastleave)} "
            f"learning {onoff(port.learning)} flood {onoff(port.flood)} port_id 0x{pv['port_id']:x} "
            f"port_no 0x{port.port_no:x} designated_port {pv['dport']} designated_cost {pv['dcost']} "
            f"designated_bridge {bid(pv['dbridge'])} designated_root {bid(pv['droot'])} "
            f"hold_timer {ht / 100:7.2f} message_age_timer {mt / 100:7.2f} forward_delay_timer {ft / 100:7.2f} "
            f"topology_change_ack {int(pv['tca'])} config_pending {int(pv['cp'])} proxy_arp {onoff(port.proxy_arp)} "
            f"proxy_arp_wifi {onoff(port.proxy_arp_wifi)} mcast_router {port.mcast_router} "
            f"mcast_fast_leave {onoff(port.fastleave)} mcast_flood {onoff(port.mcast_flood)} "
            f"bcast_flood {onoff(port.bcast_flood)} mcast_to_unicast off "
            f"neigh_suppress {onoff(port.neigh_suppress)} group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off "
            f"isolated {onoff(port.isolated)} locked off ")


def bridge_id(br: Any) -> str:
    """`8000.a64b700a65d4`: priority and the bridge address (zero until it had a port)."""
    mac = br.mac if (br.had_ports or br.mac_set_by_user) else b"\x00" * 6
    return f"{br.priority:04x}." + mac.hex()


def _xhex(v: int) -> str:
    """iproute2's print_0xhex ("%#llx"): 0 prints as `0`, 8 as `0x8`."""
    return f"{v:#x}" if v else "0"


def _clock_t(ns: int) -> int:
    """jiffies_to_clock_t(ns_to_jiffies): what IFLA_BR_* timers report, in centiseconds."""
    return (ns * HZ // 1_000_000_000) * 100 // HZ


def bridge_details(br: Any) -> str:
    """br_fill_info + iplink_bridge.c's print_opt: every IFLA_BR_* attribute this kernel
    (no CONFIG_BRIDGE_VLAN_FILTERING: no vlan_protocol/vlan_default_pvid/vlan_stats_*) reports,
    in iproute2's order; the operational STP values (the root's timers) as the kernel keeps them."""
    from netplex.shell.brctl import _stp_view

    v = _stp_view(br)
    hello_t, tcn_t, tc_t = v["timers"]

    def bid(b: bytes) -> str:
        return b[:2].hex() + "." + ":".join(f"{x:x}" for x in b[2:])

    m = br.mcast
    querier = m.querier if m is not None else 0
    router = m.router if m is not None else 1
    q_int = m.query_interval if m is not None else 125 * 1_000_000_000
    qr_int = m.query_response_interval if m is not None else 10 * 1_000_000_000
    querier_int = m.querier_interval if m is not None else 255 * 1_000_000_000
    sq_int = m.startup_query_interval if m is not None else 125 * 1_000_000_000 // 4
    sq_cnt = m.startup_query_count if m is not None else 2
    lm_cnt = m.last_member_count if m is not None else 2
    memb_int = m.membership_interval if m is not None else 260 * 1_000_000_000
    return (f"    bridge forward_delay {v['fd'] // CS_NS} hello_time {v['hello'] // CS_NS} max_age {v['max_age'] // CS_NS} "
            f"ageing_time {br.ageing_ns // 10_000_000} stp_state {br.stp_state} priority {br.priority} "
            f"vlan_filtering {br.vlan_filtering} bridge_id {bid(v['bridge_id'])} designated_root {bid(v['root'])} "
            f"root_port {v['root_port']} root_path_cost {v['cost']} topology_change {int(v['tc'])} "
            f"topology_change_detected {int(v['tcd'])} hello_timer {hello_t / 100:7.2f} tcn_timer {tcn_t / 100:7.2f} "
            f"topology_change_timer {tc_t / 100:7.2f} gc_timer {br.gc_timer_ns() // CS_NS / 100:7.2f} group_fwd_mask {_xhex(br.group_fwd_mask)} "
            f"group_address 01:80:c2:00:00:00 mcast_snooping {br.mcast_snooping} no_linklocal_learn 0 "
            f"mcast_vlan_snooping 0 mcast_router {router} mcast_query_use_ifaddr 0 mcast_querier {querier} "
            f"mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count {lm_cnt} "
            f"mcast_startup_query_count {sq_cnt} mcast_last_member_interval 100 "
            f"mcast_membership_interval {_clock_t(memb_int)} mcast_querier_interval {_clock_t(querier_int)} "
            f"mcast_query_interval {_clock_t(q_int)} mcast_query_response_interval {_clock_t(qr_int)} "
            f"mcast_startup_query_interval {_clock_t(sq_int)} mcast_stats_enabled 0 mcast_igmp_version 2 "
            "mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 "
            "addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 "
            "tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ")


def details_line(dev: Any) -> str:
    """The `ip -d link` kind line (the attributes netplex models)."""
    kind = dev.kind
    if kind == "veth":
        return ("    veth addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 "
                "tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ")
    if kind == "bridge":
        return bridge_details(dev)
    if isinstance(dev, Bond):
        tso = 524280 if dev.slaves and all(s.dev.kind == "veth" for s in dev.slaves) else 65536
        return (dev.details_text() + f"addrgenmode eui64 numtxqueues {dev.num_tx_queues} numrxqueues "
                f"{dev.num_tx_queues} gso_max_size 65536 gso_max_segs 65535 tso_max_size {tso} "
                "tso_max_segs 65535 gro_max_size 65536 ")
    text = getattr(dev, "details_text", None)   # vlan, vxlan, gre, gretap
    if text is not None:
        lower = getattr(dev, "lower", None)   # a stacked device takes its lower device's TSO limit
        tso = 524280 if lower is not None and lower.kind == "veth" else 65536
        return (text() + "addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 "
                f"tso_max_size {tso} tso_max_segs 65535 gro_max_size 65536 ")
    if kind == "tun":
        # iplink_tun.c: a multi-queue tap has IFLA_TUN_NUM_QUEUES (its attached files: the one
        # holder netplex models) and MAX_TAP_QUEUES (256) queues
        queues = 256 if dev.multi_queue else 1
        mq = f"multi_queue numqueues {int(dev.peer is not None)} numdisabled 0 " if dev.multi_queue else ""
        return (f"    tun type {dev.mode} pi off vnet_hdr off {mq}persist {'on' if dev.persist else 'off'} "
                f"addrgenmode eui64 numtxqueues {queues} numrxqueues {queues} gso_max_size 65536 gso_max_segs 65535 "
                "tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ")
    return ""
