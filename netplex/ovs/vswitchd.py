"""ovsdb-server and ovs-vswitchd as daemons of a machine (vswitchd/bridge.c
bridge_reconfigure, ofproto/ofproto-dpif.c, lib/mac-learning.c).

`OvsdbServer` owns the `Database`; `OvsVswitchd` reads it after every
transaction (`reconfigure`) and makes it true in the kernel: the namespace's
`ovs-system` datapath, one internal device per bridge (its LOCAL port), the
ports' devices enslaved to the datapath, ofport numbers, and it writes back
what it found (`ofport`, `ifindex`, `mac_in_use`, `error`, ...), as
bridge.c does. It answers the datapath's upcalls by running each packet
through its bridge's OpenFlow tables (`xlate.py`).

`ovs_start` is what `systemctl start openvswitch-switch` does on Debian
(ovs-ctl start): /etc/openvswitch/conf.db, then both daemons. A node's OVS
starts on the first ovs-* command, as an installed service would be running;
once its daemons are killed, the commands fail as the real ones do.
"""
from __future__ import annotations

import uuid as _uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from netplex.apps.process import Program
from netplex.errors import NetplexError
from netplex.machine.fs import FileSystem
from netplex.ovs.actions import Act
from netplex.ovs.bond import BondMember, Lacp, LacpMember, OvsBond
from netplex.ovs.connmgr import OfChannel, port_desc
from netplex.ovs.conntrack import ConnTracker
from netplex.ovs.flow import Match, parse_ipv4
from netplex.ovs.flowcache import FlowCache, Seq
from netplex.ovs.ofproto import FlowMod, OFProto
from netplex.ovs.ofrole import Election
from netplex.ovs.openflow import OFPPC_PORT_DOWN, OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY, OFPPS_LIVE, PortDesc
from netplex.ovs.ovsdb import Database, Row
from netplex.packet.ethernet import Ethernet
from netplex.packet.lacp import ETH_P_SLOW, LACP_MAC, Lacpdu
from netplex.shell.registry import COMMANDS, Context
from netplex.stack.device import NetDevice
from netplex.stack.openvswitch import (
    TUNNEL_VPORTS,
    OvsDatapath,
    OvsInternalDev,
    Upcall,
    ovs_datapath,
    ovs_internal_dev,
    ovs_tunnel_vport,
)

if TYPE_CHECKING:
    from netplex.machine import Machine
    from netplex.stack.netns import Namespace

__all__ = ["MAC_ENTRY_IDLE_TIME", "MacEntry", "OfPort", "OvsVswitchd", "OvsdbServer", "XBridge", "ovs_daemons",
           "ovs_start"]

OFPP_LOCAL = 0xFFFE
OFPP_NONE = 0xFFFF
MAC_ENTRY_IDLE_TIME = 300        # lib/mac-learning.h: seconds a learned MAC lives
MAC_DEFAULT_MAX = 8192
OVS_VERSION = "3.1.0"
CONF_DB = "/etc/openvswitch/conf.db"
NS = 1_000_000_000
RECIRC_RUN_NS = 500_000_000     # the revalidators' round, where recirc_run runs (ofproto-dpif-upcall.c)
SUPPORTED_TYPES = ("", "system", "internal", "patch", "vxlan", "gre", "geneve")
TUNNEL_TYPES = ("vxlan", "gre", "geneve", "stt", "lisp", "erspan", "ip6erspan", "ip6gre", "gtpu", "bareudp")


@dataclass(frozen=True, slots=True)
class TunnelConfig:
    """struct netdev_tunnel_config, from an Interface's options (netdev-vport.c
    set_tunnel_config): None for a value taken from the flow (`remote_ip=flow`,
    `key=flow`); a key absent is `present=False`."""

    ttype: str
    remote: int | None            # None: flow
    local: int | None = 0         # 0: any; None: flow
    in_key: int | None = 0        # None: flow
    out_key: int | None = 0
    key_present: bool = False     # in/out_key_present: a key option was given
    dst_port: int = 0
    ttl: int = 64                 # 0: inherit
    tos: int = 0                  # -1: inherit
    csum: bool = False
    df: bool = True

    def match_key(self) -> tuple[Any, ...]:
        """What tnl_find_exact compares: two ports alike here are the same tunnel (`File exists`)."""
        return (self.ttype, self.dst_port, self.in_key, self.local, self.remote)


def _strtoull(text: str) -> int:
    """strtoull(text, NULL, 0) as parse_key uses it: the leading number, 0 for none."""
    t = text.strip().lower()
    base = 10
    if t.startswith("0x"):
        t, base = t[2:], 16
    elif t.startswith("0") and len(t) > 1:
        t, base = t[1:], 8
    digits = "0123456789abcdef"[:base]
    n = 0
    for ch in t:
        if ch not in digits:
            break
        n = n * base + digits.index(ch)
    return min(n, (1 << 64) - 1)


def tunnel_config(name: str, ttype: str, options: dict[str, str]) -> tuple[TunnelConfig | None, str]:
    """set_tunnel_config: the configuration, or None and the error ovs-vswitchd reports
    (unknown options are only logged by OVS, so they are ignored here too)."""
    errors: list[str] = []
    addrs: dict[str, int | None] = {"remote_ip": 0, "local_ip": 0}    # None: flow
    keys: dict[str, int | None] = {}
    cfg: dict[str, Any] = {}
    for k, v in options.items():
        if k in addrs:
            ip = None if v == "flow" else parse_ipv4(v)
            if ip is None and v != "flow":
                errors.append(f"{name}: bad {ttype} '{k}'")
            else:
                addrs[k] = ip
        elif k in ("key", "in_key", "out_key"):
            keys[k] = None if v == "flow" else _strtoull(v)
        elif k == "dst_port" and ttype != "gre":
            cfg["dst_port"] = _strtoull(v) & 0xFFFF
        elif k == "ttl":
            cfg["ttl"] = 0 if v == "inherit" else _strtoull(v) & 0xFF
        elif k == "tos":
            cfg["tos"] = -1 if v == "inherit" else _strtoull(v) & 0xFF
        elif k == "csum":
            cfg["csum"] = v == "true"
        elif k == "df_default":
            cfg["df"] = v != "false"
    remote, local = addrs["remote_ip"], addrs["local_ip"]
    if remote == 0:
        errors.append(f"{name}: {ttype} type requires valid 'remote_ip' argument")
    if errors:
        return None, "\n".join(errors)
    in_key = keys.get("in_key", keys.get("key", 0))
    out_key = keys.get("out_key", keys.get("key", 0))
    cfg["dst_port"] = cfg.get("dst_port") or TUNNEL_VPORTS[ttype][1]
    return TunnelConfig(ttype, remote, local, in_key, out_key, bool(keys), **cfg), ""


@dataclass(slots=True)
class MacEntry:
    port: int           # ofport
    used: int           # when last seen (ns)


@dataclass(slots=True)
class OfPort:
    """One OpenFlow port of a bridge: an Interface row made real."""

    name: str
    ofport: int
    type: str
    dev: NetDevice | None           # None for a patch port
    dp_port: int | None
    port_name: str                   # the Port row's name (the bundle)
    tag: int | None = None
    trunks: tuple[int, ...] = ()
    vlan_mode: str | None = None
    peer: str | None = None          # a patch port's peer interface name
    rx_packets: int = 0
    rx_bytes: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    rx_dropped: int = 0
    tx_dropped: int = 0
    no_flood: bool = False
    policing: tuple[int, int] = (0, 0)      # the ingress policer installed: (kbit/s, kbit)
    qos: tuple[Any, ...] = ()               # the HTB installed: (max-rate, queues)
    tunnel: TunnelConfig | None = None      # a vxlan/gre/geneve port's configuration
    mac: bytes = b""                        # a tunnel port's own (random) address

    def admin_up(self) -> bool:
        """Not OFPPC_PORT_DOWN: the device is up (a patch or tunnel port has none and is up)."""
        return self.dev is None or self.dev.up

    def live(self) -> bool:
        """OFPPS_LIVE (not OFPPS_LINK_DOWN): up with carrier; a tunnel port always is."""
        dev = self.dev
        return (dev is not None and dev.up and dev.has_carrier()) or self.tunnel is not None

    def counters(self) -> tuple[int, int, int, int, int, int]:
        """rx packets, bytes, dropped, then tx's, as the bridge sees the port (netdev_get_stats):
        an internal port's are its device's mirrored (what the host sent, the bridge received)."""
        dev = self.dev
        if dev is None:
            return 0, 0, 0, 0, 0, 0
        st = dev.stats
        if self.ofport == OFPP_LOCAL or self.type == "internal":
            return st.tx_packets, st.tx_bytes, st.tx_dropped, st.rx_packets, st.rx_bytes, st.rx_dropped
        return st.rx_packets, st.rx_bytes, st.rx_dropped, st.tx_packets, st.tx_bytes, st.tx_dropped

    def includes_vlan(self, vlan: int) -> bool:
        """xbundle_includes_vlan."""
        mode = self.effective_mode()
        if mode == "access":
            return vlan == (self.tag or 0)
        if mode in ("native-tagged", "native-untagged"):
            return vlan == (self.tag or 0) or not self.trunks or vlan in self.trunks
        return not self.trunks or vlan in self.trunks

    def effective_mode(self) -> str:
        """port_configure's vlan_mode: the column, or access with a tag, trunk without."""
        if self.vlan_mode:
            return self.vlan_mode
        return "access" if self.tag is not None else "trunk"


@dataclass
class XBridge:
    """One bridge of ovs-vswitchd: its ports, its OpenFlow tables, its MAC table."""

    name: str
    ofproto: OFProto
    dp: OvsDatapath
    local: OvsInternalDev
    ports: dict[int, OfPort] = field(default_factory=dict)      # ofport → port
    mac_table: dict[tuple[int, int], MacEntry] = field(default_factory=dict)   # (vlan, mac) → entry
    mac_aging: int = MAC_ENTRY_IDLE_TIME
    fail_mode: str = ""
    datapath_id: int = 0
    controllers: list[str] = field(default_factory=list)
    flood_vlans: tuple[int, ...] = ()
    n_missed: int = 0
    channels: dict[str, OfChannel] = field(default_factory=dict)   # controller target → its connection
    election: Election = field(default_factory=Election)            # the controllers' master election id
    bonds: dict[str, OvsBond] = field(default_factory=dict)         # Port name → its bond (2+ interfaces)
    changes: Seq = field(default_factory=Seq)   # ovs-vswitchd's: the MAC table's changes move it
    port_descs: dict[int, PortDesc] = field(default_factory=dict)   # ofport → what controllers were last told

    def bond_of(self, p: OfPort) -> OvsBond | None:
        return self.bonds.get(p.port_name)

    def fail_open(self) -> bool:
        """fail_open_is_active: standalone mode, controllers configured, none of them connected
        (OVS waits for three missed probes first; netplex switches at once)."""
        return (self.fail_mode != "secure" and bool(self.channels)
                and not any(ch.connected for ch in self.channels.values()))

    def port_by_name(self, name: str) -> OfPort | None:
        for p in self.ports.values():
            if p.name == name:
                return p
        return None

    def port_no(self, text: str) -> int | None:
        """ofputil_port_from_string with this bridge's names: a number, a reserved name, a port name."""
        from_reserved = {"IN_PORT": 0xFFF8, "TABLE": 0xFFF9, "NORMAL": 0xFFFA, "FLOOD": 0xFFFB, "ALL": 0xFFFC,
                         "CONTROLLER": 0xFFFD, "LOCAL": OFPP_LOCAL, "ANY": OFPP_NONE, "NONE": OFPP_NONE}
        t = text.strip()
        if t.isdigit():
            n = int(t)
            return n if n <= 0xFFFF else None
        if t.upper() in from_reserved:
            return from_reserved[t.upper()]
        if t.startswith('"') and t.endswith('"'):
            t = t[1:-1]
        p = self.port_by_name(t)
        return p.ofport if p is not None else None

    def port_name(self, n: int) -> str:
        if n == OFPP_LOCAL:
            return "LOCAL"
        return str(n)

    # -- mac-learning -------------------------------------------------------
    def mac_learn(self, vlan: int, mac: int, port: int, now: int) -> bool:
        """mac_learning_insert + update: True when the entry is new or moved."""
        self.mac_expire(now)
        e = self.mac_table.get((vlan, mac))
        if e is not None and e.port == port:
            e.used = now
            return False
        self.changes.change()
        if e is None and len(self.mac_table) >= MAC_DEFAULT_MAX:
            oldest = min(self.mac_table, key=lambda k: self.mac_table[k].used)
            del self.mac_table[oldest]
        self.mac_table[(vlan, mac)] = MacEntry(port, now)
        return True

    def mac_lookup(self, vlan: int, mac: int, now: int) -> MacEntry | None:
        self.mac_expire(now)
        return self.mac_table.get((vlan, mac))

    def mac_expire(self, now: int) -> None:
        limit = self.mac_aging * NS
        if any(now - e.used >= limit for e in self.mac_table.values()):
            self.mac_table = {k: e for k, e in self.mac_table.items() if now - e.used < limit}
            self.changes.change()

    def mac_flush(self) -> None:
        self.mac_table.clear()
        self.changes.change()


class OvsdbServer(Program):
    """ovsdb-server: the database (`--remote=punix:/var/run/openvswitch/db.sock`)."""

    comm = "ovsdb-server"

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    def start(self) -> None:
        fs = self.fs
        if fs is not None:
            fs.write("/var/run/openvswitch/ovsdb-server.pid", f"{self.proc.pid if self.proc else 0}\n".encode())
            fs.write("/var/run/openvswitch/db.sock", b"")

    def stop(self) -> None:
        fs = self.fs
        if fs is not None:
            for p in ("/var/run/openvswitch/db.sock", "/var/run/openvswitch/ovsdb-server.pid"):
                _remove(fs, p)


def _remove(fs: Any, path: str) -> None:
    try:
        fs.unlink(path)
    except Exception:   # noqa: BLE001 - a file already gone is fine at exit
        pass


class OvsVswitchd(Program):
    """ovs-vswitchd: the bridges of the database, made real in the namespace's datapath."""

    comm = "ovs-vswitchd"

    def __init__(self, server: OvsdbServer) -> None:
        super().__init__()
        self.server = server
        self.bridges: dict[str, XBridge] = {}
        self.dp: OvsDatapath | None = None
        self.conntrack = ConnTracker()
        self.handler: Upcall | None = None   # set by xlate's user
        self.abort_reason: str | None = None     # the assertion it aborted on (`abort`)
        self.packet_out: Callable[..., None] | None = None                   # PACKET_OUT's runner (xlate's)
        self.errors: list[tuple[str, str]] = []
        self.tick_gen = 0           # the bond/LACP timer's generation (a new one cancels the old)
        self.recirc_ids = 0         # the last recirculation id handed out (next_id - 1: never reused before wrap)
        # ofproto-dpif-rid.c: a frozen state (bridge, table to resume at, in_port, metadata and
        # registers) and its recirc id, shared by every translation freezing the same state while
        # a datapath flow's actions name it (`frozen`: the metadata_map); an id nothing names any
        # more leaves `frozen` at once and lingers in `frozen_by_id` (the id_map) for two more
        # recirc_run rounds, so that packets already recirculating still find their state
        self.frozen: dict[tuple[Any, ...], int] = {}
        self.frozen_by_id: dict[int, tuple[Any, ...]] = {}
        self.recirc_expiring: list[int] = []
        self.recirc_expired: list[int] = []
        self.recirc_timer = False
        self.changes = Seq()        # moves with anything a cached translation read (flowcache.py)
        self.flow_cache = FlowCache(self.changes)
        # port_for's map and the `changes` value it was made at (the upcall handler reads it inline)
        self.port_map: dict[int, tuple[XBridge, OfPort]] = {}
        self.port_map_at = -1

    @property
    def db(self) -> Database:
        return self.server.db

    def start(self) -> None:
        self.reconfigure()
        self.ns.rtnl_listeners.append(self.port_status_run)

    def stop(self) -> None:
        if self.port_status_run in self.ns.rtnl_listeners:
            self.ns.rtnl_listeners.remove(self.port_status_run)
        self.tick_gen += 1
        if self.dp is not None:
            self.dp.upcall = None
        for xb in self.bridges.values():
            for ch in xb.channels.values():
                ch.close()

    def abort(self, why: str) -> None:
        """ovs_assert's failure (`why`, the assertion): the daemon aborts (SIGABRT) without
        cleaning up. The datapath keeps the flows it has; a packet that misses them goes up to
        no one (dropped), and the commands get the errors of a daemon that is gone."""
        self.abort_reason = why
        if self.dp is not None:
            self.dp.upcall = None
        proc = self.proc
        if proc is not None and proc.table is not None:
            proc.table.exit(proc, 128 + 6, clean=False)      # SIGABRT

    def controller_status(self, xb: XBridge, target: str, connected: bool) -> None:
        """The Controller row's is_connected, as bridge.c's refresh_controller_status writes it."""
        self.changes.change()       # fail-open follows the connections
        db = self.db
        br = db.by_name("Bridge", xb.name)
        if br is None:
            return
        for u in br["controller"]:
            row = db.get("Controller", u)
            if row is not None and row.scalar("target") == target:
                row["is_connected"] = [connected]

    def recirc_alloc(self, state: tuple[Any, ...]) -> int:
        """recirc_alloc_id_ctx: the id of a live equal frozen state, else the next id (from 1, as
        bonds' ids; a freed id's number is not given again, as next_id only grows)."""
        rid = self.frozen.get(state)
        if rid is None:
            self.recirc_ids += 1
            rid = self.frozen[state] = self.recirc_ids
            self.frozen_by_id[rid] = state
            if not self.recirc_timer:
                self.recirc_timer = True
                self.after(RECIRC_RUN_NS, self.recirc_run)
        return rid

    def recirc_referenced(self) -> set[int]:
        """The ids the live datapath flows' actions name (the ukeys' references)."""
        now = self.now()
        return {a[1] for e in self.flow_cache.flows() if e.alive and not e.idle(now)
                for a in e.odp if a[0] == "recirc"}

    def recirc_release(self, ids: Iterable[int]) -> None:
        """recirc_id_node_unref for a translation that is done (ofproto/trace's, one not installed):
        each id no datapath flow names leaves the metadata map (the next equal state gets a new id)
        and starts expiring."""
        held = self.recirc_referenced()
        for rid in ids:
            state = self.frozen_by_id.get(rid)
            if state is not None and self.frozen.get(state) == rid and rid not in held:
                del self.frozen[state]
                self.recirc_expiring.append(rid)

    def recirc_run(self) -> None:
        """recirc_run, each RECIRC_RUN_NS while ids live: the expired ids are forgotten, the
        expiring ones become expired, and the ids no datapath flow names any more (their flows
        deleted or idle) start expiring."""
        for rid in self.recirc_expired:
            self.frozen_by_id.pop(rid, None)
        self.recirc_expired, self.recirc_expiring = self.recirc_expiring, []
        self.recirc_release(list(self.frozen.values()))
        if self.frozen or self.recirc_expired or self.recirc_expiring:
            self.after(RECIRC_RUN_NS, self.recirc_run)
        else:
            self.recirc_timer = False

    def now(self) -> int:
        return self.ns.sched.now

    def port_status_run(self) -> None:
        """ofproto's port_run/update_port: each port added, deleted, or whose PORT_DOWN or
        LIVE changed since controllers were last told is sent to them as PORT_STATUS."""
        if not self.alive:
            return
        for xb in self.bridges.values():
            self._port_status(xb)

    def _port_status(self, xb: XBridge) -> None:
        now = {p.ofport: port_desc(xb, p) for p in xb.ports.values()}
        old = xb.port_descs
        news: list[tuple[int, PortDesc]] = [(OFPPR_DELETE, d) for n, d in old.items() if n not in now]
        for n, d in now.items():
            if n not in old:
                news.append((OFPPR_ADD, d))
            elif old[n].config != d.config:
                # `ip link set dev up|down`: netdev-linux hears two RTM_NEWLINKs and update_port
                # sends a MODIFY for each: going down, the first has the old config and the port no
                # longer live (state 0: neither LIVE nor LINK_DOWN yet); coming up, both show it up
                # (seen on the real ovs-vswitchd 3.1)
                news += [(OFPPR_MODIFY, replace(old[n], state=0) if d.config else d), (OFPPR_MODIFY, d)]
            elif old[n].state != d.state:
                # the carrier: one RTM_NEWLINK (losing it, the real switch sends sometimes a first
                # MODIFY with state 0 as well, as netdev-linux's timing has it)
                news.append((OFPPR_MODIFY, d))
        xb.port_descs = now
        for reason, d in news:
            for ch in xb.channels.values():
                ch.port_status(reason, d)

    def port_mod(self, xb: XBridge, p: OfPort, up: bool) -> None:
        """OFPT_PORT_MOD's OFPPC_PORT_DOWN (`ovs-ofctl mod-port BR PORT up|down`, ofproto.c
        handle_port_mod/update_port_config): a MODIFY at once with the new config and the port
        no longer live, then the device turned up or down, whose rtnetlink news update_port sends
        as for `ip link` (the real 3.1 sends: down, config PORT_DOWN state 0 then state LINK_DOWN;
        up, config 0 with the old state, then LIVE)."""
        old = xb.port_descs.get(p.ofport) or port_desc(xb, p)
        config = 0 if up else OFPPC_PORT_DOWN
        if old.config != config:
            d = replace(old, config=config, state=old.state & ~OFPPS_LIVE)
            xb.port_descs[p.ofport] = d
            for ch in xb.channels.values():
                ch.port_status(OFPPR_MODIFY, d)
        if p.dev is not None:
            p.dev.set_up(up)
        self.port_status_run()

    # -- bridge_reconfigure ------------------------------------------------
    def reconfigure(self) -> list[tuple[str, str]]:
        """Make the database true; returns the new interface errors (ovs-vsctl waits for them)."""
        db = self.db
        ns = self.ns
        self.changes.change()
        root = db.root()
        wanted: dict[str, Row] = {}
        for u in root["bridges"]:
            br = db.get("Bridge", u)
            if br is not None:
                wanted[br.scalar("name")] = br
        for name in [n for n in self.bridges if n not in wanted]:
            self._del_bridge(self.bridges.pop(name))
        new_errors: list[tuple[str, str]] = []
        for name, row in wanted.items():
            xb = self.bridges.get(name)
            if xb is None:
                xb = self._add_bridge(name, row)
                if xb is None:
                    continue
            self._configure_bridge(xb, row, new_errors)
            self._configure_bonds(xb, row)
            self._port_status(xb)
        root["cur_cfg"] = root["next_cfg"]
        self.bond_run()
        self.changes.change()
        ns.config_changed()
        return new_errors

    def _datapath(self) -> OvsDatapath:
        dp = ovs_datapath(self.ns)
        assert dp is not None
        self.dp = dp
        if self.handler is not None:
            dp.upcall = self.handler
        return dp

    def _add_bridge(self, name: str, row: Row) -> XBridge | None:
        ns = self.ns
        dp = self._datapath()
        if name in ns.devices and not isinstance(ns.devices[name], OvsInternalDev):
            return None
        dev = ns.devices.get(name)
        try:
            local = dev if isinstance(dev, OvsInternalDev) else ovs_internal_dev(ns, dp, name)
        except NetplexError:
            return None     # a name the kernel refuses (too long, a UUID's 36 characters): no bridge device
        xb = XBridge(name, OFProto(self.now, self.changes), dp, local, changes=self.changes)
        xb.datapath_id = int.from_bytes(b"\x00\x00" + local.mac, "big")
        self.bridges[name] = xb
        if (row.scalar("fail_mode") or "") != "secure" and not row["controller"]:
            # ofproto's default flow (connmgr's fail-open setup): everything to NORMAL
            xb.ofproto.add(FlowMod(Match(), [Act("normal")], 0, 0), of13=True)
        return xb

    def _del_bridge(self, xb: XBridge) -> None:
        for ch in xb.channels.values():
            ch.close()
        for p in list(xb.ports.values()):
            self._del_port(xb, p)
        if xb.local.name in xb.local.ns.devices:
            xb.dp.del_vport(xb.local)

    def _del_port(self, xb: XBridge, p: OfPort) -> None:
        xb.ports.pop(p.ofport, None)
        if p.dev is not None and p.dev is not xb.local:
            xb.dp.del_vport(p.dev)
        if p.tunnel is not None and p.dp_port is not None and not any(
                q.dp_port == p.dp_port for b in self.bridges.values() for q in b.ports.values()):
            vport = xb.dp.vports.get(p.dp_port)     # the last port of a tunnel vport takes it along
            if vport is not None:
                xb.dp.del_vport(vport)
                vport.ns.del_device(vport)
        xb.mac_table = {k: e for k, e in xb.mac_table.items() if e.port != p.ofport}
        self.changes.change()

    def _configure_bridge(self, xb: XBridge, row: Row, errors: list[tuple[str, str]]) -> None:
        db = self.db
        xb.fail_mode = row.scalar("fail_mode") or ""
        other = row["other_config"]
        xb.mac_aging = int(other.get("mac-aging-time", MAC_ENTRY_IDLE_TIME))
        xb.flood_vlans = tuple(row["flood_vlans"])
        ctrls: list[str] = []
        for u in row["controller"]:
            c = db.get("Controller", u)
            if c is not None:
                ctrls.append(c.scalar("target"))
        xb.controllers = ctrls
        for target in [t for t in xb.channels if t not in ctrls]:
            xb.channels.pop(target).close()
        for target in ctrls:
            if target not in xb.channels and target.startswith("tcp:") and self.packet_out is not None:
                xb.channels[target] = OfChannel(self, xb, target, self.packet_out)
        # the interfaces the database wants, with their Port rows
        # in the order the rows were made, so that ports added one by one get 1, 2, 3, ...
        want: dict[str, tuple[Row, Row]] = {}
        members = set(row["ports"])
        for prow in db.table("Port").values():
            if prow.uuid not in members:
                continue
            ifaces = set(prow["interfaces"])
            for irow in db.table("Interface").values():
                if irow.uuid in ifaces:
                    want[irow.scalar("name")] = (prow, irow)
        for p in [p for p in xb.ports.values() if p.name not in want or
                  _iface_type(want[p.name][1]) != p.type or
                  (p.tunnel is not None and tunnel_config(p.name, p.type, want[p.name][1]["options"])[0] != p.tunnel)]:
            self._del_port(xb, p)
        for iname, (prow, irow) in want.items():
            itype = _iface_type(irow)
            found = xb.port_by_name(iname) or self._add_port(xb, iname, itype, irow, errors)
            if found is None:
                continue
            p = found
            p.port_name = prow.scalar("name")
            p.tag = prow.scalar("tag")
            p.trunks = tuple(prow["trunks"])
            p.vlan_mode = prow.scalar("vlan_mode")
            p.peer = irow["options"].get("peer") if itype == "patch" else None
            irow["ofport"] = [p.ofport]
            irow["error"] = []
            if p.tunnel is not None:
                self._write_tunnel_state(irow, p)
                continue
            self._write_iface_state(irow, p)
            self._policing(p, irow)
            self._qos(p, prow)
        if xb.datapath_id:
            row["datapath_id"] = [f"{xb.datapath_id:016x}"]
        row["datapath_version"] = ["<unknown>"]

    def _add_port(self, xb: XBridge, iname: str, itype: str, irow: Row, errors: list[tuple[str, str]]) -> OfPort | None:
        ns = self.ns
        req = irow.scalar("ofport_request")
        if itype == "internal" and iname == xb.name:
            dev: NetDevice | None = xb.local
            ofport = OFPP_LOCAL
            dp_port = xb.dp.port_of.get(xb.local.ifindex)
        elif itype == "internal":
            existing = ns.devices.get(iname)
            if existing is not None and isinstance(existing, OvsInternalDev):
                dev = existing
            elif existing is not None:
                return self._port_error(irow, errors, f"could not add network device {iname} to ofproto "
                                                      f"(File exists)")
            else:
                try:
                    dev = ovs_internal_dev(ns, xb.dp, iname)
                except NetplexError as e:
                    return self._port_error(irow, errors, f"could not add network device {iname} to ofproto "
                                                          f"({e.message})")
            ofport = self._alloc_ofport(xb, req)
            dp_port = xb.dp.port_of.get(dev.ifindex)
        elif itype in TUNNEL_VPORTS:
            return self._add_tunnel(xb, iname, itype, irow, errors)
        elif itype == "patch":
            dev, dp_port = None, None
            if not irow["options"].get("peer"):
                return self._port_error(irow, errors, f"{iname}: patch type requires valid 'peer' argument")
            ofport = self._alloc_ofport(xb, req)
        else:
            dev = ns.devices.get(iname)
            if dev is None:
                return self._port_error(irow, errors, f"could not open network device {iname} (No such device)")
            if dev.master is not None and dev.master is not xb.dp:
                return self._port_error(irow, errors, f"could not add network device {iname} to ofproto "
                                                      f"(Device or resource busy)")
            if dev.master is None:
                try:
                    xb.dp.add_vport(dev)
                except Exception:   # noqa: BLE001 - rx_handler busy (a macvlan's lower device)
                    return self._port_error(irow, errors, f"could not add network device {iname} to ofproto "
                                                          f"(Device or resource busy)")
            ofport = self._alloc_ofport(xb, req)
            dp_port = xb.dp.port_of.get(dev.ifindex)
        p = OfPort(iname, ofport, itype, dev, dp_port, iname)
        xb.ports[ofport] = p
        return p

    # -- bonds (ofproto/bond.c, lib/lacp.c; bridge.c port_configure_bond, port_configure_lacp) -----------
    def _configure_bonds(self, xb: XBridge, row: Row) -> None:
        """A Port with two or more interfaces is a bond; its mode and LACP from its columns."""
        db = self.db
        want: dict[str, Row] = {}
        for u in row["ports"]:
            prow = db.get("Port", u)
            if prow is not None and len(prow["interfaces"]) > 1:
                want[prow.scalar("name")] = prow
        for name in [n for n in xb.bonds if n not in want]:
            del xb.bonds[name]
        for name, prow in want.items():
            mode = prow.scalar("bond_mode") or "active-backup"
            lacp_mode = prow.scalar("lacp") or "off"
            fast = prow["other_config"].get("lacp-time") == "fast"
            members = [p for p in xb.ports.values() if p.port_name == name]
            bond = xb.bonds.get(name)
            if bond is None or bond.mode != mode or (bond.lacp is None) != (lacp_mode == "off") or (
                    bond.lacp is not None and (bond.lacp.active != (lacp_mode == "active") or bond.lacp.fast != fast)):
                lacp = None
                if lacp_mode != "off":
                    sys_id = xb.local.mac
                    lacp = Lacp(name, sys_id, lacp_mode == "active", fast,
                                int(prow["other_config"].get("lacp-system-priority", "65534")))
                rid = bond.recirc_id if bond is not None else 0
                if mode == "active-backup":
                    rid = 0
                elif not rid:                   # recirc_alloc_id: ids from 1, for balanced bonds
                    self.recirc_ids += 1
                    rid = self.recirc_ids
                bond = xb.bonds[name] = OvsBond(name, mode, lacp, self.now(), rid)
            names = {p.name for p in members}
            for gone in [n for n in bond.members if n not in names]:
                del bond.members[gone]
                if bond.lacp is not None:
                    bond.lacp.members.pop(gone, None)
                    bond.lacp.update = True
            for p in members:
                if p.name not in bond.members:
                    bond.members[p.name] = _bond_member(p)
                if bond.lacp is not None and p.name not in bond.lacp.members:
                    bond.lacp.members[p.name] = LacpMember(p.name, p.ofport)
                    bond.lacp.update = True

    def bond_run(self) -> None:
        """bond_run and lacp_run for every bond, then again 100 ms later while bonds exist."""
        self.tick_gen += 1
        gen = self.tick_gen
        any_bond = False
        now = self.now()
        for xb in self.bridges.values():
            for bond in xb.bonds.values():
                any_bond = True
                self._bond_tick(xb, bond, now)
        if any_bond:
            self.ns.sched.after(100_000_000, self._bond_timer, gen)

    def _bond_timer(self, gen: int) -> None:
        if gen == self.tick_gen:
            self.bond_run()

    def _bond_tick(self, xb: XBridge, bond: OvsBond, now: int) -> None:
        ports = {p.name: p for p in xb.ports.values() if p.port_name == bond.name}

        def carrier(name: str) -> bool:
            p = ports.get(name)
            return p is not None and p.dev is not None and p.dev.up and p.dev.has_carrier()

        lacp = bond.lacp
        if lacp is not None:
            for name, m in lacp.members.items():
                up = carrier(name)
                if up != m.carrier_up:
                    lacp.carrier_changed(m, up)

            def send(m: LacpMember, pdu: Lacpdu) -> None:
                p = ports.get(m.name)
                if p is not None and p.dev is not None and p.dp_port is not None:
                    xb.dp.output(p.dp_port, Ethernet(LACP_MAC, p.dev.mac, ETH_P_SLOW, pdu))

            lacp.run(now, send)
        bond.run(carrier)
        self._write_bond_state(xb, bond)

    def _write_bond_state(self, xb: XBridge, bond: OvsBond) -> None:
        """bridge.c's port_refresh_bond_status / iface_refresh_status: bond_active_slave, lacp_current."""
        prow = self.db.by_name("Port", bond.name)
        if prow is None:
            return
        active = bond.members.get(bond.active) if bond.active else None
        prow["bond_active_slave"] = [":".join(f"{b:02x}" for b in (active.mac if active else bytes(6)))]
        for name in bond.members:
            irow = self.db.by_name("Interface", name)
            if irow is not None:
                lm = bond.lacp.members.get(name) if bond.lacp is not None else None
                irow["lacp_current"] = [lm.status == "current"] if lm is not None else []

    def port_for(self, dp_port: int) -> tuple[XBridge, OfPort] | None:
        """The bridge and port a datapath port number belongs to (odp_port_to_ofp_port), from a
        map rebuilt when the configuration moved."""
        if self.port_map_at != self.changes.value:
            self.port_map = {p.dp_port: (xb, p) for xb in self.bridges.values() for p in xb.ports.values()
                             if p.dp_port is not None}
            self.port_map_at = self.changes.value
        return self.port_map.get(dp_port)

    def lacp_rx(self, xb: XBridge, p: OfPort, frame: Ethernet) -> bool:
        """process_special: a LACPDU on a member of a bond with LACP is the bond's, not the tables'."""
        bond = xb.bond_of(p)
        if bond is None or bond.lacp is None or frame.type != ETH_P_SLOW:
            return False
        pdu = frame.payload
        if isinstance(pdu, (bytes, bytearray)):
            pdu = Lacpdu.decode(bytes(pdu))
        m = bond.lacp.members.get(p.name)
        if isinstance(pdu, Lacpdu) and m is not None:
            bond.lacp.process(m, pdu, self.now())
            self._bond_tick(xb, bond, self.now())
        return True

    def _add_tunnel(self, xb: XBridge, iname: str, itype: str, irow: Row,
                    errors: list[tuple[str, str]]) -> OfPort | None:
        """A vxlan/gre/geneve port: its configuration (tnl_port_add refuses a second port
        configured alike), on the datapath's tunnel vport for its type and UDP port."""
        cfg, err = tunnel_config(iname, itype, irow["options"])
        if cfg is None:
            return self._port_error(irow, errors, err)
        if any(q.tunnel is not None and q.tunnel.match_key() == cfg.match_key()
               for b in self.bridges.values() for q in b.ports.values()):
            return self._port_error(irow, errors, f"could not add network device {iname} to ofproto (File exists)")
        try:
            vport = ovs_tunnel_vport(self.ns, xb.dp, itype, cfg.dst_port)
        except NetplexError as e:
            return self._port_error(irow, errors, f"could not add network device {iname} to ofproto ({e.message})")
        ofport = self._alloc_ofport(xb, irow.scalar("ofport_request"))
        p = OfPort(iname, ofport, itype, None, xb.dp.port_of.get(vport.ifindex), iname, tunnel=cfg,
                   mac=self.ns.world.random_mac())
        xb.ports[ofport] = p
        return p

    def _write_tunnel_state(self, irow: Row, p: OfPort) -> None:
        """A tunnel's Interface columns (netdev_vport_get_status): no ifindex or MTU of its own;
        the device the route to remote_ip leaves by, and its carrier."""
        irow["ifindex"] = [0]
        irow["mac_in_use"] = [":".join(f"{b:02x}" for b in p.mac)]
        irow["admin_state"] = ["up"]
        irow["link_state"] = ["up"]
        irow["mtu"] = []
        irow["link_resets"] = [0]
        irow["statistics"] = {"rx_bytes": p.rx_bytes, "rx_packets": p.rx_packets, "tx_bytes": p.tx_bytes,
                              "tx_packets": p.tx_packets}
        status: dict[str, str] = {}
        cfg = p.tunnel
        if cfg is not None and cfg.remote:
            rt = self.ns.fib.lookup(cfg.remote)
            if rt is not None and rt.dev is not None:
                status = {"tunnel_egress_iface": rt.dev.name,
                          "tunnel_egress_iface_carrier": "up" if rt.dev.up and rt.dev.has_carrier() else "down"}
        irow["status"] = status

    def tunnel_port_for(self, dp_port: int, tun: Any) -> tuple[XBridge, OfPort] | None:
        """tnl_port_receive → tnl_find: the port a tunnel packet arrived on, the most
        specific first (a fixed key before key=flow, a fixed remote_ip before remote_ip=flow)."""
        best: tuple[int, XBridge, OfPort] | None = None
        for xb in self.bridges.values():
            for p in xb.ports.values():
                cfg = p.tunnel
                if cfg is None or p.dp_port != dp_port:
                    continue
                if cfg.in_key is not None and cfg.in_key != tun.tun_id:
                    continue
                if cfg.remote is not None and cfg.remote != tun.src:
                    continue
                if cfg.local and cfg.local != tun.dst:
                    continue
                score = (4 if cfg.in_key is not None else 0) + (2 if cfg.remote is not None else 0) + \
                        (1 if cfg.local else 0)
                if best is None or score > best[0]:
                    best = (score, xb, p)
        return (best[1], best[2]) if best is not None else None

    def _port_error(self, irow: Row, errors: list[tuple[str, str]], text: str) -> OfPort | None:
        irow["ofport"] = [-1]
        if irow["error"] != [text]:
            errors.append((irow.scalar("name"), text))
        irow["error"] = [text]
        return None   # no port: callers return this

    @staticmethod
    def _alloc_ofport(xb: XBridge, req: int | None) -> int:
        if req is not None and req not in xb.ports:
            return req
        n = 1
        while n in xb.ports:
            n += 1
        return n

    # -- QoS (lib/netdev-linux.c: netdev_linux_set_policing, htb_tc_install) ---------------
    def _tc(self, dev: NetDevice, lines: list[str]) -> None:
        """What netdev-linux asks the kernel over rtnetlink, as the tc commands that do the same."""
        ctx = Context(node=dev.ns, fs=self.fs or FileSystem())
        tc = COMMANDS["tc"]
        for line in lines:
            tc(ctx, ["tc", *line.split()])

    def _policing(self, p: OfPort, irow: Row) -> None:
        """ingress_policing_rate/burst (kbit/s, kbit; burst 8000 when 0): an ingress qdisc and
        a matchall police that drops what exceeds (tc_add_matchall_policer)."""
        dev = p.dev
        rate = irow.scalar("ingress_policing_rate") or 0
        burst = (irow.scalar("ingress_policing_burst") or 0) if rate else 0
        burst = burst or (8000 if rate else 0)
        if dev is None or p.policing == (rate, burst):
            return
        lines = ["qdisc del dev {d} ingress"] if p.policing != (0, 0) else []
        if rate:
            # the burst in bytes as OVS computes it (kbits * 1024 / 8: "appears wrong", its comment says)
            lines += ["qdisc add dev {d} handle ffff: ingress",
                      f"filter add dev {{d}} parent ffff: protocol all prio 1 handle 1 matchall action police "
                      f"rate {rate}kbit burst {burst * 1024 // 8}b mtu 65535 drop"]
        self._tc(dev, [line.format(d=dev.name) for line in lines])
        p.policing = (rate, burst)

    def _qos(self, p: OfPort, prow: Row) -> None:
        """Port.qos of type linux-htb: root 1: with default class 1:1, parent class 1:fffe at
        max-rate, queue N as class 1:(N+1) (min-rate, max-rate, priority), as htb_tc_install
        and htb_class_set do; rates in bit/s."""
        dev = p.dev
        if dev is None:
            return
        db = self.db
        spec: tuple[Any, ...] = ()
        q = db.get("QoS", prow.scalar("qos")) if prow["qos"] else None
        if q is not None and q.scalar("type") == "linux-htb":
            max_rate = int(q["other_config"].get("max-rate", "10000000000"))
            queues = []
            for n, qu in sorted(q["queues"].items()):
                qrow = db.get("Queue", qu)
                oc = qrow["other_config"] if qrow is not None else {}
                queues.append((n, int(oc.get("min-rate", "12000")), int(oc.get("max-rate", str(max_rate))),
                               int(oc.get("priority", "0"))))
            spec = (max_rate, tuple(queues))
        if p.qos == spec:
            return
        lines = ["qdisc del dev {d} root"] if p.qos else []
        if spec:
            max_rate, queues = spec
            lines += ["qdisc add dev {d} root handle 1: htb default 1",
                      f"class add dev {{d}} parent 1: classid 1:fffe htb rate {max_rate}bit ceil {max_rate}bit"]
            if not any(n == 0 for n, *_ in queues):
                lines.append(f"class add dev {{d}} parent 1:fffe classid 1:1 htb rate 12000bit ceil {max_rate}bit")
            for n, lo, hi, prio in queues:
                lines.append(f"class add dev {{d}} parent 1:fffe classid 1:{n + 1:x} htb rate {lo}bit "
                             f"ceil {hi}bit prio {prio}")
        self._tc(dev, [line.format(d=dev.name) for line in lines])
        p.qos = spec

    def _write_iface_state(self, irow: Row, p: OfPort) -> None:
        dev = p.dev
        if dev is None:
            irow["ifindex"] = []
            return
        irow["ifindex"] = [dev.ifindex]
        irow["mac_in_use"] = [":".join(f"{b:02x}" for b in dev.mac)]
        irow["admin_state"] = ["up" if dev.up else "down"]
        irow["link_state"] = ["up" if dev.up and dev.has_carrier() else "down"]
        irow["mtu"] = [dev.mtu]

    # -- ovs-appctl fdb/* ----------------------------------------------------
    def fdb_show(self, xb: XBridge) -> str:
        """fdb/show: ` port  VLAN  MAC                Age`, oldest entry first."""
        now = self.now()
        xb.mac_expire(now)
        lines = [" port  VLAN  MAC                Age"]
        for (vlan, mac), e in sorted(xb.mac_table.items(), key=lambda kv: -kv[1].used):
            age = (now - e.used) // NS
            mac_s = ":".join(f"{(mac >> s) & 0xFF:02x}" for s in range(40, -8, -8))
            lines.append(f"{xb.port_name(e.port):>5}  {vlan:4d}  {mac_s}  {age:3d}")
        return "\n".join(lines) + "\n"


def _bond_member(p: OfPort) -> BondMember:
    return BondMember(p.name, p.ofport, p.dev.mac if p.dev is not None else p.mac)


def _iface_type(irow: Row) -> str:
    t = irow.scalar("type") or ""
    return "system" if t == "" else t


def ovs_daemons(machine: Machine) -> tuple[OvsdbServer | None, OvsVswitchd | None]:
    """The running ovsdb-server and ovs-vswitchd of a machine, if any."""
    srv = [p.program for p in machine.procs.by_program(OvsdbServer) if p.alive]
    vsd = [p.program for p in machine.procs.by_program(OvsVswitchd) if p.alive]
    s = srv[0] if srv else None
    v = vsd[0] if vsd else None
    assert s is None or isinstance(s, OvsdbServer)
    assert v is None or isinstance(v, OvsVswitchd)
    return s, v


def ovs_start(machine: Machine, ns: Namespace, on_packet: Callable[[OvsVswitchd], Any],
              packet_out: Callable[..., None]) -> None:
    """`ovs-ctl start`: conf.db (created once), ovsdb-server, then ovs-vswitchd.

    `on_packet(vswitchd)` gives the datapath upcall handler, `packet_out` runs a
    controller's PACKET_OUT (both xlate's)."""
    fs = machine.fs
    rng = ns.world.rng

    def new_uuid() -> str:
        return str(_uuid.UUID(int=rng.getrandbits(128), version=4))

    server, vsd = ovs_daemons(machine)
    if server is None:
        db = Database(new_uuid)
        root = db.root()
        root["ovs_version"] = [OVS_VERSION]
        root["db_version"] = [db.schema.version]
        root["datapath_types"] = ["netdev", "system"]
        root["iface_types"] = sorted(["geneve", "gre", "internal", "patch", "system", "tap", "vxlan"])
        fs.write(CONF_DB, b"")
        server = OvsdbServer(db)
        machine.procs.spawn(["ovsdb-server", "/etc/openvswitch/conf.db", "-vconsole:emer", "-vsyslog:err",
                             "-vfile:info", "--remote=punix:/var/run/openvswitch/db.sock",
                             "--private-key=db:Open_vSwitch,SSL,private_key", "--pidfile", "--detach"],
                            ns, server)
    if vsd is None:
        vsd = OvsVswitchd(server)
        vsd.packet_out = packet_out
        machine.procs.spawn(["ovs-vswitchd", "unix:/var/run/openvswitch/db.sock", "-vconsole:emer",
                             "-vsyslog:err", "-vfile:info", "--mlockall", "--no-chdir", "--pidfile", "--detach"],
                            ns, vsd)
        vsd.handler = on_packet(vsd)
        if vsd.dp is not None:
            vsd.dp.upcall = vsd.handler
        vsd.reconfigure()      # controllers connect once the handlers are in place

