"""moby's `TestIptabler` goldens, replayed on a netplex host.

Each golden (tests/data/moby/TestIptabler/NAME__iptables.golden) is the
`iptables-save -t raw`, `-t filter`, `-t nat` of a fresh host after moby's test
made one network `br-dummy` (192.168.0.0/24), one endpoint 192.168.0.2 and one
binding of host port 8080 to 80/tcp, with the options its name spells
(`hairpin=,internal=,icc=,masq=,snat=,gwm=,bindlh=`), or after all of it was
removed again (`cleaned,hairpin=`). Two drivers replay a case:

- `replay_iptabler`: netplex's `Iptabler` called as moby's test calls its own
  (start, network, endpoint, ports; then the reverse for `cleaned`);
- `replay_docker`: the docker commands a user would type for the same options
  (`dockerd --bridge=none --userland-proxy=...`, `docker network create -o ...`,
  `docker run -d --ip 192.168.0.2 -p [127.0.0.1:]8080:80`), then `docker rm -f`
  and `docker network rm` for `cleaned`; the DOCKER-USER chain and its jump
  (written by the daemon, outside the iptabler) are left out of the comparison.

Both return the text to compare with the golden (comment lines dropped, as
moby's test drops them).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netplex.container.iptabler import FirewallConfig, Iptabler, NetworkConfig, PortBinding

__all__ = ["GoldenCase", "cases", "docker_commands", "iptables_dump", "replay_iptabler"]

# (shell line) -> (status, output)
Shell = Callable[[str], tuple[int, str]]


@dataclass(frozen=True)
class GoldenCase:
    name: str
    expected: str
    opts: dict[str, str]

    @property
    def cleaned(self) -> bool:
        return self.name.startswith("cleaned")

    def flag(self, key: str) -> bool:
        return self.opts.get(key) == "true"

    def network(self) -> NetworkConfig:
        return NetworkConfig("br-dummy", "192.168.0.0/24", internal=self.flag("internal"), icc=self.flag("icc"),
                             masquerade=self.flag("masq"), host_ip="192.168.123.0" if self.flag("snat") else "",
                             gwmode=self.opts.get("gwm", "nat"))

    def binding(self) -> PortBinding:
        host_ip = "127.0.0.1" if self.flag("bindlh") else "0.0.0.0"
        return PortBinding("tcp", "192.168.0.2", 80, host_ip, 8080)


def cases(directory: Path) -> list[GoldenCase]:
    out = []
    for path in sorted(directory.glob("*__iptables.golden")):
        name = path.name.removesuffix("__iptables.golden")
        if name == "no":
            continue            # IPv4 disabled: netplex always has IPv4
        opts = dict(kv.split("=", 1) for kv in name.split(",") if "=" in kv)
        out.append(GoldenCase(name, path.read_text(), opts))
    return out


def strip_comments(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not (line and line[0] == "#"))


def iptables_dump(shell: Shell, drop_user_chain: bool = False) -> str:
    parts = []
    for table in ("raw", "filter", "nat"):
        parts.append(shell(f"iptables-save -t {table}")[1])
    text = strip_comments("".join(parts))
    if drop_user_chain:
        text = "\n".join(line for line in text.split("\n")
                         if line not in (":DOCKER-USER - [0:0]", "-A FORWARD -j DOCKER-USER"))
    return text


def replay_iptabler(case: GoldenCase, shell: Shell) -> str:
    """moby's testIptabler, with netplex's Iptabler issuing the iptables commands."""
    ipt = Iptabler(lambda argv: shell(" ".join(_quote(a) for a in argv))[0],
                   FirewallConfig(hairpin=case.flag("hairpin")))
    ipt.setup_chains()
    n = case.network()
    ipt.add_network(n)
    ipt.add_endpoint(n, "192.168.0.2")
    ipt.add_ports(n, [case.binding()])
    if case.cleaned:
        ipt.del_ports(n, [case.binding()])
        ipt.del_endpoint(n, "192.168.0.2")
        ipt.del_network(n)
    return iptables_dump(shell)


def docker_commands(case: GoldenCase) -> list[str]:
    """The docker command lines that make the case's state (and undo it for `cleaned`)."""
    proxy = "false" if case.flag("hairpin") else "true"
    # forwarding already on, as on moby's test host: dockerd then leaves the FORWARD policy alone
    lines = ["sysctl -q -w net.ipv4.ip_forward=1", f"dockerd --bridge=none --userland-proxy={proxy}"]
    if case.cleaned:     # any network will do: all of it is removed again
        case = GoldenCase(case.name, case.expected, dict(case.opts, internal="false", icc="true", masq="true",
                                                          snat="false", gwm="nat", bindlh="false"))
    o = ["-o com.docker.network.bridge.name=br-dummy",
         f"-o com.docker.network.bridge.enable_icc={case.opts.get('icc', 'true')}",
         f"-o com.docker.network.bridge.enable_ip_masquerade={case.opts.get('masq', 'true')}"]
    if case.flag("snat"):
        o.append("-o com.docker.network.host_ipv4=192.168.123.0")
    if case.opts.get("gwm", "nat") != "nat":
        o.append(f"-o com.docker.network.bridge.gateway_mode_ipv4={case.opts['gwm']}")
    internal = " --internal" if case.flag("internal") else ""
    lines.append(f"docker network create --subnet 192.168.0.0/24{internal} {' '.join(o)} dummy")
    host = "127.0.0.1:" if case.flag("bindlh") else ""
    lines.append(f"docker run -d --name c1 --network dummy --ip 192.168.0.2 -p {host}8080:80 nginx")
    if case.cleaned:
        lines += ["docker rm -f c1", "docker network rm dummy"]
    return lines


def _quote(a: str) -> str:
    return a if a and all(c.isalnum() or c in "-_./:,=!" for c in a) else "'" + a.replace("'", "'\\''") + "'"
