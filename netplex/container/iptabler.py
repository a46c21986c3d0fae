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

__all__ = ["ClassicIptabler", "FirewallConfig", "Iptabler", "NetworkConfig", "PortBinding", "Runner"]

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


def _masquerade(n: NetworkConfig) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """setupIPTablesInternal's natArgs and hpNatArgs: the network's way out (MASQUERADE, or SNAT to
    host_ipv4) and the host's own traffic into the bridge (with --userland-proxy=false)."""
    br = n.ifname
    to = ("SNAT", "--to-source", n.host_ip) if n.host_ip else ("MASQUERADE",)
    return (("-s", n.prefix, "!", "-o", br, "-j", *to),
            ("-m", "addrtype", "--src-type", "LOCAL", "-o", br, "-j", *to))


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
        nat, hp = _masquerade(n)
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
    def _port_nat(self, n: NetworkConfig, pb: PortBinding, enable: bool, hairpin_masq: bool) -> None:
        """setPerPortNAT: the DNAT in nat DOCKER (`! -i BRIDGE` with the userland proxy) and the hairpin
        MASQUERADE of the container's own traffic to its port."""
        host = "0/0" if pb.host_ip in ("", "0.0.0.0") else pb.host_ip
        dnat = ("-p", pb.proto, "-d", host, "--dport", str(pb.host_port), "-j", "DNAT",
                "--to-destination", f"{pb.cip}:{pb.cport}")
        if not self.config.hairpin:
            dnat += ("!", "-i", n.ifname)
        self._set(Rule("nat", DOCKER, dnat), enable)
        self._set(Rule("nat", "POSTROUTING", ("-p", pb.proto, "-s", pb.cip, "-d", pb.cip, "--dport",
                                              str(pb.cport), "-j", "MASQUERADE")), enable and hairpin_masq)

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
            self._port_nat(n, pb, enable, hairpin_masq=self.config.hairpin)
        if not n.unprotected:
            self._set(Rule("filter", DOCKER, ("!", "-i", n.ifname, "-o", n.ifname, "-p", pb.proto, "-d", pb.cip,
                                              "--dport", str(pb.cport), "-j", "ACCEPT")), enable, True)


class ClassicIptabler(Iptabler):
    """The rules of dockerd 20.10 to 27 (moby v27.5.1 libnetwork/drivers/bridge/setup_ip_tables_linux.go,
    port_mapping_linux.go, libnetwork/iptables/iptables.go ProgramChain, firewall_linux.go setupUserChain):

        filter FORWARD -j DOCKER-USER                      (DOCKER-USER -j RETURN)
        filter FORWARD -j DOCKER-ISOLATION-STAGE-1         (re-inserted at the top by each network)
        filter FORWARD, per bridge, newest network first:
            -o BR -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            -o BR -j DOCKER
            -i BR ! -o BR -j ACCEPT
            -i BR -o BR -j ACCEPT   (ICC; appended -j DROP without it)
        DOCKER-ISOLATION-STAGE-1 -i BR ! -o BR -j DOCKER-ISOLATION-STAGE-2, ... -j RETURN
        DOCKER-ISOLATION-STAGE-2 -o BR -j DROP, ... -j RETURN
        --internal: DOCKER-ISOLATION-STAGE-1 -i BR ! -d NET -j DROP / -o BR ! -s NET -j DROP
        filter DOCKER: per published port ! -i BR -o BR -p P -d CIP --dport CPORT -j ACCEPT
        nat DOCKER: -i BR -j RETURN (with the userland proxy), per port DNAT (! -i BR with the proxy)
        nat POSTROUTING: MASQUERADE per bridge, per port -s CIP -d CIP --dport CPORT -j MASQUERADE

    No raw table, no DOCKER-FORWARD/-BRIDGE/-CT/-INTERNAL (moby 28's). The gateway modes
    `nat-unprotected` and `routed` (Docker 27.0's) are refused by the engine."""

    def setup_chains(self) -> None:
        """driver.configure: removeIPChains, then setupIPChains (DOCKER in nat and filter, the isolation
        chains with their RETURN)."""
        self.delete(Rule("filter", "FORWARD", ("-j", OLD_ISOLATION)))
        for table, chain in (("nat", DOCKER), ("filter", DOCKER), ("filter", ISOLATION_1), ("filter", ISOLATION_2),
                             ("filter", OLD_ISOLATION)):
            if self.chain_exists(table, chain):
                self.run(["iptables", "-t", table, "-F", chain])
                self.run(["iptables", "-t", table, "-X", chain])
        for table, chain in (("nat", DOCKER), ("filter", DOCKER), ("filter", ISOLATION_1), ("filter", ISOLATION_2)):
            self.new_chain(table, chain)
        self.append(Rule("filter", ISOLATION_1, ("-j", "RETURN")))
        self.append(Rule("filter", ISOLATION_2, ("-j", "RETURN")))

    def setup_user_chain(self) -> None:
        """setupUserChain: DOCKER-USER with its RETURN, jumped to first from FORWARD (arrangeUserFilterRule
        runs it again after each network is made)."""
        self.new_chain("filter", DOCKER_USER)
        self.append(Rule("filter", DOCKER_USER, ("-j", "RETURN")))
        self.ensure_jump("filter", "FORWARD", DOCKER_USER)

    def _network(self, n: NetworkConfig, enable: bool) -> None:
        """setupIPTables, then setupNetworkIsolationRules (setINC), then arrangeUserFilterRule."""
        br = n.ifname
        if n.internal:
            self._set(Rule("filter", ISOLATION_1, ("-i", br, "!", "-d", n.prefix, "-j", "DROP")), enable, True)
            self._set(Rule("filter", ISOLATION_1, ("-o", br, "!", "-s", n.prefix, "-j", "DROP")), enable, True)
            self._classic_icc(br, n.icc, enable)
        else:
            nat, hp = _masquerade(n)
            if n.masquerade:
                self._set(Rule("nat", "POSTROUTING", nat), enable, True)
                if not self.config.hairpin:
                    self._set(Rule("nat", DOCKER, ("-i", br, "-j", "RETURN")), enable, True)
            self._set(Rule("nat", "POSTROUTING", hp), enable and self.config.hairpin, True)
            self._classic_icc(br, n.icc, enable)
            self._set(Rule("filter", "FORWARD", ("-i", br, "!", "-o", br, "-j", "ACCEPT")), enable, True)
            if enable:      # ProgramChain(natChain): the jumps, made once
                self.append(Rule("nat", "PREROUTING", ("-m", "addrtype", "--dst-type", "LOCAL", "-j", DOCKER)))
                out = ("-m", "addrtype", "--dst-type", "LOCAL", "-j", DOCKER)
                if not self.config.hairpin:
                    out += ("!", "--dst", "127.0.0.0/8")
                self.append(Rule("nat", "OUTPUT", out))
            self._set(Rule("filter", "FORWARD", ("-o", br, "-j", DOCKER)), enable, True)
            self._set(Rule("filter", "FORWARD", ("-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                                                 "-j", "ACCEPT")), enable, True)
        if enable:
            self.ensure_jump("filter", "FORWARD", ISOLATION_1)
        if not n.internal:     # isolateNetwork: setINC
            self._set(Rule("filter", ISOLATION_1, ("-i", br, "!", "-o", br, "-j", ISOLATION_2)), enable, True)
            self._set(Rule("filter", ISOLATION_2, ("-o", br, "-j", "DROP")), enable, True)
        if enable:
            self.setup_user_chain()

    def _classic_icc(self, br: str, icc: bool, enable: bool) -> None:
        """setIcc on FORWARD: ACCEPT inserted with ICC, DROP appended without it."""
        accept = Rule("filter", "FORWARD", ("-i", br, "-o", br, "-j", "ACCEPT"))
        drop = Rule("filter", "FORWARD", ("-i", br, "-o", br, "-j", "DROP"))
        if not enable:
            self.delete(drop if not icc else accept)
        elif icc:
            self.delete(drop)
            self.insert(accept)
        else:
            self.delete(accept)
            self.append(drop)

    def _endpoint(self, n: NetworkConfig, ip: str, enable: bool) -> None:
        """Docker 27 has no per-endpoint rule (the raw table's DROP came with 28)."""

    def _port(self, n: NetworkConfig, pb: PortBinding, enable: bool) -> None:
        """setPerPortIptables: setPerPortNAT (DNAT, hairpin MASQUERADE) and setPerPortForwarding, appended."""
        if n.internal:
            return
        if pb.host_port:
            self._port_nat(n, pb, enable, hairpin_masq=True)     # v27 writes the hairpin MASQUERADE always
        self._set(Rule("filter", DOCKER, ("!", "-i", n.ifname, "-o", n.ifname, "-p", pb.proto, "-d", pb.cip,
                                          "--dport", str(pb.cport), "-j", "ACCEPT")), enable)
