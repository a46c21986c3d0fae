"""The /proc and /sys files a simulated node shows: `read_file(ns, path)`, and
the folders above them: `list_dir(ns, path)` (/proc/sys/..., /sys/class/net/...).

- /proc/sys/...: the sysctl value and a newline;
- /proc/net/arp: the ARP table as arp_seq_show prints it (NOARP entries skipped);
- /proc/net/route: the main table as fib_route_seq_show (net/ipv4/fib_trie.c) prints
  it, each line padded to 127 characters (what `route -n` and `netstat -rn` read);
- /proc/net/snmp, /proc/net/netstat, /proc/net/snmp6: the namespace's MIB counters
  (netplex.stack.snmp; what `nstat` reads);
- /proc/net/xt_recent/NAME: a `recent` match table as recent_seq_show prints it (read only);
- /sys/class/net/DEV/{address,broadcast,operstate,mtu,carrier,ifindex,iflink,type,flags,
  tx_queue_len,addr_len,ifalias,statistics/*}, DEV/bridge/* and DEV/brport/*, in the
  kernel's units (bridge timers in USER_HZ clock ticks, e.g. forward_delay 1500).

A file that exists but cannot be read raises `FileReadError(strerror)`: the
reader prints `cat: PATH: <strerror>` and exits 1 (reading `carrier` of a
down device gives "Invalid argument"; a directory gives "Is a directory").
A path that does not exist returns None.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import bytes_to_mac, int_to_ip
from netplex.shell.bridge import port_state
from netplex.shell.iproute_fmt import operstate, s32
from netplex.shell.registry import FileReadError  # noqa: F401  (raised here, caught by the text tools)
from netplex.stack import tcp
from netplex.stack.bond import Bond, proc_net_bonding
from netplex.stack.bridge import Bridge
from netplex.stack.device import Veth
from netplex.stack.neigh import NUD_NOARP, NUD_PERMANENT, NUD_VALID
from netplex.stack.netfilter.matches_xt import recent_proc_text
from netplex.stack.route import RT_TABLE_MAIN
from netplex.stack.snmp import proc_net_netstat, proc_net_snmp, proc_net_snmp6

__all__ = ["FileReadError", "list_dir", "read_file"]

KERNEL_RELEASE = "6.1.0-28-amd64"   # Debian 12's kernel: /proc/net/bonding's "Driver: v<UTS_RELEASE>"


_STATS = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "tx_bytes", "tx_packets", "tx_errors",
          "tx_dropped", "multicast")
_ZERO_STATS = ("collisions", "rx_compressed", "rx_crc_errors", "rx_fifo_errors", "rx_frame_errors",
               "rx_length_errors", "rx_missed_errors", "rx_nohandler", "rx_over_errors", "tx_aborted_errors",
               "tx_carrier_errors", "tx_compressed", "tx_fifo_errors", "tx_heartbeat_errors",
               "tx_window_errors")


def _proc_net_arp(ns: Any) -> str:
    out = ["IP address       HW type     Flags       HW address            Mask     Device\n"]
    for n in ns.neigh.entries.values():
        ns.neigh.refresh(n)
        if n.state & NUD_NOARP:
            continue
        flags = 0
        if n.state & NUD_VALID:
            flags |= 0x2
        if n.state & NUD_PERMANENT:
            flags |= 0x4
        mac = bytes_to_mac(n.lladdr) if n.lladdr is not None and flags else "00:00:00:00:00:00"
        out.append(f"{int_to_ip(n.ip):<16} 0x{1:<10x}0x{flags:<10x}{mac}     *        {n.dev.name}\n")
    return "".join(out)


RTF_UP, RTF_GATEWAY, RTF_HOST, RTF_REJECT = 0x1, 0x2, 0x4, 0x200  # include/uapi/linux/route.h


def _le_hex(addr: int) -> str:
    """An IPv4 address as the kernel prints a __be32 with %08X on a little-endian machine."""
    return f"{int.from_bytes(addr.to_bytes(4, 'big'), 'little'):08X}"


def _proc_net_route(ns: Any) -> str:
    lines = ["Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"]
    table = ns.fib.table(RT_TABLE_MAIN)
    routes = table.routes() if table is not None else []
    # the trie's leaves in key order; a leaf's aliases longest prefix first (fib_insert_alias)
    for r in sorted(routes, key=lambda r: (r.dst, -r.plen)):
        if r.type in ("broadcast", "multicast"):
            continue
        mask = (0xFFFFFFFF << (32 - r.plen)) & 0xFFFFFFFF if r.plen else 0
        flags = RTF_UP | (RTF_REJECT if r.type in ("unreachable", "prohibit") else 0)
        if r.gw:
            flags |= RTF_GATEWAY
        if r.plen == 32:
            flags |= RTF_HOST
        dev = r.dev.name if r.dev is not None else "*"
        lines.append(f"{dev}\t{_le_hex(r.dst)}\t{_le_hex(r.gw or 0)}\t{flags:04X}\t0\t0\t{r.metric}\t"
                     f"{_le_hex(mask)}\t0\t0\t0")
    return "".join(f"{line:<127}\n" for line in lines)


def _device_file(dev: Any, rest: list[str]) -> str | None:
    if not rest:
        raise FileReadError("Is a directory")
    f = rest[0]
    if f == "statistics":
        if len(rest) == 1:
            raise FileReadError("Is a directory")
        if rest[1] in _STATS:
            return str(getattr(dev.stats, rest[1]))
        return "0" if rest[1] in _ZERO_STATS else None
    if f == "bridge" and isinstance(dev, Bridge):
        return _bridge_file(dev, rest[1:])
    if f == "brport" and dev.bridge_port is not None:
        return _brport_file(dev.bridge_port, rest[1:])
    if len(rest) > 1:
        return None
    if f == "address":
        return bytes_to_mac(dev.mac)
    if f == "broadcast":
        return "00:00:00:00:00:00" if dev.link_type == "loopback" else "ff:ff:ff:ff:ff:ff"
    if f == "operstate":
        return operstate(dev).lower()
    if f == "mtu":
        return str(dev.mtu)
    if f == "carrier":
        if not dev.up:
            raise FileReadError("Invalid argument")
        return "1" if dev.has_carrier() else "0"
    if f in ("dormant", "testing"):   # dormant_show/testing_show: only a running device answers
        if not dev.up:
            raise FileReadError("Invalid argument")
        return "0"
    if f == "netdev_group":
        return str(dev.netdev_group)
    if f in _CONST_FILES:
        return _CONST_FILES[f]
    if f == "ifindex":
        return str(dev.ifindex)
    if f == "iflink":
        return str(dev.peer.ifindex if isinstance(dev, Veth) and dev.peer is not None else dev.ifindex)
    if f == "type":
        return "772" if dev.link_type == "loopback" else "1"
    if f == "flags":
        return f"0x{dev.flags():x}"
    if f == "tx_queue_len":
        return str(s32(dev.txqueuelen))   # fmt_dec: "%d"
    if f == "addr_len":
        return "6"
    if f == "ifalias":
        return dev.alias
    if f == "addr_assign_type":
        return "1" if dev.addr_assign_random else "3"
    return None


def _bridge_file(br: Bridge, rest: list[str]) -> str | None:
    if len(rest) != 1:
        if not rest:
            raise FileReadError("Is a directory")
        return None
    f = rest[0]
    from netplex.shell.brctl import _stp_view
    from netplex.stack.stp import CS_NS, fmt_id

    v = _stp_view(br)
    hello_t, tcn_t, tc_t = v["timers"]
    values = {
        "stp_state": br.stp_state, "forward_delay": v["fd"] // CS_NS, "hello_time": v["hello"] // CS_NS,
        "max_age": v["max_age"] // CS_NS, "ageing_time": br.ageing_ns // 10_000_000, "priority": br.priority,
        "bridge_id": fmt_id(v["bridge_id"]), "root_id": fmt_id(v["root"]), "root_port": v["root_port"],
        "root_path_cost": v["cost"], "hello_timer": hello_t, "tcn_timer": tcn_t, "topology_change_timer": tc_t,
        "group_fwd_mask": f"0x{br.group_fwd_mask:x}", "vlan_filtering": br.vlan_filtering,
        "group_addr": "01:80:c2:00:00:00", "topology_change": int(v["tc"]),
        "topology_change_detected": int(v["tcd"]), "default_pvid": br.vlan_default_pvid,
        "nf_call_iptables": 0, "nf_call_ip6tables": 0, "nf_call_arptables": 0,
    }
    return None if f not in values else str(values[f])


def _brport_file(port: Any, rest: list[str]) -> str | None:
    if len(rest) != 1:
        if not rest:
            raise FileReadError("Is a directory")
        return None
    f = rest[0]
    if f == "bridge":
        raise FileReadError("Is a directory")
    from netplex.shell.brctl import _port_view
    from netplex.stack.stp import fmt_id

    pv = _port_view(port.bridge, port)
    mt, ft, ht = pv["timers"]
    values = {
        "state": port_state(port), "port_no": f"0x{port.port_no:x}", "priority": port.priority,
        "path_cost": port.path_cost, "learning": int(port.learning), "unicast_flood": int(port.flood),
        "hairpin_mode": int(port.hairpin), "isolated": int(port.isolated), "bpdu_guard": int(port.guard),
        "root_block": int(port.root_block), "multicast_fast_leave": int(port.fastleave),
        "port_id": f"0x{pv['port_id']:x}", "designated_root": fmt_id(pv["droot"]),
        "designated_bridge": fmt_id(pv["dbridge"]), "designated_port": pv["dport"],
        "designated_cost": pv["dcost"], "message_age_timer": mt, "forward_delay_timer": ft, "hold_timer": ht,
        "change_ack": int(pv["tca"]), "config_pending": int(pv["cp"]),
    }
    return None if f not in values else str(values[f])


# net-sysfs.c files whose value netplex never changes (no link_mode / dev_id setter); netdev_group reads dev.netdev_group
_CONST_FILES = {"link_mode": "0", "dev_id": "0x0", "dev_port": "0", "netdev_group": "0", "proto_down": "0"}
_DEV_FILES = tuple(sorted(("addr_assign_type", "addr_len", "address", "broadcast", "carrier", "dormant", "flags",
                           "ifalias", "ifindex", "iflink", "mtu", "operstate", "statistics", "testing",
                           "tx_queue_len", "type", *_CONST_FILES)))
_PROC_NET = ["arp", "netstat", "route", "snmp", "snmp6", "xfrm_stat"]
# /proc/sys folders whose entries are device names (which may hold dots: eth0.100)
_PER_DEVICE = ("net.ipv4.conf", "net.ipv6.conf", "net.ipv4.neigh", "net.ipv6.neigh")


def list_dir(ns: Any, path: str) -> list[str] | None:
    """The names in a modelled folder (sorted), None when `path` is not one."""
    if path == "/proc/sys" or path.startswith("/proc/sys/"):
        prefix = path[len("/proc/sys"):].strip("/").replace("/", ".")
        names: set[str] = set()
        for key in ns.sysctl.keys():
            if prefix and not key.startswith(prefix + "."):
                continue
            rest = key[len(prefix) + 1:] if prefix else key
            names.add(rest.rsplit(".", 1)[0] if prefix in _PER_DEVICE else rest.split(".", 1)[0])
        return sorted(names) or None
    tops = {"/proc": ["net", "sys"], "/proc/net": _PROC_NET, "/sys": ["class"],
            "/sys/class": ["net"]}
    bonds = sorted(d.name for d in ns.devices.values() if isinstance(d, Bond))
    if bonds:   # bond_create_proc_dir: /proc/net/bonding exists while a bond does
        tops["/proc/net"] = sorted([*_PROC_NET, "bonding"])
        tops["/proc/net/bonding"] = bonds
    if path in tops:
        return tops[path]
    if path == "/sys/class/net":
        return sorted(ns.devices)
    if path.startswith("/sys/class/net/"):
        parts = [p for p in path[len("/sys/class/net/"):].split("/") if p]
        dev = ns.devices.get(parts[0])
        if dev is None:
            return None
        if len(parts) == 1:
            extra = (("bridge",) if isinstance(dev, Bridge) else ()) + (("brport",) if dev.bridge_port else ())
            return sorted(_DEV_FILES + extra)
        if parts[1:] == ["statistics"]:
            return sorted(_STATS + _ZERO_STATS)
    return None


def read_file(ns: Any, path: str) -> str | None:
    """The contents of `path` on the node, None when there is no such file."""
    if path.startswith("/proc/sys/"):
        key = path[len("/proc/sys/"):].replace("/", ".")
        if ns.sysctl.has(key) and not key.endswith("."):
            return ns.sysctl.get(key) + "\n"
        if list_dir(ns, path.rstrip("/")) is not None:
            raise FileReadError("Is a directory")
        return None
    if path == "/proc/net/arp":
        return _proc_net_arp(ns)
    if path == "/proc/net/route":
        return _proc_net_route(ns)
    if path == "/proc/net/xfrm_stat":
        return ns.xfrm.proc_stat()
    if path == "/proc/net/snmp":
        estab = sum(1 for sk in ns.sockets.tcp_conns.values() if sk.state in (tcp.ESTABLISHED, tcp.CLOSE_WAIT))
        return proc_net_snmp(ns.mib, ns.sysctl.values["net.ipv4.ip_forward"] != "0", ns.default_ttl(), estab)
    if path == "/proc/net/netstat":
        return proc_net_netstat(ns.mib)
    if path == "/proc/net/snmp6":
        return proc_net_snmp6()
    if path.startswith("/proc/net/xt_recent/"):
        return recent_proc_text(ns, path[len("/proc/net/xt_recent/"):])
    if path.startswith("/proc/net/bonding/"):
        bond = ns.devices.get(path[len("/proc/net/bonding/"):])
        return proc_net_bonding(bond, KERNEL_RELEASE) if isinstance(bond, Bond) else None
    if path.startswith("/sys/class/net/"):
        parts = [p for p in path[len("/sys/class/net/"):].split("/") if p]
        if not parts:
            raise FileReadError("Is a directory")
        dev = ns.devices.get(parts[0])
        if dev is None:
            return None
        text = _device_file(dev, parts[1:])
        return None if text is None else text + "\n"
    return None
