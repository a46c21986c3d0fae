"""flanneld (flannel-io/flannel) on etcd v3: subnet leases, subnet.env, the vxlan and host-gw backends.

    flanneld --etcd-endpoints=http://192.168.64.1:2379 --iface=eth0 [--etcd-prefix=/coreos.com/network]
             [--ip-masq] [--subnet-file=/run/flannel/subnet.env] [--public-ip=IP]

What flanneld does, in its order (pkg/subnet/etcd, pkg/backend/vxlan, hostgw,
pkg/trafficmngr/iptables):

- read `<prefix>/config` (`Network`, `SubnetLen` default 24, `SubnetMin`,
  `SubnetMax`, `Backend.Type` vxlan|host-gw|udp, `VNI` default 1, `Port` default
  8472, for udp 8285);
- take this host's lease: the key of a subnet whose `PublicIP` is ours, else the
  first free subnet (flannel draws one at random; netplex takes the lowest so both
  backends agree), created with a transaction (create if absent) under a lease of
  24 h, as `<prefix>/subnets/10.5.52.0-24` = `{"PublicIP":...,"PublicIPv6":null,
  "BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"..."}}`;
- vxlan: `flannel.<VNI>` (local public IP, dev IFACE, dstport, nolearning, MTU
  IFACE − 50, address <subnet>.0/32), per peer an onlink route via <peer subnet>.0,
  a permanent neighbour with the peer's VtepMAC, an FDB entry to its public IP;
  host-gw: per peer a route via its public IP;
  udp (pkg/backend/udp): the TUN device `flannel0` (non-persistent, held open by
  flanneld), address <subnet>.0/32, MTU IFACE − 28, up, a route to the whole
  Network on it; the daemon carries packets itself (proxy_amd64.c, `UdpProxy`):
  a packet read from flannel0 goes in a UDP datagram to port 8285 of the peer
  whose subnet holds its destination (TTL − 1; none: an ICMP net unreachable
  written back), a datagram received is written to flannel0 (TTL − 1);
- write the subnet file (FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU,
  FLANNEL_IPMASQ), and with --ip-masq the FLANNEL-POSTRTG rules;
- then watch the subnets: every peer that comes or goes is added or removed
  (netplex polls once a second: `sync_peers`); our own lease gone means
  flanneld shuts down ("Lease has been revoked");
- renew the lease `--subnet-lease-renew-margin` minutes (default 60) before it
  expires: a new 24 h lease and the key put again under it (a failure is tried
  again a minute later).

Peers' state is kept in /run/flannel/netplex-peers.json
so each sync adds and removes only the difference. Standard library only.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from netplex.container.engine import long_options
from netplex.container.etcd import b64, prefix_end, unb64
from netplex.errors import NetplexError
from netplex.packet.checksum import inet_checksum

__all__ = ["FlannelError", "Flanneld", "FlannelOptions", "LeaseRevoked", "UdpProxy", "parse_flanneld"]

Post = Callable[[str, dict[str, Any]], dict[str, Any]]
LEASE_TTL = 24 * 3600
RENEW_RETRY = 60              # MonitorLease: a failed renewal is tried again in a minute
PEERS_FILE = "/run/flannel/netplex-peers.json"
UDP_DEV = "flannel0"
UDP_PORT = 8285
UDP_ENCAP_OVERHEAD = 28       # udp_network_amd64.go encapOverhead: IPv4 + UDP headers
VXLAN_ENCAP_OVERHEAD = 50


class FlannelError(NetplexError):
    """flanneld's fatal message (it logs `E... main.go:...] ...` and exits 1)."""


class LeaseRevoked(FlannelError):
    """Our own lease is gone from etcd: flanneld shuts down (main.go MonitorLease, EventRemoved)."""

    def __init__(self) -> None:
        super().__init__("E main.go] Lease has been revoked. Shutting down daemon.")


class Host(Protocol):
    def run(self, argv: Sequence[str]) -> tuple[int, str, str]: ...
    def read(self, path: str) -> str | None: ...
    def write(self, path: str, text: str) -> None: ...
    def open_tun(self, name: str) -> None: ...
    def now(self) -> float: ...


@dataclass
class FlannelOptions:
    endpoints: list[str]
    prefix: str = "/coreos.com/network"
    iface: str = ""
    public_ip: str = ""
    ip_masq: bool = False
    subnet_file: str = "/run/flannel/subnet.env"
    renew_margin_min: int = 60      # --subnet-lease-renew-margin: renew this long before expiry


def parse_flanneld(argv: Sequence[str]) -> FlannelOptions:
    opts = FlannelOptions(["http://127.0.0.1:2379"])
    valued = ("etcd-endpoints", "etcd-prefix", "iface", "public-ip", "subnet-file", "subnet-lease-renew-margin")
    for name, value, given in long_options(argv, valued, lambda n: FlannelError(f"flag needs an argument: -{n}")):
        if name == "ip-masq":
            opts.ip_masq = value.lower() in ("", "true", "1") if given else True
        elif name not in valued:
            if name in ("kube-subnet-mgr", "etcd-username", "etcd-password", "etcd-certfile", "etcd-keyfile",
                        "etcd-cafile", "iface-regex", "iface-can-reach", "v"):
                raise FlannelError(f"netplex: flanneld --{name} is not supported")
            raise FlannelError(f"flag provided but not defined: -{name or value}")
        elif name == "etcd-endpoints":
            opts.endpoints = value.split(",")
        elif name == "etcd-prefix":
            opts.prefix = value.rstrip("/")
        elif name == "iface":
            opts.iface = value
        elif name == "public-ip":
            opts.public_ip = value
        elif name == "subnet-lease-renew-margin":
            try:
                opts.renew_margin_min = int(value)
            except ValueError:
                raise FlannelError(f'invalid value "{value}" for flag -subnet-lease-renew-margin: '
                                   "parse error") from None
            if not 0 < opts.renew_margin_min < LEASE_TTL // 60:
                raise FlannelError("Invalid subnet-lease-renew-margin option, out of acceptable range")
        else:
            opts.subnet_file = value
    return opts


def vtep_mac(public_ip: str, vni: int) -> str:
    """flannel.<VNI>'s MAC: the kernel draws one; netplex derives it from the host so both backends agree."""
    h = hashlib.sha256(f"{public_ip}/{vni}".encode()).digest()
    return ":".join(f"{b:02x}" for b in bytes([(h[0] & 0xFE) | 0x02, *h[1:6]]))


class Flanneld:
    """One host's flanneld: its lease, its devices, its peers."""

    def __init__(self, host: Host, opts: FlannelOptions, post: Post) -> None:
        self.host, self.opts, self.post = host, opts, post
        self.proxy: UdpProxy | None = None      # the udp backend's data path
        self.lease: tuple[str, dict[str, Any]] | None = None   # our subnet key's name and value
        self.renew_at = 0.0                     # host time of the next renewal

    # -- etcd ------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        r = self.post("/v3/kv/range", {"key": b64(self.opts.prefix + "/config")})
        kvs = r.get("kvs") or []
        if not kvs:
            raise FlannelError(f"Couldn't fetch network config: {self.opts.prefix}/config: key not found")
        try:
            cfg = json.loads(unb64(kvs[0].get("value")))
            ipaddress.IPv4Network(cfg["Network"])
        except (ValueError, KeyError, TypeError):
            raise FlannelError("Couldn't fetch network config: invalid network config") from None
        return dict(cfg)

    def subnets_request(self) -> tuple[str, dict[str, Any]]:
        """The range request that lists every lease (what the watch polls)."""
        key = self.opts.prefix + "/subnets/"
        return "/v3/kv/range", {"key": b64(key), "range_end": prefix_end(key)}

    def subnets(self) -> dict[str, dict[str, Any]]:
        return self.parse_subnets(self.post(*self.subnets_request()))

    def parse_subnets(self, r: dict[str, Any]) -> dict[str, dict[str, Any]]:
        key = self.opts.prefix + "/subnets/"
        out = {}
        for kv in r.get("kvs") or []:
            name = unb64(kv["key"]).decode()[len(key):]
            try:
                out[name] = json.loads(unb64(kv.get("value")))
            except ValueError:
                continue
        return out

    # -- start -------------------------------------------------------------------
    def public_ip(self) -> str:
        if self.opts.public_ip:
            return self.opts.public_ip
        iface = self.opts.iface or "eth0"
        st, out, err = self.host.run(["ip", "-4", "-o", "addr", "show", "dev", iface])
        for word_line in out.splitlines():
            words = word_line.split()
            if "inet" in words:
                return words[words.index("inet") + 1].split("/")[0]
        raise FlannelError(f"Failed to find interface to use that matches the interfaces and/or regexes provided: "
                           f"{iface}")

    def start(self) -> None:
        cfg = self.config()
        backend = dict(cfg.get("Backend") or {"Type": "udp"})
        btype = str(backend.get("Type", "udp")).lower()
        if btype not in ("vxlan", "host-gw", "udp"):
            raise FlannelError(f"netplex: flanneld backend {btype} is not supported")
        net = ipaddress.IPv4Network(cfg["Network"])
        plen = int(cfg.get("SubnetLen", 24))
        pub = self.public_ip()
        iface = self.opts.iface or "eth0"
        vni = int(backend.get("VNI", 1))
        port = int(backend.get("Port", UDP_PORT if btype == "udp" else 8472))
        data: dict[str, Any] = {"VNI": vni, "VtepMAC": vtep_mac(pub, vni)} if btype == "vxlan" else {}
        # subnet.LeaseAttrs: BackendType and BackendData are `omitempty`; the udp backend sets neither
        value: dict[str, Any] = {"PublicIP": pub, "PublicIPv6": None}
        if btype != "udp":
            value["BackendType"] = btype
        if data:
            value["BackendData"] = data
        mine = self._lease(net, plen, cfg, pub, value)
        mtu_out = self.host.read(f"/sys/class/net/{iface}/mtu")
        mtu = int((mtu_out or "1500").strip())
        if btype == "udp":
            mtu -= UDP_ENCAP_OVERHEAD
            self.host.open_tun(UDP_DEV)
            self._must("ip", "addr", "add", f"{mine.network_address}/32", "dev", UDP_DEV)
            self._must("ip", "link", "set", "dev", UDP_DEV, "mtu", str(mtu))
            self._must("ip", "link", "set", UDP_DEV, "up")
            st, _, err = self.host.run(["ip", "route", "add", str(net), "dev", UDP_DEV, "scope", "global"])
            if st != 0 and "File exists" not in err:
                raise FlannelError(f"failed to add route ({net} -> {UDP_DEV}): {err.strip()}")
            self.proxy = UdpProxy(pub, str(mine.network_address), port)
        if btype == "vxlan":
            mtu -= VXLAN_ENCAP_OVERHEAD
            dev = f"flannel.{vni}"
            if self.host.run(["ip", "link", "show", "dev", dev])[0] != 0:
                self._must("ip", "link", "add", dev, "address", data["VtepMAC"], "type", "vxlan", "id", str(vni),
                           "local", pub, "dev", iface, "dstport", str(port), "nolearning")
            self._must("ip", "link", "set", "dev", dev, "mtu", str(mtu))
            self.host.run(["ip", "addr", "add", f"{mine.network_address}/32", "dev", dev])
            self._must("ip", "link", "set", dev, "up")
        if self.opts.ip_masq:
            self._masq(net, mine)
        self.host.write(self.opts.subnet_file,
                        f"FLANNEL_NETWORK={net}\nFLANNEL_SUBNET={mine.network_address + 1}/{mine.prefixlen}\n"
                        f"FLANNEL_MTU={mtu}\nFLANNEL_IPMASQ={str(self.opts.ip_masq).lower()}\n")
        self.host.write(PEERS_FILE, json.dumps({"backend": btype, "mine": str(mine), "iface": iface, "vni": vni,
                                                "peers": {}}))
        self.sync_peers()

    def _lease(self, net: ipaddress.IPv4Network, plen: int, cfg: dict[str, Any], pub: str,
               value: dict[str, Any]) -> ipaddress.IPv4Network:
        taken = self.subnets()
        for name, v in taken.items():
            if v.get("PublicIP") == pub:
                sub = ipaddress.IPv4Network(name.replace("-", "/"))
                self._put_lease(name, value, create=False)
                return sub
        lo = ipaddress.IPv4Address(cfg.get("SubnetMin") or str(next(net.subnets(new_prefix=plen)).network_address
                                                               + (1 << (32 - plen))))
        hi = ipaddress.IPv4Address(cfg.get("SubnetMax") or str(list(net.subnets(new_prefix=plen))[-1].network_address))
        used = {name.replace("-", "/") for name in taken}
        for sub in net.subnets(new_prefix=plen):
            if lo <= sub.network_address <= hi and str(sub) not in used:
                name = f"{sub.network_address}-{plen}"
                if self._put_lease(name, value, create=True):
                    return sub
        raise FlannelError("failed to acquire lease: out of subnets")

    def _put_lease(self, name: str, value: dict[str, Any], create: bool) -> bool:
        """createSubnet (a txn: create if absent) or updateSubnet (a plain put), each under a new 24 h lease."""
        lid = self.post("/v3/lease/grant", {"TTL": LEASE_TTL})["ID"]
        put = self.lease_put(name, value, lid)
        if create:
            r = self.post("/v3/kv/txn", {"compare": [{"key": put["key"], "result": "EQUAL", "target": "CREATE",
                                                      "create_revision": "0"}],
                                         "success": [{"request_put": put}]})
            if not r.get("succeeded"):
                return False
        else:
            self.post("/v3/kv/put", put)
        self.lease = (name, value)
        self.renewed(True)
        return True

    def lease_put(self, name: str, value: dict[str, Any], lid: str) -> dict[str, Any]:
        return {"key": b64(f"{self.opts.prefix}/subnets/{name}"),
                "value": b64(json.dumps(value, separators=(",", ":"))), "lease": lid}

    # -- the renewal (main.go MonitorLease, RenewLease -> updateSubnet) ---------------------
    def renew_due(self) -> bool:
        return self.lease is not None and self.host.now() >= self.renew_at

    def renewed(self, ok: bool) -> None:
        """The next renewal: the margin before the new expiry, or in a minute after a failure."""
        now = self.host.now()
        self.renew_at = now + (LEASE_TTL - self.opts.renew_margin_min * 60 if ok else RENEW_RETRY)

    def renew(self) -> None:
        """RenewLease, synchronously: a new 24 h lease and our key put again under it."""
        assert self.lease is not None
        try:
            self._put_lease(*self.lease, create=False)
        except (ValueError, KeyError, OSError, NetplexError):
            self.renewed(False)

    def _masq(self, net: ipaddress.IPv4Network, mine: ipaddress.IPv4Network) -> None:
        """trafficmngr/iptables: the FLANNEL-POSTRTG chain, jumped to from POSTROUTING."""
        self.host.run(["iptables", "-t", "nat", "-N", "FLANNEL-POSTRTG"])
        if self.host.run(["iptables", "-t", "nat", "-C", "POSTROUTING", "-m", "comment", "--comment",
                          "flanneld masq", "-j", "FLANNEL-POSTRTG"])[0] != 0:
            self._must("iptables", "-t", "nat", "-I", "POSTROUTING", "1", "-m", "comment", "--comment",
                       "flanneld masq", "-j", "FLANNEL-POSTRTG")
        c = ["-m", "comment", "--comment", "flanneld masq"]
        for rule in (["-m", "mark", "--mark", "0x4000/0x4000", "-j", "RETURN"],
                     ["-s", str(mine), "-d", str(net), *c, "-j", "RETURN"],
                     ["-s", str(net), "-d", str(mine), *c, "-j", "RETURN"],
                     ["!", "-s", str(net), "-d", str(mine), *c, "-j", "RETURN"],
                     ["-s", str(net), "!", "-d", "224.0.0.0/4", *c, "-j", "MASQUERADE", "--random-fully"],
                     ["!", "-s", str(net), "-d", str(net), *c, "-j", "MASQUERADE", "--random-fully"]):
            if self.host.run(["iptables", "-t", "nat", "-C", "FLANNEL-POSTRTG", *rule])[0] != 0:
                self._must("iptables", "-t", "nat", "-A", "FLANNEL-POSTRTG", *rule)

    def _must(self, *argv: str) -> None:
        st, out, err = self.host.run(list(argv))
        if st != 0:
            raise FlannelError(f"{' '.join(argv)}: {(err or out).strip()}")

    # -- the watch -------------------------------------------------------------------
    def sync_peers(self, subnets: dict[str, dict[str, Any]] | None = None) -> None:
        """Add the routes (and ARP/FDB entries) of new peers, remove those of peers gone."""
        text = self.host.read(PEERS_FILE)
        if not text:
            return
        st = json.loads(text)
        if subnets is None:
            subnets = self.subnets()
        mine = st["mine"]
        if mine.replace("/", "-") not in subnets:
            raise LeaseRevoked()
        # vxlan and host-gw ignore other backends' leases (handleSubnetEvents); udp takes every lease
        want = {name.replace("-", "/"): v for name, v in subnets.items()
                if name.replace("-", "/") != mine and st["backend"] in ("udp", v.get("BackendType"))}
        have: dict[str, dict[str, Any]] = st["peers"]
        for sub, v in have.items():
            if sub not in want or want[sub] != v:
                self._peer(st, sub, v, add=False)
        for sub, v in want.items():
            if have.get(sub) != v:
                self._peer(st, sub, v, add=True)
        if self.proxy is not None:
            self.proxy.routes = {ipaddress.IPv4Network(sub): v["PublicIP"] for sub, v in want.items()}
        if want != have:
            st["peers"] = want
            self.host.write(PEERS_FILE, json.dumps(st))

    def _peer(self, st: dict[str, Any], sub: str, v: dict[str, Any], add: bool) -> None:
        net = ipaddress.IPv4Network(sub)
        gw = str(net.network_address)
        if st["backend"] == "udp":
            return      # no kernel state per peer: the proxy's table (sync_peers)
        if st["backend"] == "host-gw":
            if add:
                self.host.run(["ip", "route", "replace", sub, "via", v["PublicIP"], "dev", st["iface"]])
            else:
                self.host.run(["ip", "route", "del", sub, "via", v["PublicIP"]])
            return
        dev = f"flannel.{st['vni']}"
        mac = (v.get("BackendData") or {}).get("VtepMAC", "")
        if add:
            self.host.run(["ip", "neigh", "replace", gw, "lladdr", mac, "dev", dev, "nud", "permanent"])
            self.host.run(["bridge", "fdb", "replace", mac, "dev", dev, "dst", v["PublicIP"], "self", "permanent"])
            self.host.run(["ip", "route", "replace", sub, "via", gw, "dev", dev, "onlink"])
        else:
            self.host.run(["ip", "route", "del", sub, "via", gw, "dev", dev, "onlink"])
            self.host.run(["bridge", "fdb", "del", mac, "dev", dev, "dst", v["PublicIP"], "self"])
            self.host.run(["ip", "neigh", "del", gw, "dev", dev])


def _ipv4_header_ok(pkt: bytes) -> int:
    """The header length of an IPv4 packet, 0 when it is too short to be one."""
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return 0
    ihl = (pkt[0] & 0x0F) * 4
    return ihl if 20 <= ihl <= len(pkt) else 0


def _decrement_ttl(pkt: bytes) -> bytes | None:
    """proxy_amd64.c decrement_ttl: TTL − 1 and the header checksum again; None when it reaches 0."""
    ihl = _ipv4_header_ok(pkt)
    if not ihl or pkt[8] <= 1:
        return None
    b = bytearray(pkt)
    b[8] -= 1
    b[10:12] = b"\0\0"
    b[10:12] = inet_checksum(bytes(b[:ihl])).to_bytes(2, "big")
    return bytes(b)


class UdpProxy:
    """flanneld's udp data path (pkg/backend/udp/proxy_amd64.c), on packets as bytes.

    `routes` maps each peer's subnet to its public IP (set by every peer sync);
    `from_tun` and `from_udp` say what to do with one packet, so the simulator's
    program and the twin's process move packets the same way."""

    def __init__(self, local: str, tun_addr: str, port: int) -> None:
        self.local = local          # the UDP socket's address: the external interface's
        self.tun_addr = ipaddress.IPv4Address(tun_addr)
        self.port = port
        self.routes: dict[ipaddress.IPv4Network, str] = {}

    def from_tun(self, pkt: bytes) -> tuple[tuple[str, int] | None, bytes] | None:
        """tun_to_udp: ((peer, port), packet) to send, or (None, ICMP) to write back to the TUN, or None."""
        ihl = _ipv4_header_ok(pkt)
        if not ihl:
            return None
        dst = ipaddress.IPv4Address(pkt[16:20])
        for net, peer in self.routes.items():
            if dst in net:
                out = _decrement_ttl(pkt)
                return None if out is None else ((peer, self.port), out)
        icmp = self.net_unreachable(pkt, ihl)
        return None if icmp is None else (None, icmp)

    def from_udp(self, pkt: bytes) -> bytes | None:
        """udp_to_tun: the packet to write to the TUN (TTL − 1), or None."""
        return _decrement_ttl(pkt)

    def net_unreachable(self, pkt: bytes, ihl: int) -> bytes | None:
        """send_net_unreachable: ICMP destination unreachable, net unreachable, TTL 8, from the
        TUN's address, quoting the header and 8 bytes; never about ICMP or a later fragment."""
        if pkt[9] == 1 or int.from_bytes(pkt[6:8], "big") & 0x1FFF:
            return None
        quote = pkt[:ihl + 8]
        icmp = bytearray(b"\x03\x00\0\0\0\0\0\0" + quote)
        icmp[2:4] = inet_checksum(bytes(icmp)).to_bytes(2, "big")
        total = 20 + len(icmp)
        hdr = bytearray(b"\x45\0" + total.to_bytes(2, "big") + b"\0\0\0\0\x08\x01\0\0"
                        + self.tun_addr.packed + pkt[12:16])
        hdr[10:12] = inet_checksum(bytes(hdr)).to_bytes(2, "big")
        return bytes(hdr + icmp)
