"""The iptables rules dockerd 28 writes for bridge networks (moby's `iptabler`).

Moby 28's firewaller (daemon/libnetwork/drivers/bridge/internal/iptabler:
iptabler.go, network.go, endpoint.go, port.go) keeps its rules in five filter
chains and one nat chain:

    filter FORWARD -j DOCKER-USER          (the daemon's; users' own rules)
    filter FORWARD -j DOCKER-FORWARD
        DOCKER-FORWARD -j DOCKER-CT        RELATED,ESTABLISHED per bridge
        DOCKER-FORWARD -j DOCKER-INTERNAL  --internal networks' DROPs
        DOCKER-FORWARD -j DOCKER-BRIDGE    -o BRIDGE -j DOCKER per bridge
        DOCKER-FORWARD -i BRIDGE [...] -j ACCEPT|DROP  (outgoing, ICC)
    filter DOCKER: per published port ACCEPT (inserted), per bridge default DROP (appended)
    nat PREROUTING/OUTPUT -m addrtype --dst-type LOCAL -j DOCKER
    nat POSTROUTING: MASQUERADE (or SNAT) per bridge, hairpin MASQUERADE per port
    nat DOCKER: DNAT per published port
    raw PREROUTING: DROP of packets for a container that did not come from its bridge

Every change is made as moby's `iptables.Rule` makes it: `-C` first, then
`-A`/`-I`/`-D` only when needed (Append/Insert are no-ops when the rule exists,
Delete when it does not), so the order of `iptables-save` is moby's. The rules
are run through a `Runner` (an `iptables` argv in, its exit status out), so the
same code drives the simulator's iptables and the real one on the kernel twin.
IPv6 (ip6tables) is not modelled. Standard library only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["FirewallConfig", "Iptabler", "NetworkConfig", "PortBinding", "Runner"]

# (argv) -> exit status; argv starts with "iptables"
Runner = Callable[[list[str]], int]

DOCKER, DOCKER_FORWARD, DOCKER_BRIDGE, DOCKER_CT, DOCKER_INTERNAL = (
    "DOCKER", "DOCKER-FORWARD", "DOCKER-BRIDGE", "DOCKER-CT", "DOCKER-INTERNAL")
DOCKER_USER = "DOCKER-USER"
ISOLATION_1, ISOLATION_2, OLD_ISOLATION = "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-ISOLATION"


@dataclass(frozen=True)
class FirewallConfig:
    """firewaller.Config: `hairpin` is dockerd's --userland-proxy=false."""

    hairpin: bool = False
    allow_direct_routing: bool = False   # dockerd --allow-direct-routing: no raw-table DROP per endpoint


@dataclass(frozen=True)
class NetworkConfig:
    """firewaller.NetworkConfig for IPv4: the bridge, its prefix and options."""

    ifname: str
    prefix: str                      # "192.168.0.0/24"
    internal: bool = False
    icc: bool = True
    masquerade: bool = True
    host_ip: str = ""                # com.docker.network.host_ipv4: SNAT to it instead of MASQUERADE
    gwmode: str = "nat"              # nat | nat-unprotected | routed

    @property
    def routed(self) -> bool:
        return self.gwmode == "routed"

    @property
    def unprotected(self) -> bool:
        return self.gwmode == "nat-unprotected"


@dataclass(frozen=True)
class PortBinding:
    """types.PortBinding: host_port 0 means no NAT (a routed binding)."""

    proto: str
    cip: str
    cport: int
    host_ip: str = "0.0.0.0"
    host_port: int = 0


@dataclass(frozen=True)
class Rule:
    table: str
    chain: str
    args: tuple[str, ...]

    def argv(self, op: str, chain: str | None = None) -> list[str]:
        return ["iptables", "-t", self.table, op, chain or self.chain, *self.args]


@dataclass
class Iptabler:
    """The firewaller of dockerd's bridge driver, issuing iptables commands through `run`."""

    run: Runner
    config: FirewallConfig = field(default_factory=FirewallConfig)

    # -- moby's iptables.Rule operations --------------------------------------
    def exists(self, rule: Rule) -> bool:
        return self.run(rule.argv("-C")) == 0

    def append(self, rule: Rule) -> None:
        if not self.exists(rule):
            self.run(rule.argv("-A"))

    def insert(self, rule: Rule) -> None:
        if not self.exists(rule):
            self.run(rule.argv("-I"))

    def delete(self, rule: Rule) -> None:
        if self.exists(rule):
            self.run(rule.argv("-D"))

    def _set(self, rule: Rule, enable: bool, insert: bool = False) -> None:
        if not enable:
            self.delete(rule)
        elif insert:
            self.insert(rule)
        else:
            self.append(rule)

    def chain_exists(self, table: str, chain: str) -> bool:
        return self.run(["iptables", "-t", table, "-n", "-L", chain]) == 0

    def new_chain(self, table: str, chain: str) -> None:
        if not self.chain_exists(table, chain):
            self.run(["iptables", "-t", table, "-N", chain])

    def ensure_jump(self, table: str, src: str, dst: str) -> None:
        """EnsureJumpRule: delete the jump if present, insert it at the top."""
        rule = Rule(table, src, ("-j", dst))
        self.delete(rule)
        self.run(rule.argv("-I"))

    # -- daemon start (NewIptabler, setupUserChain) ------------------------------
    def setup_chains(self) -> None:
        """removeIPChains then setupIPChains, as NewIptabler does at start."""
        self.delete(Rule("filter", "FORWARD", ("-j", OLD_ISOLATION)))
        for table, chain in (("nat", DOCKER), ("filter", DOCKER_FORWARD), ("filter", DOCKER_BRIDGE),
                             ("filter", DOCKER), ("filter", DOCKER_CT), ("filter", DOCKER_INTERNAL),
                             ("filter", ISOLATION_1), ("filter", ISOLATION_2), ("filter", OLD_ISOLATION)):
            if self.chain_exists(table, chain):
                self.run(["iptables", "-t", table, "-F", chain])
                self.run(["iptables", "-t", table, "-X", chain])
        for table, chain in (("nat", DOCKER), ("filter", DOCKER), ("filter", DOCKER_FORWARD),
                             ("filter", DOCKER_BRIDGE), ("filter", DOCKER_CT), ("filter", DOCKER_INTERNAL)):
            self.new_chain(table, chain)
        self.append(Rule("nat", "PREROUTING", ("-m", "addrtype", "--dst-type", "LOCAL", "-j", DOCKER)))
        out = ("-m", "addrtype", "--dst-type", "LOCAL", "-j", DOCKER)
        if not self.config.hairpin:
            out += ("!", "--dst", "127.0.0.0/8")
        self.append(Rule("nat", "OUTPUT", out))
        self.ensure_jump("filter", "FORWARD", DOCKER_FORWARD)
        self.ensure_jump("filter", DOCKER_FORWARD, DOCKER_BRIDGE)
        self.ensure_jump("filter", DOCKER_FORWARD, DOCKER_INTERNAL)
        self.ensure_jump("filter", DOCKER_FORWARD, DOCKER_CT)
        self.delete(Rule("filter", "FORWARD", ("-j", ISOLATION_1)))

    def setup_user_chain(self) -> None:
        """libnetwork's setupUserChain: DOCKER-USER, jumped to first from FORWARD."""
        self.new_chain("filter", DOCKER_USER)
        self.ensure_jump("filter", "FORWARD", DOCKER_USER)

    def forward_drop(self) -> None:
        """FilterForwardDrop: the FORWARD policy DROP, when dockerd turned forwarding on."""
        self.run(["iptables", "-t", "filter", "-P", "FORWARD", "DROP"])

    # -- networks (network.go) ------------------------------------------------------
    def add_network(self, n: NetworkConfig) -> None:
        self._network(n, True)

    def del_network(self, n: NetworkConfig) -> None:
        self._network(n, False)

    def _network(self, n: NetworkConfig, enable: bool) -> None:
        br = n.ifname
        if n.internal:
            self._set(Rule("filter", DOCKER_INTERNAL, ("-i", br, "!", "-d", n.prefix, "-j", "DROP")), enable, True)
            self._set(Rule("filter", DOCKER_INTERNAL, ("-o", br, "!", "-s", n.prefix, "-j", "DROP")), enable, True)
            self._icc(n, internal=True, enable=enable)
            return
        self._non_internal(n, enable)
        self._set(Rule("filter", DOCKER, ("!", "-i", br, "-o", br, "-j",
                                          "ACCEPT" if n.unprotected else "DROP")), enable)
        self._set(Rule("filter", DOCKER_CT, ("-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                                             "-j", "ACCEPT")), enable)
        self._set(Rule("filter", DOCKER_BRIDGE, ("-o", br, "-j", DOCKER)), enable)

    def _non_internal(self, n: NetworkConfig, enable: bool) -> None:
        br = n.ifname
        if n.host_ip:
            nat = ("-s", n.prefix, "!", "-o", br, "-j", "SNAT", "--to-source", n.host_ip)
            hp = ("-m", "addrtype", "--src-type", "LOCAL", "-o", br, "-j", "SNAT", "--to-source", n.host_ip)
        else:
            nat = ("-s", n.prefix, "!", "-o", br, "-j", "MASQUERADE")
            hp = ("-m", "addrtype", "--src-type", "LOCAL", "-o", br, "-j", "MASQUERADE")
        if n.masquerade and not n.routed:
            self._set(Rule("nat", "POSTROUTING", nat), enable, True)
        self._set(Rule("nat", "POSTROUTING", hp), enable and self.config.hairpin, True)
        self._icc(n, internal=False, enable=enable)
        if n.routed:
            self._set(Rule("filter", DOCKER, ("-o", br, "-p", "icmp", "-j", "ACCEPT")), enable)
        out_no_icc = Rule("filter", DOCKER_FORWARD, ("-i", br, "!", "-o", br, "-j", "ACCEPT"))
        if enable:
            self.delete(Rule("filter", "FORWARD", out_no_icc.args))
        if n.icc:
            out_icc = Rule("filter", DOCKER_FORWARD, ("-i", br, "-j", "ACCEPT"))
            self._set(out_icc, enable)
            if enable:
                self.delete(Rule("filter", "FORWARD", out_icc.args))
        else:
            self._set(out_no_icc, enable)

    def _icc(self, n: NetworkConfig, internal: bool, enable: bool) -> None:
        """setIcc: ACCEPT between the bridge's ports for an internal ICC network, DROP without ICC."""
        args = ("-i", n.ifname, "-o", n.ifname, "-j")
        accept = Rule("filter", DOCKER_FORWARD, (*args, "ACCEPT"))
        drop = Rule("filter", DOCKER_FORWARD, (*args, "DROP"))
        self._set(accept, enable and n.icc and internal)
        self._set(drop, enable and not n.icc)
        if enable:
            self.delete(Rule("filter", "FORWARD", accept.args))
            self.delete(Rule("filter", "FORWARD", drop.args))

    # -- endpoints (endpoint.go) ------------------------------------------------------
    def add_endpoint(self, n: NetworkConfig, ip: str) -> None:
        self._endpoint(n, ip, True)

    def del_endpoint(self, n: NetworkConfig, ip: str) -> None:
        self._endpoint(n, ip, False)

    def _endpoint(self, n: NetworkConfig, ip: str, enable: bool) -> None:
        """filterDirectAccess: the raw table drops packets for the container from anywhere but its bridge."""
        if n.internal or n.unprotected or n.routed:
            return
        self._set(Rule("raw", "PREROUTING", ("-d", ip, "!", "-i", n.ifname, "-j", "DROP")),
                  enable and not self.config.allow_direct_routing)

    # -- published ports (port.go) ---------------------------------------------------
    def add_ports(self, n: NetworkConfig, pbs: list[PortBinding]) -> None:
        for pb in pbs:
            self._port(n, pb, True)

    def del_ports(self, n: NetworkConfig, pbs: list[PortBinding]) -> None:
        for pb in pbs:
            self._port(n, pb, False)

    def _port(self, n: NetworkConfig, pb: PortBinding, enable: bool) -> None:
        if n.internal:
            return
        if pb.host_port and pb.host_ip.startswith("127."):
            self._set(Rule("raw", "PREROUTING", ("-p", pb.proto, "-d", pb.host_ip, "--dport", str(pb.host_port),
                                                 "!", "-i", "lo", "-j", "DROP")), enable)
        if not n.unprotected and not n.routed:
            self.delete(Rule("raw", "PREROUTING", ("-p", pb.proto, "-d", pb.cip, "--dport", str(pb.cport),
                                                   "!", "-i", n.ifname, "-j", "DROP")))
        if pb.host_port:
            host = "0/0" if pb.host_ip in ("", "0.0.0.0") else pb.host_ip
            dnat = ("-p", pb.proto, "-d", host, "--dport", str(pb.host_port), "-j", "DNAT",
                    "--to-destination", f"{pb.cip}:{pb.cport}")
            if not self.config.hairpin:
                dnat += ("!", "-i", n.ifname)
            self._set(Rule("nat", DOCKER, dnat), enable)
            self._set(Rule("nat", "POSTROUTING", ("-p", pb.proto, "-s", pb.cip, "-d", pb.cip, "--dport",
                                                  str(pb.cport), "-j", "MASQUERADE")),
                      enable and self.config.hairpin)
        if not n.unprotected:
            self._set(Rule("filter", DOCKER, ("!", "-i", n.ifname, "-o", n.ifname, "-p", pb.proto, "-d", pb.cip,
                                              "--dport", str(pb.cport), "-j", "ACCEPT")), enable, True)
