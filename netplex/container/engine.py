"""dockerd's networking, as the commands dockerd's bridge driver makes the kernel run.

The daemon of netplex's docker-host: it keeps docker's objects (networks,
containers, published ports) in a JSON file on the host
(/var/lib/docker/netplex/state.json) and changes the host only through the
commands a reader would type to do the same by hand (`ip link add ... type
bridge`, `ip netns add`, `ip link add vethXXXXXXX type veth peer ...`,
`sysctl -w`, `iptables ...` through `netplex.container.iptabler`,
`docker-proxy ...`). A `Host` runs them: the simulated node's shell, or the
real tools inside the kernel twin's namespace, so both backends are built by
the same code. Standard library only (the twin runs it as a program).

What dockerd 28 does, step by step (moby daemon/libnetwork/drivers/bridge):

- start: the iptabler's chains, DOCKER-USER, then the default network `bridge`
  (docker0, --bip, default 172.17.0.1/16) unless `--bridge=none`;
- a bridge network (createNetwork's setup queue): the device, accept_ra=0 when
  IPv6 exists, the MTU, the gateway address, ip_forward=1 (and the FORWARD
  policy DROP when dockerd turned it on), route_localnet=1 without the userland
  proxy, bridge-nf-call-iptables=1 without ICC or without the proxy, the
  firewall rules, the device up;
- a container: its network namespace (a named one here, `ip netns list` shows
  it; dockerd keeps them in /var/run/docker/netns), per network a veth whose
  host end `vethXXXXXXX` joins the bridge and whose other end is the
  container's `eth0` (`eth1`, ...), its address, MAC 02:42:<IPv4> (dockerd's
  GenerateMACFromIP), the default route via the first network's gateway, the
  raw-table DROP per endpoint, then each published port's rules and, with the
  userland proxy on, one `docker-proxy` per port.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import posixpath
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from netplex.container.dns import (
    DNS_IP,
    HOST_GATEWAY,
    container_hosts,
    nat_rules,
    overrides_of,
    resolv_conf_internal,
    resolv_conf_legacy,
    uses_embedded_dns,
)
from netplex.container.iptabler import ClassicIptabler, FirewallConfig, Iptabler, NetworkConfig, PortBinding
from netplex.errors import NetplexError

__all__ = ["IMAGES", "DockerError", "Engine", "Host", "STATE_PATH", "SOCKET_PATH"]

STATE_PATH = "/var/lib/docker/netplex/state.json"
SOCKET_PATH = "/var/run/docker.sock"
DAEMON_JSON = "/etc/docker/daemon.json"
DEFAULT_BIP = "172.17.0.1/16"
ENGINE_VERSION = "28.5.1"      # dockerd's rules are moby 28's unless netplex-engine-version says older
ENGINE_VERSIONS = re.compile(r"(2[0-8])\.(\d+)(\.\d+)?")
# dockerd's default address pools: 172.17-31.0.0/16, then 192.168.0-240.0/20
DEFAULT_POOLS = [f"172.{i}.0.0/16" for i in range(17, 32)] + [f"192.168.{i}.0/20" for i in range(0, 256, 16)]

# Image names are labels: what a container of each image runs (its command as
# `docker ps` shows it) and the netplex probe service (SCENARIO.md) that stands
# for the image's server.
IMAGES: dict[str, tuple[list[str], list[tuple[str, int]]]] = {
    "nginx": (["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"], [("tcp", 80)]),
    "httpd": (["httpd-foreground"], [("tcp", 80)]),
    "redis": (["docker-entrypoint.sh", "redis-server"], [("tcp", 6379)]),
    "postgres": (["docker-entrypoint.sh", "postgres"], [("tcp", 5432)]),
    "busybox": (["sh"], []),
    "alpine": (["/bin/sh"], []),
    "debian": (["bash"], []),
    "ubuntu": (["/bin/bash"], []),
}
SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash"}
DETACHABLE = {"sleep", "/bin/sleep", "top", "tail", "cat"}   # commands that keep a -d container up


class DockerError(NetplexError):
    """What the docker CLI prints on stderr for a failed request, and its exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message, status=status)


class Host(Protocol):
    """Where dockerd's commands run: the host's shell, its files, its processes."""

    def run(self, argv: Sequence[str]) -> tuple[int, str, str]: ...
    def run_in(self, netns: str | None, argv: Sequence[str], stdin: bool = False) -> tuple[int, str, str]: ...
    def read(self, path: str) -> str | None: ...
    def write(self, path: str, text: str) -> None: ...
    def exists(self, path: str) -> bool: ...
    def now(self) -> float: ...
    def spawn(self, argv: Sequence[str], netns: str | None, services: Sequence[tuple[str, int]]) -> int: ...
    def kill(self, pid: int) -> None: ...
    def alive(self, pid: int) -> bool: ...
    def join_net_cls(self, cgroup: str, pid: int, asked: bool) -> None: ...
    def start_resolver(self, container: str, netns: str) -> tuple[int, int]: ...
    def stop_resolver(self, container: str) -> None: ...
    def leave_net_cls(self, cgroup: str) -> None: ...


NET_CLS_MOUNT = "/sys/fs/cgroup/net_cls"     # where a cgroup v1 host mounts net_cls


def _hex_id(*parts: object) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()


def mac_from_ip(ip: str) -> str:
    """netutils.GenerateMACFromIP: 02:42 and the four bytes of the IPv4 address."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)


def _bool(v: Any, what: str) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).lower()
    if s in ("1", "t", "true"):
        return True
    if s in ("0", "f", "false"):
        return False
    raise DockerError(f'invalid argument "{v}" for "--{what}" flag: strconv.ParseBool: parsing "{v}": invalid syntax')


@dataclass
class DaemonConfig:
    iptables: bool = True
    ip_forward: bool = True
    userland_proxy: bool = True
    bip: str = ""
    icc: bool = True
    ip_masq: bool = True
    mtu: int = 0
    bridge: str = ""
    allow_direct_routing: bool = False
    netplex_engine_version: str = ENGINE_VERSION   # the Docker Engine whose rules dockerd writes

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def classic(self) -> bool:
        """Docker 20.10 to 27: the DOCKER-ISOLATION-STAGE-1/2 layout (iptabler.ClassicIptabler)."""
        return int(self.netplex_engine_version.split(".")[0]) < 28


DAEMON_BOOLS = {"iptables": "iptables", "ip-forward": "ip_forward", "userland-proxy": "userland_proxy",
                "icc": "icc", "ip-masq": "ip_masq", "allow-direct-routing": "allow_direct_routing"}
DAEMON_VALUES = {"bip": "bip", "mtu": "mtu", "bridge": "bridge", "b": "bridge",
                 "netplex-engine-version": "netplex_engine_version"}
DAEMON_REFUSED = {"ipv6", "ip6tables", "fixed-cidr", "fixed-cidr-v6", "default-gateway", "ip", "dns", "dns-search",
                  "dns-opt", "host-gateway-ip",
                  "default-address-pool", "iptables-layout", "firewall-backend"}


def long_options(argv: Sequence[str], valued: Collection[str],
                 missing: Callable[[str], Exception]) -> Iterator[tuple[str, str, bool]]:
    """Go-style long options: (name, value, whether `=value` was given) for each `--name[=value]`, taking
    the next word as the value of a name in `valued`; ("", word, False) for a word that is no option."""
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-"):
            yield "", a, False
            continue
        name, eq, value = a.lstrip("-").partition("=")
        if name in valued and not eq:
            if i >= len(args):
                raise missing(name)
            value = args[i]
            i += 1
        yield name, value, bool(eq)


def parse_daemon(argv: Sequence[str], daemon_json: str | None) -> DaemonConfig:
    """dockerd's options from /etc/docker/daemon.json and its command line (the line wins)."""
    cfg = DaemonConfig()
    if daemon_json is not None and daemon_json.strip():
        try:
            data = json.loads(daemon_json)
        except ValueError as e:
            raise DockerError(f"unable to configure the Docker daemon with file {DAEMON_JSON}: {e}") from None
        if not isinstance(data, dict):
            raise DockerError(f"unable to configure the Docker daemon with file {DAEMON_JSON}: "
                              "json: cannot unmarshal into a map")
        for key, v in data.items():
            if key in DAEMON_BOOLS:
                setattr(cfg, DAEMON_BOOLS[key], _bool(v, key))
            elif key in DAEMON_VALUES:
                setattr(cfg, DAEMON_VALUES[key], int(v) if key == "mtu" else str(v))
            else:
                raise DockerError(f"netplex: dockerd: {DAEMON_JSON} key {key!r} is not supported")
    for name, value, given in long_options(argv, set(DAEMON_VALUES),
                                           lambda n: DockerError(f"flag needs an argument: --{n}")):
        if not name:
            raise DockerError('dockerd: "dockerd" accepts no arguments.\nSee \'dockerd --help\'.\n\n'
                              'Usage:  dockerd [OPTIONS]\n\nA self-sufficient runtime for containers.')
        if name in DAEMON_BOOLS:
            setattr(cfg, DAEMON_BOOLS[name], _bool(value, name) if given else True)
        elif name == "mtu":
            try:
                cfg.mtu = int(value)
            except ValueError:
                raise DockerError(f'invalid argument "{value}" for "--mtu" flag: strconv.ParseInt: '
                                  f'parsing "{value}": invalid syntax') from None
        elif name in DAEMON_VALUES:
            setattr(cfg, DAEMON_VALUES[name], value)
        elif name in DAEMON_REFUSED:
            raise DockerError(f"netplex: dockerd --{name} is not supported")
        else:
            raise DockerError(f"unknown flag: --{name}\nSee 'dockerd --help'.")
    m = ENGINE_VERSIONS.fullmatch(cfg.netplex_engine_version)
    if m is None or (m.group(1) == "20" and int(m.group(2)) < 10):
        raise DockerError(f"netplex: dockerd --netplex-engine-version {cfg.netplex_engine_version}: netplex writes "
                          "the iptables rules of Docker 20.10 to 28 (MAJOR.MINOR[.PATCH])")
    if cfg.bip:
        try:
            ipaddress.IPv4Interface(cfg.bip)
        except ValueError:
            raise DockerError(f'invalid argument "{cfg.bip}" for "--bip" flag: invalid CIDR address: {cfg.bip}') \
                from None
    return cfg


class Engine:
    """dockerd: its state in the host's files, its changes made by the host's commands."""

    def __init__(self, host: Host, name: str = "") -> None:
        self.host = host
        self.name = name           # the machine's name: ids differ between hosts
        text = host.read(STATE_PATH)
        self.state: dict[str, Any] = json.loads(text) if text else {}

    # -- state -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self.state) and self.host.exists(SOCKET_PATH)

    def save(self) -> None:
        self.host.write(STATE_PATH, json.dumps(self.state, separators=(",", ":")))   # compact: the C encoder

    @property
    def config(self) -> DaemonConfig:
        return DaemonConfig(**self.state["config"])

    def _seq(self) -> int:
        self.state["seq"] = self.state.get("seq", 0) + 1
        return int(self.state["seq"])

    def sh(self, *argv: str) -> tuple[int, str, str]:
        return self.host.run(list(argv))

    def must(self, *argv: str) -> str:
        st, out, err = self.host.run(list(argv))
        if st != 0:
            raise DockerError(f"Error response from daemon: {' '.join(argv)}: {(err or out).strip()}")
        return out

    def iptabler(self) -> Iptabler:
        cfg = self.config
        cls = ClassicIptabler if cfg.classic else Iptabler
        return cls(lambda argv: self.host.run(argv)[0],
                   FirewallConfig(hairpin=not cfg.userland_proxy, allow_direct_routing=cfg.allow_direct_routing))

    # -- dockerd start --------------------------------------------------------------
    def start(self, cfg: DaemonConfig) -> None:
        self.state = {"config": cfg.as_dict(), "seq": 0, "networks": {}, "containers": {}, "started": self.host.now()}
        if cfg.iptables:
            ipt = self.iptabler()
            ipt.setup_chains()
            ipt.setup_user_chain()
        if cfg.bridge != "none":
            bip = ipaddress.IPv4Interface(cfg.bip or DEFAULT_BIP)
            self._create_network("bridge", {"subnet": str(bip.network), "gateway": str(bip.ip),
                                            "bridge_name": cfg.bridge or "docker0", "default": True})
        self._create_network("host", {"driver": "host"})
        self._create_network("none", {"driver": "null"})
        self.save()

    # -- networks -----------------------------------------------------------------------
    def network(self, ref: str) -> dict[str, Any]:
        nets = self.state["networks"]
        if ref in nets:
            return dict(nets[ref])
        hits = [n for n in nets.values() if n["id"].startswith(ref)] if ref else []
        if len(hits) == 1:
            return dict(hits[0])
        raise DockerError(f"Error response from daemon: network {ref} not found")

    def _netcfg(self, n: dict[str, Any]) -> NetworkConfig:
        return NetworkConfig(n["bridge_name"], n["subnet"], internal=n["internal"], icc=n["icc"],
                             masquerade=n["masq"], host_ip=n["host_ip"], gwmode=n["gwmode"])

    def _pick_subnet(self) -> str:
        used = [ipaddress.IPv4Network(n["subnet"]) for n in self.state["networks"].values() if n.get("subnet")]
        for pool in DEFAULT_POOLS:
            p = ipaddress.IPv4Network(pool)
            if not any(p.overlaps(u) for u in used):
                return pool
        raise DockerError("Error response from daemon: all predefined address pools have been fully subnetted")

    def create_network(self, name: str, opts: dict[str, Any]) -> str:
        if name in self.state["networks"]:
            raise DockerError(f"Error response from daemon: network with name {name} already exists")
        n = self._create_network(name, opts)
        self.save()
        return str(n["id"])

    def _create_network(self, name: str, opts: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        driver = opts.get("driver", "bridge")
        nid = _hex_id(self.name, "network", name, self._seq())
        n: dict[str, Any] = {"id": nid, "name": name, "driver": driver, "created": self.host.now(),
                             "internal": bool(opts.get("internal")), "options": dict(opts.get("options", {})),
                             "subnet": "", "gateway": "", "ip_range": "", "bridge_name": "",
                             "icc": True, "masq": True, "host_ip": "", "gwmode": "nat", "mtu": 0,
                             "default": bool(opts.get("default")), "user_subnet": bool(opts.get("subnet"))}
        if driver == "bridge":
            subnet = opts.get("subnet") or self._pick_subnet()
            try:
                net = ipaddress.IPv4Network(subnet, strict=False)
            except ValueError:
                raise DockerError(f"Error response from daemon: invalid subnet {subnet}: invalid CIDR address: "
                                  f"{subnet}") from None
            for other in self.state["networks"].values():
                if other.get("subnet") and net.overlaps(ipaddress.IPv4Network(other["subnet"])):
                    raise DockerError("Error response from daemon: invalid pool request: Pool overlaps with other "
                                      "one on this address space")
            gw = opts.get("gateway") or str(net.network_address + 1)
            if ipaddress.IPv4Address(gw) not in net:
                raise DockerError(f"Error response from daemon: no matching subnet for gateway {gw}")
            o = n["options"]
            br = opts.get("bridge_name") or o.get("com.docker.network.bridge.name") or f"br-{nid[:12]}"
            n.update(subnet=str(net), gateway=gw, ip_range=opts.get("ip_range", ""), bridge_name=br,
                     icc=_bool(o.get("com.docker.network.bridge.enable_icc", cfg.icc if n["default"] else True),
                               "icc"),
                     masq=_bool(o.get("com.docker.network.bridge.enable_ip_masquerade",
                                      cfg.ip_masq if n["default"] else True), "ip-masq"),
                     host_ip=o.get("com.docker.network.host_ipv4", ""),
                     gwmode=o.get("com.docker.network.bridge.gateway_mode_ipv4", "nat"),
                     mtu=int(o.get("com.docker.network.driver.mtu", cfg.mtu or 0)))
            if n["gwmode"] not in ("nat", "nat-unprotected", "routed"):
                raise DockerError(f"Error response from daemon: unknown gateway mode {n['gwmode']!r}")
            if n["gwmode"] != "nat" and self.config.classic:
                raise DockerError(f"netplex: com.docker.network.bridge.gateway_mode_ipv4={n['gwmode']} is not "
                                  "supported with the iptables of Docker < 28 (netplex-engine-version "
                                  f"{self.config.netplex_engine_version})")
            if any(x["bridge_name"] == br for x in self.state["networks"].values()):
                raise DockerError(f"Error response from daemon: bridge name {br} is already in use")
            self._setup_bridge(n)
        self.state["networks"][name] = n
        return n

    def _setup_bridge(self, n: dict[str, Any]) -> None:
        """createNetwork's setup queue, in its order."""
        cfg = self.config
        br = n["bridge_name"]
        st, _, _ = self.sh("ip", "link", "show", "dev", br)
        if st != 0:
            self.must("ip", "link", "add", br, "address", _bridge_mac(n["id"]), "type", "bridge")
            self._accept_ra(br)
        if n["default"]:
            self._accept_ra(br)
        if n["mtu"]:
            self.must("ip", "link", "set", "dev", br, "mtu", str(n["mtu"]))
        plen = ipaddress.IPv4Network(n["subnet"]).prefixlen
        self.must("ip", "addr", "add", f"{n['gateway']}/{plen}", "dev", br)
        if cfg.ip_forward:
            cur = self.host.read("/proc/sys/net/ipv4/ip_forward")
            if (cur or "0").strip() != "1":
                self.must("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
                if cfg.iptables:
                    self.iptabler().forward_drop()
        if not cfg.userland_proxy:
            self.must("sysctl", "-q", "-w", f"net.ipv4.conf.{br}.route_localnet=1")
        if cfg.iptables and (not n["icc"] or not cfg.userland_proxy):
            if self.host.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
                self.must("sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1")
        if cfg.iptables:
            self.iptabler().add_network(self._netcfg(n))
        self.must("ip", "link", "set", br, "up")

    def _accept_ra(self, br: str) -> None:
        if self.host.exists(f"/proc/sys/net/ipv6/conf/{br}/accept_ra"):
            self.must("sysctl", "-q", "-w", f"net.ipv6.conf.{br}.accept_ra=0")

    def remove_network(self, ref: str) -> str:
        n = self.network(ref)
        if n["driver"] in ("host", "null") or n["default"]:
            raise DockerError(f"Error response from daemon: {n['name']} is a pre-defined network and cannot be "
                              "removed")
        users = [c for c in self.state["containers"].values() if n["name"] in c["networks"]]
        if users:
            c = users[0]
            raise DockerError(f"Error response from daemon: error while removing network: network {n['name']} has "
                              f"active endpoints (name:\"{c['name']}\" id:\"{c['id'][:12]}\")")
        if self.config.iptables:
            self.iptabler().del_network(self._netcfg(n))
        self.sh("ip", "link", "del", n["bridge_name"])
        del self.state["networks"][n["name"]]
        self.save()
        return ref

    # -- containers -------------------------------------------------------------------------
    def container(self, ref: str) -> dict[str, Any]:
        cs = self.state["containers"]
        if ref in cs:
            return dict(cs[ref])
        hits = [c for c in cs.values() if ref and c["id"].startswith(ref)]
        if len(hits) == 1:
            return dict(hits[0])
        raise DockerError(f"Error response from daemon: No such container: {ref}")

    def _allocate(self, n: dict[str, Any], want: str) -> str:
        net = ipaddress.IPv4Network(n["subnet"])
        used = {c["networks"][n["name"]]["ip"] for c in self.state["containers"].values()
                if n["name"] in c["networks"] and c["networks"][n["name"]].get("ip")}
        used.add(n["gateway"])
        if want:
            if want in used:
                raise DockerError("Error response from daemon: Address already in use", 125)
            if ipaddress.IPv4Address(want) not in net:
                raise DockerError(f"Error response from daemon: Invalid address {want}: It does not belong to any "
                                  "of this network's subnets", 125)
            return want
        pool = ipaddress.IPv4Network(n["ip_range"]) if n["ip_range"] else net
        for a in pool.hosts():
            if str(a) not in used and a != net.broadcast_address:
                return str(a)
        raise DockerError("Error response from daemon: no available IPv4 addresses on this network's address "
                          "pools: " + n["name"], 125)

    def create_container(self, spec: dict[str, Any]) -> dict[str, Any]:
        name = spec["name"] or self._auto_name()
        if name in self.state["containers"]:
            other = self.state["containers"][name]
            raise DockerError(f'docker: Error response from daemon: Conflict. The container name "/{name}" is already '
                              f'in use by container "{other["id"]}". You have to remove (or rename) that container '
                              "to be able to reuse that name.", 125)
        netname = spec["network"] or "bridge"
        n = self.network(netname)
        if spec["ip"] and (n["driver"] != "bridge" or n["default"]):
            raise DockerError("docker: Error response from daemon: user specified IP address is supported on user "
                              "defined networks only", 125)
        if spec["ip"] and not n["user_subnet"]:
            raise DockerError("docker: Error response from daemon: user specified IP address is supported only when "
                              "connecting to networks with user configured subnets", 125)
        if spec["ports"] and n["driver"] == "null":
            spec = dict(spec, ports=[])
        if spec.get("cgroup_parent") and not self.host.exists(NET_CLS_MOUNT + "/net_cls.classid"):
            raise DockerError("netplex: docker run --cgroup-parent needs the cgroup v1 net_cls hierarchy at "
                              f"{NET_CLS_MOUNT}, which this host does not have", 125)
        for child, _alias in spec.get("links", []):
            if child not in self.state["containers"]:
                raise DockerError(f"docker: Error response from daemon: could not get container for {child}: No such "
                                  f"container: {child}", 125)
            if n["driver"] == "bridge" and not n["default"]:
                raise DockerError("netplex: docker run --link on a user-defined network is not supported (its "
                                  "embedded DNS answers container names)", 125)
        if spec.get("links") and not self.config.icc:
            raise DockerError("netplex: docker run --link with dockerd --icc=false is not supported", 125)
        cid = _hex_id(self.name, "container", name, self._seq())
        c = {"id": cid, "name": name, "image": spec["image"], "cmd": spec["cmd"], "created": self.host.now(),
             "status": "created", "exit_code": 0, "started": None, "finished": None, "pid": 0, "proxies": [],
             "netmode": n["name"], "networks": {}, "ports": spec["ports"], "ip": spec["ip"],
             "cap_add": spec.get("cap_add", []), "logs": "", "publish_all": spec.get("publish_all", False),
             "cgroup_parent": spec.get("cgroup_parent", ""), "links": spec.get("links", []),
             "dns": spec.get("dns", {}), "extra_hosts": spec.get("extra_hosts", [])}
        aliases = list(spec.get("aliases", []))
        if aliases and (n["driver"] != "bridge" or n["default"]):
            raise DockerError("docker: Error response from daemon: network-scoped alias is supported only for "
                              "containers in user defined networks", 125)
        if n["driver"] == "bridge":
            c["networks"][n["name"]] = {"ip": "", "mac": "", "veth": "", "ifname": "eth0", "want_ip": spec["ip"],
                                        "aliases": aliases}
        self.state["containers"][name] = c
        self.save()
        return c

    def _auto_name(self) -> str:
        left = ["admiring", "bold", "brave", "clever", "eager", "focused", "happy", "jolly", "keen", "nifty"]
        right = ["turing", "hopper", "lovelace", "ritchie", "thompson", "torvalds", "cerf", "kahn", "metcalfe"]
        i = self.state.get("seq", 0)
        return f"{left[i % len(left)]}_{right[(i // len(left)) % len(right)]}"

    def cgroup_of(self, c: dict[str, Any]) -> str:
        """The container's cgroup (cgroupfs driver): --cgroup-parent (default /docker) and its id;
        a relative parent is taken from the root, where dockerd's init runs."""
        parent = c.get("cgroup_parent") or "/docker"
        return "/" + posixpath.join(parent.strip("/"), c["id"]).lstrip("/")

    def netns_of(self, c: dict[str, Any]) -> str | None:
        """The namespace the container's processes run in (None: the host's own, --network host)."""
        return None if c["netmode"] == "host" else c["name"]

    def start_container(self, ref: str) -> dict[str, Any]:
        c = self.container(ref)
        if c["status"] == "running":
            return c
        for child, alias in c.get("links", []):
            other = self.state["containers"].get(child)
            if other is None or other["status"] != "running":
                raise DockerError(f"Error response from daemon: Cannot link to a non running container: /{child} AS "
                                  f"/{c['name']}/{alias}")
        self._extra_hosts(c)     # buildSandboxOptions: refused before anything is made
        ns = c["name"]
        if c["netmode"] != "host":
            self.must("ip", "netns", "add", ns)
            self.must("ip", "-n", ns, "link", "set", "lo", "up")
        for i, netname in enumerate(list(c["networks"])):
            self._connect(c, netname, i == 0)
        c["status"], c["started"], c["exit_code"] = "running", self.host.now(), 0
        image_cmd, services = IMAGES[c["image"]]
        exits = not c["cmd"] and image_cmd[0] in SHELLS   # a shell without a terminal reads EOF and exits
        if exits:
            pass
        elif not c["cmd"] or c["cmd"] == image_cmd:
            c["pid"] = self.host.spawn(image_cmd, self.netns_of(c), services)
        elif c["cmd"][0] in DETACHABLE:
            c["pid"] = self.host.spawn(c["cmd"], self.netns_of(c), [])
        if c["pid"]:    # runc (cgroupfs driver) makes <parent>/<id> and puts the container's init in it
            self.host.join_net_cls(self.cgroup_of(c), c["pid"], bool(c.get("cgroup_parent")))
        self.state["containers"][c["name"]] = c
        self._setup_dns(c)
        self._publish(c)
        self.save()
        if exits:
            return self.stop_container(c["name"], 0)
        return c

    def _extra_hosts(self, c: dict[str, Any]) -> list[tuple[str, str]]:
        """The container's --add-host records (ADDRESS, NAME), `host-gateway` as the daemon's host-gateway
        address: the default bridge's gateway (setHostGatewayIP)."""
        out = []
        for name, ip in c.get("extra_hosts", []):
            if ip == HOST_GATEWAY:
                bridge = self.state["networks"].get("bridge")
                if bridge is None or not bridge.get("gateway"):
                    raise DockerError("Error response from daemon: unable to derive the IP value for host-gateway",
                                      125)
                ip = bridge["gateway"]
            out.append((ip, name))
        return out

    def _setup_dns(self, c: dict[str, Any]) -> None:
        """The container's /etc/hosts and /etc/resolv.conf (under /etc/netns/NAME, which `ip netns exec`
        binds over /etc) and, on a user-defined network, its embedded DNS server with the NAT rules that
        lead 127.0.0.11:53 to it (Sandbox.setupDNS/rebuildDNS, Resolver.SetupFunc)."""
        if c["netmode"] == "host":
            return
        ns = c["name"]
        ip = next((ep["ip"] for ep in c["networks"].values() if ep.get("ip")), "")
        links = []
        for child, alias in c.get("links", []):    # buildSandboxOptions: alias, hostname, name unless the alias
            other = self.state["containers"][child]
            cip = other["networks"].get("bridge", {}).get("ip", "")
            if cip:
                links.append((cip, " ".join([alias, other["id"][:12]] + ([child] if alias != child else []))))
        # etchosts.Build: --add-host's records, then the links (AddHostsEntry appends them), then its own
        self.host.write(f"/etc/netns/{ns}/hosts", container_hosts(ip, c["id"][:12], self._extra_hosts(c) + links))
        host_rc = self.host.read("/etc/resolv.conf")
        overrides = overrides_of(c)
        if not uses_embedded_dns(self.state, c):
            self.host.write(f"/etc/netns/{ns}/resolv.conf", resolv_conf_legacy(host_rc, overrides=overrides))
            return
        if not c.get("dns_ports"):
            udp, tcp = self.host.start_resolver(c["name"], ns)
            c["dns_ports"] = [udp, tcp]
            for chain, hook in (("DOCKER_OUTPUT", "OUTPUT"), ("DOCKER_POSTROUTING", "POSTROUTING")):
                if self.host.run_in(ns, ["iptables", "-t", "nat", "-C", hook, "-d", DNS_IP, "-j", chain])[0] == 0:
                    self._must_in(ns, "iptables", "-t", "nat", "-F", chain)
                else:
                    self._must_in(ns, "iptables", "-t", "nat", "-N", chain)
                    self._must_in(ns, "iptables", "-t", "nat", "-I", hook, "-d", DNS_IP, "-j", chain)
            for rule in nat_rules(udp, tcp):
                self._must_in(ns, "iptables", *rule)
        self.host.write(f"/etc/netns/{ns}/resolv.conf", resolv_conf_internal(host_rc, overrides=overrides))

    def _must_in(self, netns: str, *argv: str) -> None:
        status, _, err = self.host.run_in(netns, list(argv))
        if status:
            raise DockerError(f"Error response from daemon: {' '.join(argv)}: {err.strip()}", 125)

    def _connect(self, c: dict[str, Any], netname: str, gateway: bool) -> None:
        n = self.network(netname)
        ep = c["networks"][netname]
        ip = ep.get("ip") or self._allocate(n, ep.get("want_ip", ""))
        plen = ipaddress.IPv4Network(n["subnet"]).prefixlen
        veth = "veth" + _hex_id(c["id"], n["id"])[:7]
        ifname = ep.get("ifname") or "eth0"
        ns = c["name"]
        mac = mac_from_ip(ip)
        self.must("ip", "link", "add", veth, "type", "veth", "peer", "name", ifname, "netns", ns)
        if n["mtu"]:
            self.must("ip", "link", "set", "dev", veth, "mtu", str(n["mtu"]))
            self.must("ip", "-n", ns, "link", "set", "dev", ifname, "mtu", str(n["mtu"]))
        self.must("ip", "link", "set", veth, "master", n["bridge_name"])
        self.must("ip", "link", "set", veth, "up")
        self.must("ip", "-n", ns, "link", "set", "dev", ifname, "address", mac)
        self.must("ip", "-n", ns, "addr", "add", f"{ip}/{plen}", "dev", ifname)
        self.must("ip", "-n", ns, "link", "set", "dev", ifname, "up")
        if gateway and not n["internal"]:
            self.must("ip", "-n", ns, "route", "add", "default", "via", n["gateway"])
        if self.config.iptables:
            self.iptabler().add_endpoint(self._netcfg(n), ip)
        ep.update(ip=ip, mac=mac, veth=veth, ifname=ifname, prefixlen=plen, gateway=n["gateway"],
                  network_id=n["id"], endpoint_id=_hex_id(c["id"], n["id"], "ep"))

    def _bindings(self, c: dict[str, Any]) -> list[tuple[dict[str, Any], PortBinding]]:
        """Each published port of the container's gateway network, as port bindings."""
        if not c["networks"] or not c["ports"]:
            return []
        netname = next(iter(c["networks"]))
        n = self.network(netname)
        ep = c["networks"][netname]
        out = []
        for p in c["ports"]:
            hp = 0 if n["gwmode"] == "routed" else p["host_port"]
            out.append((p, PortBinding(p["proto"], ep["ip"], p["cport"], p["host_ip"] or "0.0.0.0", hp)))
        return out

    def _publish(self, c: dict[str, Any]) -> None:
        netname = next(iter(c["networks"]), None)
        if netname is None:
            return
        n = self.network(netname)
        binds = self._bindings(c)
        if self.config.iptables:
            self.iptabler().add_ports(self._netcfg(n), [b for _, b in binds])
        if self.config.userland_proxy and not n["internal"]:
            for _, b in binds:
                if not b.host_port:
                    continue
                argv = ["/usr/bin/docker-proxy", "-proto", b.proto, "-host-ip", b.host_ip, "-host-port",
                        str(b.host_port), "-container-ip", b.cip, "-container-port", str(b.cport)]
                c["proxies"].append(self.host.spawn(argv, None, []))

    def _stopped(self, c: dict[str, Any], code: int) -> None:
        c["status"], c["exit_code"], c["finished"] = "exited", code, self.host.now()

    def stop_container(self, ref: str, code: int = 0) -> dict[str, Any]:
        c = self.container(ref)
        if c["status"] != "running":
            return c
        for pid in c["proxies"]:
            self.host.kill(pid)
        c["proxies"] = []
        if c["pid"]:
            self.host.kill(c["pid"])
            c["pid"] = 0
            self.host.leave_net_cls(self.cgroup_of(c))      # runc destroys the container's cgroup
        netname = next(iter(c["networks"]), None)
        if netname is not None and self.config.iptables:
            n = self.network(netname)
            self.iptabler().del_ports(self._netcfg(n), [b for _, b in self._bindings(c)])
        for netname in list(c["networks"]):
            self._disconnect(c, netname)
        if c.get("dns_ports"):
            self.host.stop_resolver(c["name"])
            c["dns_ports"] = []
        if c["netmode"] != "host":
            self.sh("ip", "netns", "del", c["name"])
        self._stopped(c, code)
        self.state["containers"][c["name"]] = c
        self.save()
        return c

    def _disconnect(self, c: dict[str, Any], netname: str) -> None:
        n = self.network(netname)
        ep = c["networks"][netname]
        if self.config.iptables and ep.get("ip"):
            self.iptabler().del_endpoint(self._netcfg(n), ep["ip"])
        if ep.get("veth"):
            self.sh("ip", "link", "del", ep["veth"])
        ep.update(ip="" if not ep.get("want_ip") else ep["want_ip"], veth="", mac="")
        if not ep.get("want_ip"):
            ep["ip"] = ""

    def remove_container(self, ref: str, force: bool) -> str:
        c = self.container(ref)
        if c["status"] == "running":
            if not force:
                raise DockerError(f"Error response from daemon: cannot remove container \"/{c['name']}\": container "
                                  "is running: stop the container before removing or force remove")
            self.stop_container(ref)
        del self.state["containers"][c["name"]]
        self.save()
        return ref

    def connect(self, netref: str, ref: str, ip: str, aliases: Sequence[str] = ()) -> None:
        n = self.network(netref)
        c = self.container(ref)
        if n["driver"] != "bridge":
            raise DockerError("Error response from daemon: container cannot be disconnected from host network or "
                              "connected to host network" if n["driver"] == "host" else
                              "Error response from daemon: container cannot be connected to network none")
        if c["netmode"] in ("host", "none"):
            raise DockerError("Error response from daemon: container sharing network namespace with another "
                              "container or host cannot be connected to any other network")
        if n["name"] in c["networks"]:
            raise DockerError(f"Error response from daemon: endpoint with name {c['name']} already exists in "
                              f"network {n['name']}")
        if aliases and n["default"]:
            raise DockerError("Error response from daemon: network-scoped alias is supported only for containers in "
                              "user defined networks")
        c["networks"][n["name"]] = {"ip": "", "mac": "", "veth": "", "ifname": f"eth{len(c['networks'])}",
                                    "want_ip": ip, "aliases": list(aliases)}
        if c["status"] == "running":
            self._connect(c, n["name"], gateway=False)
            self.state["containers"][c["name"]] = c
            self._setup_dns(c)
        self.state["containers"][c["name"]] = c
        self.save()

    def disconnect(self, netref: str, ref: str) -> None:
        n = self.network(netref)
        c = self.container(ref)
        if n["name"] not in c["networks"]:
            raise DockerError(f"Error response from daemon: container {c['id'][:12]} is not connected to network "
                              f"{n['name']}")
        if c["status"] == "running":
            self._disconnect(c, n["name"])
        del c["networks"][n["name"]]
        self.state["containers"][c["name"]] = c
        self.save()


def _bridge_mac(nid: str) -> str:
    """A bridge's MAC: dockerd picks a random one; netplex takes it from the network id (the same on both
    backends)."""
    b = bytes.fromhex(nid[:12])
    return ":".join(f"{x:02x}" for x in bytes([(b[0] & 0xFE) | 0x02, *b[1:]]))
