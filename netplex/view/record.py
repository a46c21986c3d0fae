"""A recorded run: everything the web view shows, in one file that opens without re-running.

`record_scenario(scenario, seed)` runs the scenario on the simulator (`scenario/sim.py`)
through the runner with a `Recorder` watching (`scenario/runner.py` `RunObserver`):
after setup it reads the topology the way a user would (`ip -j addr`, `ip -j link`,
`ip -o -d link`, `sysctl net.ipv4.ip_forward` on every node); before each probe it
turns tracing on (off for iperf probes, whose packets are counted and plotted, not
traced one by one), marks where the probe's trace events start and snapshots every
interface's counters (`ip -j -s link`); after the probes it keeps each node's tables
as that node prints them (`ip route`, `ip neigh`, `bridge fdb show`, `iptables -L -n -v`,
`iptables -t nat -L -n -v`, `tc -s qdisc show`, `ovs-ofctl dump-flows` per OVS bridge).

The trace events (engine/trace.py `TraceEvent`, typed fields) are grouped per packet id
and, within a packet, into hops: consecutive events on one node. A packet that carries a
tunnel header (VXLAN RFC 7348, Geneve RFC 8926, GRE RFC 2784/2890, ESP RFC 4303, GTP-U
3GPP TS 29.281, MPLS RFC 3032) keeps its header layers, outermost first, as one short string
each (`"VXLAN vni 42"`; what follows a tunnel header is the inner packet), read from the
packet object the tracer followed (`Tracer.packet_objects`); a packet that only entered a tunnel
(its hop ran `vxlan_xmit`, `ip_tunnel_xmit`, `xfrm_output`, `mpls_xmit`, `gtp_xmit`) names the
tunnel packet it was wrapped into (`wrapped_in`). Other packets store no layers, so the
recording stays small. The file is gzip'd JSON
(`.npx`), `{"format": "netplex-run", "version": 1, ...}`.

On the kernel twin (`record_scenario(..., backend=LinuxBackend(pcap_dir=DIR), pcap_dir=DIR)`) there
is no per-hook trace: the packets are what the twin's capture saw (one pcap per interface, both
directions, kernel timestamps on the clock the twin's `clock_ns` reads). `packets_from_captures`
reads them: frames of one packet are recognised across interfaces by what routers leave unchanged
(an IPv4 packet's addresses, protocol, identification and payload; anything else: the frame after
its MAC addresses), and each hop is the node where it was seen, with one `capture` event per
interface (`eth0: ICMP echo-request ...`) in time order. A NAT rewrite starts a new packet there.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from netplex.engine.trace import TraceEvent
from netplex.errors import NetplexError
from netplex.packet.addr import int_to_ip
from netplex.packet.esp import Esp
from netplex.packet.ethernet import Ethernet
from netplex.packet.geneve import Geneve
from netplex.packet.gre import Gre
from netplex.packet.gtpu import GTPU_PORT, GtpU
from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IPv4
from netplex.packet.mpls import Mpls
from netplex.packet.pcap import read_pcap
from netplex.packet.tcp import Tcp
from netplex.packet.udp import Udp
from netplex.packet.vxlan import Vxlan
from netplex.scenario.backend import Backend
from netplex.scenario.model import IperfProbe, Scenario
from netplex.scenario.results import ScenarioResult
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

__all__ = ["MAX_EVENTS", "RECORD_FORMAT", "RecordError", "Recorder", "load_recording", "record_scenario",
           "save_recording"]

RECORD_FORMAT = "netplex-run"
RECORD_VERSION = 1
MAX_EVENTS = 200_000   # trace events kept; past this the recording says it was cut
_FIELDS = ("dev", "out_dev", "port", "vid", "hook", "table", "chain", "rule", "verdict", "qdisc", "handle")
TUNNEL_HEADERS = ("VXLAN", "Geneve", "GRE", "ESP", "GTP-U", "MPLS")
ENCAP_STAGES = ("vxlan_xmit", "geneve_xmit", "ip_tunnel_xmit", "xfrm_output", "mpls_xmit", "gtp_xmit")
_ICMP = {0: "echo-reply", 8: "echo-request", 3: "unreachable", 11: "time-exceeded"}
TABLES = ("ip route", "ip neigh", "bridge fdb show", "iptables -L -n -v", "iptables -t nat -L -n -v",
          "tc -s qdisc show")


class RecordError(NetplexError):
    """A recording that cannot be read (not a netplex run, another version), status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=2)


def _event(e: TraceEvent, start: int) -> dict[str, Any]:
    d: dict[str, Any] = {"t": e.time - start, "node": e.node, "stage": e.stage, "text": e.text}
    for name in _FIELDS:
        value = getattr(e, name)
        if value is not None:
            d[name] = value
    if e.reason is not None:
        d["reason"] = e.reason.name
    return d


def _mac(m: bytes) -> str:
    return ":".join(f"{b:02x}" for b in m)


def layers(pkt: object, limit: int = 16) -> list[str]:
    """The packet's headers, outermost first, one short string each with its key fields."""
    out: list[str] = []
    p: object = pkt
    while p is not None and len(out) < limit:
        nxt: object = None
        if isinstance(p, Ethernet):
            vlans = "".join(f" vlan {v.vid}" for v in p.vlans) if p.vlans else ""
            out.append(f"Ethernet {_mac(p.src)} > {_mac(p.dst)}{vlans}")
            nxt = p.payload
        elif isinstance(p, IPv4):
            out.append(f"IPv4 {int_to_ip(p.src)} > {int_to_ip(p.dst)} proto {p.proto} ttl {p.ttl}")
            nxt = p.payload
        elif isinstance(p, Udp):
            out.append(f"UDP {p.sport} > {p.dport}")
            nxt = p.payload
            if GTPU_PORT in (p.sport, p.dport) and isinstance(nxt, (bytes, bytearray)):
                try:   # GTP-U is read by the gateways' userspace, so the stack leaves it as bytes
                    nxt = GtpU.decode(bytes(nxt))
                except ValueError:
                    pass
        elif isinstance(p, Tcp):
            out.append(f"TCP {p.sport} > {p.dport}")
        elif isinstance(p, Icmp):
            out.append(f"ICMP {_ICMP.get(p.type, f'type {p.type}')} id {p.id} seq {p.seq}")
        elif isinstance(p, (Vxlan, Geneve)):
            out.append(f"{'VXLAN' if isinstance(p, Vxlan) else 'Geneve'} vni {p.vni}")
            nxt = p.payload
        elif isinstance(p, Gre):
            out.append(f"GRE proto 0x{p.proto:04x}" + (f" key {p.key}" if p.flags & 0x2000 or p.key else ""))
            nxt = p.payload
        elif isinstance(p, Esp):
            out.append(f"ESP spi 0x{p.spi:08x} seq {p.seq}")
            out.append(f"encrypted {len(p.data)} bytes")
        elif isinstance(p, GtpU):
            out.append(f"GTP-U teid 0x{p.teid:08x}")
            nxt = p.payload
        elif isinstance(p, Mpls):
            out.append("MPLS " + " ".join(f"label {label} ttl {ttl}" for label, _, ttl in p.entries))
            nxt = p.payload
        elif isinstance(p, (bytes, bytearray)):
            if p and p[0] >> 4 == 4 and len(out) and out[-1].startswith(TUNNEL_HEADERS):
                try:
                    nxt = IPv4.decode(bytes(p))
                except ValueError:
                    nxt = None
            if nxt is None and p:
                out.append(f"data {len(p)} bytes")
        else:
            out.append(type(p).__name__.upper())
        p = nxt
    return out


def _json(backend: Backend, node: str, line: str) -> Any:
    r = backend.run(node, line)
    if r.status != 0:
        return []
    try:
        return json.loads(r.output or "[]")
    except ValueError:
        return []


class Recorder:
    """Watches one run (RunObserver) and builds the recording."""

    def __init__(self, scenario: Scenario, backend: Backend, pcap_dir: str | Path | None = None) -> None:
        self.scenario = scenario
        self.backend = backend
        # the simulator's tracer; on the kernel twin the packets come from its capture (pcap_dir)
        self.tracer = backend.net.tracer if isinstance(backend, SimBackend) else None
        self.pcap_dir = pcap_dir
        self.start = 0
        self.marks: list[tuple[int, int, int]] = []    # (probe index, first event, time) per probe boundary
        self.times: list[int] = []
        self.counters: dict[str, dict[str, list[int]]] = {}
        self.nodes: list[dict[str, Any]] = []
        self.tables: dict[str, dict[str, str]] = {}
        self.truncated = False

    # -- RunObserver -------------------------------------------------------------------
    def setup_done(self, backend: Backend) -> None:
        self.start = self.backend.clock_ns()
        if self.tracer is not None:
            self.tracer.clear()
        self.nodes = [self._node(name) for name in self.scenario.nodes]

    def before_probe(self, index: int) -> None:
        tracer = self.tracer
        if tracer is not None and len(tracer.events) > MAX_EVENTS:
            del tracer.events[MAX_EVENTS:]
            self.truncated = True
        self.marks.append((index, len(tracer.events) if tracer is not None else 0,
                           self.backend.clock_ns() - self.start))
        self._counters()
        probes = self.scenario.probes
        if tracer is not None:
            tracer.on = (index < len(probes) and not isinstance(probes[index].spec, IperfProbe)
                         and len(tracer.events) < MAX_EVENTS)

    def probes_done(self, backend: Backend) -> None:
        if self.tracer is not None:
            self.tracer.on = False
        self.marks.append((len(self.scenario.probes), 0, self.backend.clock_ns() - self.start))
        for node in self.nodes:
            self.tables[node["name"]] = self._tables(node)

    # -- reading the nodes -----------------------------------------------------------------
    def _node(self, name: str) -> dict[str, Any]:
        be = self.backend
        links = {d["ifname"]: d for d in _json(be, name, "ip -j link show")}
        kinds: dict[str, str] = {}
        for row in be.run(name, "ip -o -d link show").output.splitlines():
            head, *parts = row.split("\\    ")
            ifname = head.split(": ")[1].split("@")[0] if ": " in head else ""
            if len(parts) > 1 and parts[1].split():
                kinds[ifname] = parts[1].split()[0]
        interfaces = []
        for d in _json(be, name, "ip -j addr show"):
            ifname = d.get("ifname", "")
            if ifname == "lo":
                continue
            interfaces.append({
                "name": ifname, "kind": kinds.get(ifname, ""), "mac": d.get("address", ""),
                "mtu": d.get("mtu"), "state": d.get("operstate", ""), "master": links.get(ifname, {}).get("master"),
                "addresses": [f"{a['local']}/{a['prefixlen']}" for a in d.get("addr_info", [])
                              if a.get("family") in ("inet", "inet6") and not str(a["local"]).startswith("fe80")],
            })
        forwarding = be.run(name, "sysctl -n net.ipv4.ip_forward").output.strip() == "1"
        switching = any(i["kind"] in ("bridge", "openvswitch") or i["name"] == "ovs-system" for i in interfaces)
        has_ip = any(i["addresses"] for i in interfaces)
        role = "router" if forwarding else ("switch" if switching and not has_ip else "host")
        return {"name": name, "kind": self.scenario.nodes[name].kind, "role": role, "interfaces": interfaces}

    def _counters(self) -> None:
        self.times.append(self.backend.clock_ns() - self.start)
        for node in self.scenario.nodes:
            for d in _json(self.backend, node, "ip -j -s link show"):
                if d.get("ifname") == "lo":
                    continue
                st = d.get("stats64", {})
                series = self.counters.setdefault(f"{node}:{d.get('ifname')}", {})
                for direction in ("rx", "tx"):
                    for key in ("packets", "bytes", "dropped"):
                        series.setdefault(f"{direction}_{key}", []).append(int(st.get(direction, {}).get(key, 0)))

    def _tables(self, node: dict[str, Any]) -> dict[str, str]:
        be, name = self.backend, node["name"]
        out: dict[str, str] = {"ip addr": be.run(name, "ip addr").output}
        kinds = {i["kind"] for i in node["interfaces"]}
        for line in TABLES:
            if line.startswith("bridge") and "bridge" not in kinds:
                continue
            r = be.run(name, line)
            if r.status == 0 and r.output.strip():
                out[line] = r.output
        if "openvswitch" in kinds or any(i["name"] == "ovs-system" for i in node["interfaces"]):
            for bridge in be.run(name, "ovs-vsctl list-br").output.split():
                r = be.run(name, f"ovs-ofctl dump-flows {bridge}")
                if r.status == 0:
                    out[f"ovs-ofctl dump-flows {bridge}"] = r.output
        return out

    # -- the recording ---------------------------------------------------------------------
    def recording(self, result: ScenarioResult) -> dict[str, Any]:
        marks = self.marks[:-1]     # the last mark is the end of the probes
        if self.tracer is None:
            packets = packets_from_captures(self.pcap_dir, list(self.scenario.nodes), self.start, self.marks,
                                            self._untraced())
            return self._document(result, packets, 0, marks)
        events = self.tracer.events
        bounds = marks + [(len(self.scenario.probes), len(events), 0)]
        probe_of: list[tuple[int, int, int]] = [(bounds[k][1], bounds[k + 1][1], bounds[k][0])
                                                for k in range(len(bounds) - 1) if bounds[k][0] < len(self.scenario.probes)]
        packets: dict[int, dict[str, Any]] = {}
        untracked = 0
        for lo, hi, index in probe_of:
            for e in events[lo:hi]:
                if not e.packet:
                    untracked += 1
                    continue
                p = packets.get(e.packet)
                if p is None:
                    p = packets[e.packet] = {"id": e.packet, "probe": index, "summary": e.text, "hops": [],
                                             "dropped": False}
                ev = _event(e, self.start)
                if not p["hops"] or p["hops"][-1]["node"] != e.node:
                    p["hops"].append({"node": e.node, "events": []})
                p["hops"][-1]["events"].append(ev)
                if e.stage == "drop":
                    p["dropped"] = True
        self._layers(packets)
        return self._document(result, packets, untracked, marks)

    def _untraced(self) -> set[int]:
        return {i for i, p in enumerate(self.scenario.probes) if isinstance(p.spec, IperfProbe)}

    def _document(self, result: ScenarioResult, packets: dict[int, dict[str, Any]], untracked: int,
                  marks: list[tuple[int, int, int]]) -> dict[str, Any]:
        res = result.to_json()
        probes = []
        for p in result.probes:
            traced = not isinstance(self.scenario.probes[p.index].spec, IperfProbe)
            probes.append({**p.to_json(), "what": p.what or p.kind, "traced": traced,
                           "start_ns": next((t for i, _, t in marks if i == p.index), 0),
                           "packets": [k for k, v in packets.items() if v["probe"] == p.index]})
        links = [{"a": list(link.ends[0]), "b": list(link.ends[1]), "rate_bps": link.rate_bps,
                  "delay_ns": link.delay_ns, "loss": link.loss} for link in self.scenario.links]
        return {
            "format": RECORD_FORMAT, "version": RECORD_VERSION, "scenario": self.scenario.name,
            "description": self.scenario.description or "", "file": self.scenario.file,
            "backend": self.backend.name,
            "seed": self.scenario.seed, "passed": res.get("passed"), "error": res.get("error"),
            "notes": result.notes, "nodes": self.nodes, "links": links, "probes": probes,
            "packets": sorted(packets.values(), key=lambda p: p["id"]), "untracked_events": untracked,
            "truncated": self.truncated, "counters": {"times": self.times, "series": self.counters},
            "events": result.events or [], "tables": self.tables,
        }


    def _layers(self, packets: dict[int, dict[str, Any]]) -> None:
        """Header layers of the tunnel packets; `wrapped_in` for a packet that entered a tunnel."""
        tunnels: list[tuple[int, str]] = []
        objects = self.tracer.packet_objects()
        for pid in sorted(packets):
            obj = objects.get(pid)
            if obj is None:
                continue
            got = layers(obj)
            if any(x.startswith(TUNNEL_HEADERS) for x in got):
                packets[pid]["layers"] = got
                tunnels.append((pid, packets[pid]["hops"][0]["node"]))
        for pid in sorted(packets):
            p = packets[pid]
            if "layers" in p:
                continue
            for hop in p["hops"]:
                if any(e["stage"] in ENCAP_STAGES for e in hop["events"]):
                    outer = next((t for t, node in tunnels if t > pid and node == hop["node"]), None)
                    if outer is not None:
                        hop["wrapped_in"] = outer
                    break


def _frame_key(frame: bytes) -> tuple[Any, ...]:
    """What stays the same of one packet from hop to hop (TTL, checksum and MACs change)."""
    ethertype = int.from_bytes(frame[12:14], "big")
    off = 14
    while ethertype in (0x8100, 0x88A8) and len(frame) >= off + 4:
        ethertype = int.from_bytes(frame[off + 2:off + 4], "big")
        off += 4
    if ethertype == 0x0800 and len(frame) >= off + 20:
        ip = frame[off:]
        ihl = (ip[0] & 0x0F) * 4
        total = int.from_bytes(ip[2:4], "big")
        return ("ip", ip[12:20], ip[9], ip[4:6], ip[ihl:total])
    return ("frame", ethertype, frame[off:])


def packets_from_captures(pcap_dir: str | Path | None, nodes: list[str], start: int,
                          marks: list[tuple[int, int, int]], untraced: set[int]) -> dict[int, dict[str, Any]]:
    """The kernel twin's packets: its captures (DIR/NODE-IFNAME.pcap) read into packets and hops."""
    if pcap_dir is None:
        return {}
    sightings: list[tuple[int, str, str, bytes]] = []
    for f in sorted(Path(pcap_dir).glob("*.pcap")):
        stem = f.name[:-5]
        node = max((n for n in nodes if stem.startswith(n + "-")), key=len, default=None)
        if node is None:
            continue
        ifname = stem[len(node) + 1:]
        try:
            records = read_pcap(f)
        except (OSError, ValueError):
            continue
        sightings += [(ts - start, node, ifname, data) for ts, data in records]
    sightings.sort(key=lambda s: s[0])
    windows = [(marks[k][2], marks[k + 1][2], marks[k][0]) for k in range(len(marks) - 1)]
    packets: dict[int, dict[str, Any]] = {}
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    events = 0
    for t, node, ifname, data in sightings:
        probe = next((i for lo, hi, i in windows if lo <= t < hi), None)
        if probe is None or probe in untraced or len(data) < 14 or events >= MAX_EVENTS:
            continue
        key = (probe, *_frame_key(data))
        try:
            got = layers(Ethernet.decode(data))[1:]      # the outermost Ethernet is not drawn, as on the sim
        except (ValueError, IndexError):
            got = []
        summary = " | ".join(got) or f"{len(data)} bytes"
        p = by_key.get(key)
        if p is None:
            pid = len(packets) + 1
            p = by_key[key] = packets[pid] = {"id": pid, "probe": probe, "summary": summary, "hops": [],
                                              "dropped": False}
            if any(x.startswith(TUNNEL_HEADERS) for x in got):
                p["layers"] = got
        if not p["hops"] or p["hops"][-1]["node"] != node:
            p["hops"].append({"node": node, "events": []})
        hop_events = p["hops"][-1]["events"]
        if not any(e["dev"] == ifname for e in hop_events):
            hop_events.append({"t": t, "node": node, "stage": "capture", "text": f"{ifname}: {summary}",
                               "dev": ifname})
            events += 1
    return packets


def record_scenario(scenario: Scenario, seed: int | None = None, backend: Backend | None = None,
                    pcap_dir: str | Path | None = None) -> tuple[ScenarioResult, dict[str, Any]]:
    """Run `scenario` with the recorder watching: the result and the recording. On the simulator
    by default; given the kernel twin's backend, capturing into `pcap_dir`, on the twin."""
    if backend is None:
        backend = SimBackend(seed=scenario.seed if seed is None else seed)
    recorder = Recorder(scenario, backend, pcap_dir)
    result = run_scenario(scenario, backend, observer=recorder)
    return result, recorder.recording(result)


def save_recording(recording: dict[str, Any], path: str | Path) -> None:
    """One file: gzip'd JSON."""
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(recording, f, separators=(",", ":"))


def load_recording(path: str | Path) -> dict[str, Any]:
    """Read a recording written by `save_recording`; RecordError if it is not one."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise RecordError(f"{path}: not a netplex recording ({e.strerror or e})") from None
    except ValueError as e:
        raise RecordError(f"{path}: not a netplex recording ({e})") from None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        raise RecordError(f"{path}: not a netplex recording")
    if data.get("version") != RECORD_VERSION:
        raise RecordError(f"{path}: a recording of version {data.get('version')}; this netplex reads version "
                          f"{RECORD_VERSION}")
    return data
