"""flanneld (flannel-io/flannel) on etcd v3: subnet leases, subnet.env, the vxlan and host-gw backends.

    flanneld --etcd-endpoints=http://192.168.64.1:2379 --iface=eth0 [--etcd-prefix=/coreos.com/network]
             [--ip-masq] [--subnet-file=/run/flannel/subnet.env] [--public-ip=IP]

What flanneld does, in its order (pkg/subnet/etcd, pkg/backend/vxlan, hostgw,
pkg/trafficmngr/iptables):

- read `<prefix>/config` (`Network`, `SubnetLen` default 24, `SubnetMin`,
  `SubnetMax`, `Backend.Type` vxlan|host-gw, `VNI` default 1, `Port` default 8472);
- take this host's lease: the key of a subnet whose `PublicIP` is ours, else the
  first free subnet (flannel draws one at random; netplex takes the lowest so both
  backends agree), created with a transaction (create if absent) under a lease of
  24 h, as `<prefix>/subnets/10.5.52.0-24` = `{"PublicIP":...,"PublicIPv6":null,
  "BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"..."}}`;
- vxlan: `flannel.<VNI>` (local public IP, dev IFACE, dstport, nolearning, MTU
  IFACE − 50, address <subnet>.0/32), per peer an onlink route via <peer subnet>.0,
  a permanent neighbour with the peer's VtepMAC, an FDB entry to its public IP;
  host-gw: per peer a route via its public IP;
- write the subnet file (FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU,
  FLANNEL_IPMASQ), and with --ip-masq the FLANNEL-POSTRTG rules;
- then watch the subnets: every peer that comes or goes is added or removed
  (netplex polls once a second: `sync_peers`).

The udp backend is refused. Peers' state is kept in /run/flannel/netplex-peers.json
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

__all__ = ["FlannelError", "Flanneld", "FlannelOptions", "parse_flanneld"]

Post = Callable[[str, dict[str, Any]], dict[str, Any]]
LEASE_TTL = 24 * 3600
PEERS_FILE = "/run/flannel/netplex-peers.json"


class FlannelError(NetplexError):
    """flanneld's fatal message (it logs `E... main.go:...] ...` and exits 1)."""


class Host(Protocol):
    def run(self, argv: Sequence[str]) -> tuple[int, str, str]: ...
    def read(self, path: str) -> str | None: ...
    def write(self, path: str, text: str) -> None: ...


@dataclass
class FlannelOptions:
    endpoints: list[str]
    prefix: str = "/coreos.com/network"
    iface: str = ""
    public_ip: str = ""
    ip_masq: bool = False
    subnet_file: str = "/run/flannel/subnet.env"


def parse_flanneld(argv: Sequence[str]) -> FlannelOptions:
    opts = FlannelOptions(["http://127.0.0.1:2379"])
    valued = ("etcd-endpoints", "etcd-prefix", "iface", "public-ip", "subnet-file")
    for name, value, given in long_options(argv, valued, lambda n: FlannelError(f"flag needs an argument: -{n}")):
        if name == "ip-masq":
            opts.ip_masq = value.lower() in ("", "true", "1") if given else True
        elif name not in valued:
            if name in ("kube-subnet-mgr", "etcd-username", "etcd-password", "etcd-certfile", "etcd-keyfile",
                        "etcd-cafile", "subnet-lease-renew-margin", "iface-regex", "iface-can-reach", "v"):
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
        if btype not in ("vxlan", "host-gw"):
            raise FlannelError(f"netplex: flanneld backend {btype} is not supported")
        net = ipaddress.IPv4Network(cfg["Network"])
        plen = int(cfg.get("SubnetLen", 24))
        pub = self.public_ip()
        iface = self.opts.iface or "eth0"
        vni = int(backend.get("VNI", 1))
        port = int(backend.get("Port", 8472))
        data: dict[str, Any] = {"VNI": vni, "VtepMAC": vtep_mac(pub, vni)} if btype == "vxlan" else {}
        value = {"PublicIP": pub, "PublicIPv6": None, "BackendType": btype, "BackendData": data or None}
        mine = self._lease(net, plen, cfg, pub, value)
        mtu_out = self.host.read(f"/sys/class/net/{iface}/mtu")
        mtu = int((mtu_out or "1500").strip())
        if btype == "vxlan":
            mtu -= 50
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
        lid = self.post("/v3/lease/grant", {"TTL": LEASE_TTL})["ID"]
        key = b64(f"{self.opts.prefix}/subnets/{name}")
        put = {"key": key, "value": b64(json.dumps(value, separators=(",", ":"))), "lease": lid}
        if not create:
            self.post("/v3/kv/put", put)
            return True
        r = self.post("/v3/kv/txn", {"compare": [{"key": key, "result": "EQUAL", "target": "CREATE",
                                                  "create_revision": "0"}],
                                     "success": [{"request_put": put}]})
        return bool(r.get("succeeded"))

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
        want = {name.replace("-", "/"): v for name, v in subnets.items()
                if name.replace("-", "/") != mine and v.get("BackendType") == st["backend"]}
        have: dict[str, dict[str, Any]] = st["peers"]
        for sub, v in have.items():
            if sub not in want or want[sub] != v:
                self._peer(st, sub, v, add=False)
        for sub, v in want.items():
            if have.get(sub) != v:
                self._peer(st, sub, v, add=True)
        if want != have:
            st["peers"] = want
            self.host.write(PEERS_FILE, json.dumps(st))

    def _peer(self, st: dict[str, Any], sub: str, v: dict[str, Any], add: bool) -> None:
        net = ipaddress.IPv4Network(sub)
        gw = str(net.network_address)
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
