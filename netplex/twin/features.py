"""What this machine's kernel supports, probed once and cached: `kernel_has(feature)`.

The kernel twin runs a scenario with the host's kernel, which may be built
without a module a scenario needs (sch_sfq, ip_gre, 8021q, ...). Each feature
is named after its kernel module (or config option) and tried for real, once
per process, in a scratch namespace of our own that is deleted after the
probe; `needed_by(text)` names the features a scenario's commands use, so a
differential test skips on the twin naming the missing piece while the
simulator still runs the case. Adding a feature is one row of `FEATURES`.

The programs the twin runs are the other half: `TOOLS` names each one with
the Debian package that installs it and the pattern that tells a scenario
uses it, so a test (the `tools` marker, the differential harness) or
`netplex diff` says "no `iptables` on this machine (apt-get install
iptables)" instead of failing on a missing binary. Adding a program is one
row of `TOOLS`.
"""
from __future__ import annotations

import functools
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass

__all__ = ["FEATURES", "TOOLS", "TWIN_TOOLS", "Feature", "Tool", "kernel_has", "kernel_lacks", "needed_by",
           "tool_missing", "tools_needed_by"]


@dataclass(frozen=True, slots=True)
class Feature:
    """A kernel feature: the shell lines that succeed only when the kernel has it
    (run with `bash -c` inside a fresh namespace whose `lo` is up), and the
    pattern that tells a scenario's text uses it (None: only asked for by name)."""

    probe: str
    used_by: re.Pattern[str] | None = None


def _uses(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


_VETH = "ip link add v0 type veth peer name v1 && "
_HTB = "tc qdisc add dev lo root handle 1: htb && "
_QDISC = r"tc qdisc (?:add|replace|change)\b[^\n]*\s{}(?:\s|$)"

FEATURES: dict[str, Feature] = {
    "sch_sfq": Feature("tc qdisc add dev lo root sfq", _uses(_QDISC.format("sfq"))),
    "sch_prio": Feature("tc qdisc add dev lo root prio", _uses(_QDISC.format("prio"))),
    "sch_netem": Feature("tc qdisc add dev lo root netem delay 1ms", _uses(_QDISC.format("netem"))),
    "sch_htb": Feature("tc qdisc add dev lo root htb", _uses(_QDISC.format("htb"))),
    "sch_tbf": Feature("tc qdisc add dev lo root tbf rate 1mbit burst 10k limit 10k", _uses(_QDISC.format("tbf"))),
    "cls_fw": Feature(_HTB + "tc filter add dev lo parent 1: protocol ip prio 1 handle 1 fw classid 1:1",
                      _uses(r"tc filter [^\n]*\sfw(?:\s|$)")),
    "cls_cgroup": Feature(_HTB + "tc filter add dev lo parent 1: protocol ip prio 1 handle 1: cgroup",
                          _uses(r"tc filter [^\n]*\scgroup(?:\s|$)")),
    "cls_matchall": Feature(_HTB + "tc filter add dev lo parent 1: matchall classid 1:1",
                            _uses(r"tc filter [^\n]*\smatchall(?:\s|$)")),
    # (a cloud's egress bandwidth limit is such a filter on the VM's tap: the scan reads the
    # agents' compiled lines, scenario.runner.commands_text)
    "act_police": Feature("tc qdisc add dev lo ingress && "
                          "tc filter add dev lo parent ffff: u32 match u32 0 0 police rate 1mbit burst 10k",
                          _uses(r"tc (?:filter|actions) [^\n]*\spolice(?:\s|$)")),
    # cls_basic with a police action: how ovs-vswitchd's netdev-linux polices a port's
    # ingress (ingress_policing_rate) on the twin's userspace OVS
    "cls_basic": Feature("tc qdisc add dev lo ingress && "
                         "tc filter add dev lo parent ffff: protocol all basic action police rate 1mbit burst 10k drop",
                         _uses(r"\bingress_policing_rate\b")),
    "act_gact": Feature("tc qdisc add dev lo ingress && "
                        "tc filter add dev lo parent ffff: u32 match u32 0 0 action drop",
                        _uses(r"tc (?:filter|actions) [^\n]*\saction\s+(?:drop|pass|ok|reclassify|continue)\b")),
    "ip_gre": Feature("ip link add g0 type gre remote 192.0.2.1 local 192.0.2.2",
                      _uses(r"\btype gre(?:tap)?\b|\bmode gre\b")),
    # (not `--provider-network-type vlan`: an OVS cloud tags in the switch, the linuxbridge one says `type vlan`)
    "8021q": Feature(_VETH + "ip link add link v0 name v0.5 type vlan id 5", _uses(r"(?<!-)\btype vlan\b")),
    "bridge vlan_filtering": Feature("ip link add b0 type bridge vlan_filtering 1",
                                     _uses(r"\bvlan_filtering 1\b")),
    "bonding": Feature("ip link add b0 type bond", _uses(r"\btype bond\b")),
    "dummy": Feature("ip link add d0 type dummy", _uses(r"\btype dummy\b")),
    "vxlan": Feature("ip link add vx0 type vxlan id 1 dstport 4789", _uses(r"\btype vxlan\b")),
    "macvlan": Feature(_VETH + "ip link add m0 link v0 type macvlan", _uses(r"\btype macvlan\b")),
    "xfrm_user": Feature("ip xfrm state list", _uses(r"\bip xfrm\b")),
    # esp4 and the crypto templates: an ESP SA the kernel can build (xfrm_user alone lists
    # and takes policies, but "Requested type not found" for any ESP algorithm without esp4);
    # swanctl/charon install ESP SAs too
    "esp4": Feature("ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 1 mode tunnel "
                    "enc 'cbc(aes)' 0x0102030405060708090a0b0c0d0e0f10 "
                    "auth-trunc 'hmac(sha256)' 0x0102030405060708090a0b0c0d0e0f10 128",
                    _uses(r"\bproto esp\b|\bswanctl\b|\bcharon\b")),
    # ah4: an AH SA the kernel can build (xfrm_user alone answers "Requested type not found")
    "ah4": Feature("ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto ah spi 1 mode tunnel "
                   "auth 'hmac(sha256)' 0x0102030405060708090a0b0c0d0e0f10",
                   _uses(r"\bproto ah\b")),
    # Open vSwitch on the twin: a node's switch is Debian's ovs-vswitchd with the userspace
    # (netdev) datapath (netplex/twin/bin/ovs-up), whose bridge ports are tap devices: the
    # kernel needs TUN/TAP, not its openvswitch module
    "openvswitch": Feature("test -c /dev/net/tun",
                           _uses(r"\bovs-(?:vsctl|ofctl|appctl|dpctl|testcontroller)\b")),
    "mpls_router": Feature("test -e /proc/sys/net/mpls/platform_labels", _uses(r"\bnet\.mpls\.|\bencap mpls\b")),
    # br_netfilter: bridged IPv4 through iptables, net.bridge.bridge-nf-call-* (1 in a new namespace)
    "br_netfilter": Feature("test -e /proc/sys/net/bridge/bridge-nf-call-iptables",
                            _uses(r"\bbridge-nf-call-|\bphysdev\b")),
    # CONFIG_IP_MROUTE: smcrouted needs the kernel's multicast VIFs
    "ipmr": Feature("test -e /proc/net/ip_mr_vif", _uses(r"\bsmcroute")),
    # iptables extensions (xt_* modules), probed with a real rule
    "xt_cgroup": Feature("iptables -A OUTPUT -m cgroup --cgroup 1", _uses(r"-m cgroup\b")),
    "xt_recent": Feature("iptables -A INPUT -m recent --set", _uses(r"-m recent\b")),
    "xt_set": Feature("ipset create p hash:ip && iptables -A INPUT -m set --match-set p src",
                      _uses(r"-m set\b|-j SET\b|\bipset\b")),
    "xt_hashlimit": Feature("iptables -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-name p",
                            _uses(r"-m hashlimit\b")),
    "xt_connlimit": Feature("iptables -A INPUT -m connlimit --connlimit-above 1", _uses(r"-m connlimit\b")),
    "xt_string": Feature("iptables -A INPUT -m string --algo bm --string p", _uses(r"-m string\b")),
    "xt_u32": Feature("iptables -A INPUT -m u32 --u32 0=0", _uses(r"-m u32\b")),
    "xt_time": Feature("iptables -A INPUT -m time --timestart 01:00", _uses(r"-m time\b")),
    # Linux 6.11: a per-namespace seed for the multipath hash (the fat-tree builder sets one per switch)
    "fib_multipath_hash_seed": Feature("test -e /proc/sys/net/ipv4/fib_multipath_hash_seed",
                                       _uses(r"\bfib_multipath_hash_seed\b")),
}


@dataclass(frozen=True, slots=True)
class Tool:
    """A program the twin (or a test) runs: the Debian package that installs it, and
    the pattern that tells a scenario's text uses it (None: only asked for by name)."""

    package: str
    used_by: re.Pattern[str] | None = None


# A command word: at a line's start, after a shell operator, or after `exec NS`.
_CMD = r"(?:^|[;&|(`]|\$\(|\bthen|\bdo|\belse|\bexec\s+\S+)\s*(?:sudo\s+)?"

TOOLS: dict[str, Tool] = {
    "ip": Tool("iproute2"),
    "tc": Tool("iproute2"),
    "bash": Tool("bash"),
    "bridge": Tool("iproute2", _uses(_CMD + r"bridge\s")),
    "ping": Tool("iputils-ping", _uses(r"\bping\b")),           # a ping probe or command
    "arping": Tool("iputils-arping", _uses(_CMD + r"arping\b")),
    "iptables": Tool("iptables", _uses(r"\bip6?tables(?:-save|-restore|-legacy|-nft)?\b")),
    "ipset": Tool("ipset", _uses(r"\bipset\b|-m set\b")),
    "conntrack": Tool("conntrack", _uses(_CMD + r"conntrack\b")),
    "brctl": Tool("bridge-utils", _uses(r"\bbrctl\b")),
    "ebtables": Tool("ebtables", _uses(_CMD + r"ebtables\b")),
    "smcroutectl": Tool("smcroute", _uses(r"\bsmcroute")),
    "smcrouted": Tool("smcroute", _uses(r"\bsmcrouted\b")),
    "tshark": Tool("tshark"),
    "netstat": Tool("net-tools", _uses(_CMD + r"netstat\b")),
    "route": Tool("net-tools", _uses(_CMD + r"route\b")),
    "arp": Tool("net-tools", _uses(_CMD + r"arp\b")),
    "ss": Tool("iproute2", _uses(_CMD + r"ss\b")),
    "tcpdump": Tool("tcpdump", _uses(_CMD + r"tcpdump\b")),
    "nc": Tool("netcat-openbsd", _uses(_CMD + r"nc\b")),
    "etcd": Tool("etcd-server", _uses(r"kind:\s*etcd\b")),           # an etcd node runs the real server
    "etcdctl": Tool("etcd-client", _uses(_CMD + r"etcdctl\b")),
    "swanctl": Tool("strongswan-swanctl"),     # the interop checks drive real charon with it
    "curl": Tool("curl", _uses(_CMD + r"curl\b")),
    "vtysh": Tool("frr", _uses(_CMD + r"vtysh\b")),
    "/usr/lib/frr/frrinit.sh": Tool("frr", _uses(r"/usr/lib/frr/frrinit\.sh\b")),
    "dnsmasq": Tool("dnsmasq-base", _uses(_CMD + r"dnsmasq\b")),
    "dhclient": Tool("isc-dhcp-client", _uses(_CMD + r"dhclient\b")),
    "iperf3": Tool("iperf3"),                  # the TCP sender's check against the real client
    # Open vSwitch's daemons and tools (netplex/twin/bin/ovs-* start them per node)
    "ovs-vswitchd": Tool("openvswitch-switch", _uses(r"\bovs-(?:vsctl|ofctl|appctl|dpctl)\b")),
    "ovs-testcontroller": Tool("openvswitch-testcontroller", _uses(_CMD + r"ovs-testcontroller\b")),
    # the twin turns TX offloads off on the veths of an OVS node (backend.py `_userspace_ovs_offloads`)
    "ethtool": Tool("ethtool", _uses(r"\bovs-(?:vsctl|ofctl|appctl|dpctl)\b")),
}

# What every twin run needs (twin.backend.check_available checks the same).
TWIN_TOOLS = ("ip", "tc", "bash")


def tool_missing(tools: list[str] | tuple[str, ...]) -> str | None:
    """The first of `tools` not on PATH, worded for a user ("no `ping` on this machine
    (apt-get install iputils-ping)"), or None when all are there."""
    for tool in tools:
        if shutil.which(tool) is None:
            package = TOOLS[tool].package if tool in TOOLS else tool
            return f"no `{tool}` on this machine (apt-get install {package})"
    return None


def tools_needed_by(text: str) -> list[str]:
    """The programs a scenario's (or script's) text makes the twin run, in TOOLS order."""
    return [name for name, t in TOOLS.items() if t.used_by is not None and t.used_by.search(text)]


@functools.cache
def kernel_has(feature: str) -> bool:
    """Whether this kernel has `feature` (a key of FEATURES): tried once, then remembered.

    Needs root (it makes a namespace) and `ip`; without them the answer is False.
    """
    probe = FEATURES[feature].probe
    ns = f"npxprobe-{secrets.token_hex(4)}"
    if shutil.which("ip") is None or shutil.which("bash") is None:
        return False
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True, check=False).returncode != 0:
        return False
    try:
        res = subprocess.run(["ip", "netns", "exec", ns, "bash", "-c", f"ip link set lo up && {probe}"],
                             capture_output=True, check=False)
        return res.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def needed_by(text: str) -> list[str]:
    """The features a scenario's (or script's) text uses, in FEATURES order."""
    return [name for name, f in FEATURES.items() if f.used_by is not None and f.used_by.search(text)]


def kernel_lacks(features: list[str] | tuple[str, ...]) -> str | None:
    """The first of `features` this kernel does not have, or None."""
    return next((f for f in features if not kernel_has(f)), None)
