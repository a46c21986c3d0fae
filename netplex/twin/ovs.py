"""The real Open vSwitch as the oracle for netplex's: a private ovsdb-server and
ovs-vswitchd (Debian's openvswitch-switch 3.1, userspace datapath) in network
namespaces made for one comparison, and the same command lines run on both.

`RealOvsLab(nodes, links)` makes one namespace per node (names under a run's unique
`npx-` prefix, recorded in a state file first as a twin run's are, so `netplex clean`
removes them and the daemons inside if the process dies), veth links between them, and starts the daemons for the
node `switch` with their database, sockets, pid files and logs in a private
folder (`OVS_RUNDIR`/`OVS_DBDIR`/`OVS_LOGDIR`/`OVS_SYSCONFDIR`, never the host's
/var/run/openvswitch), with TX checksum offload off on the veths if asked (`tx_offload=False`,
as the twin backend has it beside an OVS node; ct() needs it). There is no openvswitch kernel module here, so every
bridge gets `datapath_type=netdev` (`ovs-vsctl add-br` is given it); `close()`
kills the daemons and deletes the namespaces. `normalise` takes out what differs
by nature: UUIDs, durations and ages, datapath ids, the log folder, log lines,
`datapath_type: netdev`, and the order of `ovs-vsctl show`'s ports (OVS: hash order).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netplex.twin import cleanup, state

__all__ = ["RealOvsLab", "normalise", "real_ovs_missing"]

_PROGRAMS = ("ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl", "ovs-ofctl", "ovs-appctl")
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


def real_ovs_missing() -> str | None:
    """Why the real OVS cannot run here (a missing program, not root), or None."""
    for p in _PROGRAMS:
        if shutil.which(p) is None:
            return f"no `{p}` on this machine (apt-get install openvswitch-switch)"
    if not Path(SCHEMA).exists():
        return f"no {SCHEMA} (apt-get install openvswitch-common)"
    if os.geteuid() != 0:
        return "the real Open vSwitch needs root (network namespaces)"
    return None


class RealOvsLab:
    """Namespaces, veth links and one private Open vSwitch, for comparing command outputs."""

    def __init__(self, nodes: list[str], links: list[tuple[str, str, str | None]], switch: str = "s1",
                 tx_offload: bool = True) -> None:
        self._state = state.RunState(state.new_prefix())
        self._state.save()   # before anything exists
        self.prefix = f"{self._state.prefix}-"
        self.dir = Path(tempfile.mkdtemp(prefix="netplex-ovs-"))
        self.switch = switch
        self.nodes = nodes
        self.env = {**os.environ, "OVS_RUNDIR": str(self.dir), "OVS_DBDIR": str(self.dir),
                    "OVS_LOGDIR": str(self.dir), "OVS_SYSCONFDIR": str(self.dir), "OVS_PKGDATADIR": str(self.dir)}
        try:
            for n in nodes:
                self._state.add_namespaces([self.ns(n)])
                self._sh(["ip", "netns", "add", self.ns(n)])
                self._sh(["ip", "-n", self.ns(n), "link", "set", "lo", "up"])
                # netplex has no IPv6: its router solicitations and MLD reports would only add noise
                self._sh(["ip", "netns", "exec", self.ns(n), "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                          "net.ipv6.conf.default.disable_ipv6=1"])
            for end_a, end_b, mac in links:
                (na, da), (nb, db) = end_a.split(":"), end_b.split(":")
                cmd = ["ip", "-n", self.ns(na), "link", "add", da]
                cmd += ["type", "veth", "peer", "name", db, "netns", self.ns(nb)]
                self._sh(cmd)
                if mac:
                    self._sh(["ip", "-n", self.ns(nb), "link", "set", db, "address", mac])
                # `tx_offload=False`: TX checksum offload off on both ends. A veth hands its frames on
                # with the partial checksums offload leaves, which the userspace datapath's conntrack
                # (lib/conntrack.c, checksums checked) marks invalid; the twin backend does the same
                # beside an OVS node. (Left on by default: with it off, the real switch's select-group
                # case in tests/ovs/test_real_ovs.py loses its first UDP datagram.)
                if not tx_offload and shutil.which("ethtool") is not None:
                    for node, dev in ((na, da), (nb, db)):
                        self._sh(["ip", "netns", "exec", self.ns(node), "ethtool", "-K", dev, "tx", "off"])
            self._start()
        except Exception:
            self.close()
            raise

    def ns(self, node: str) -> str:
        return self.prefix + node

    def _sh(self, argv: list[str]) -> None:
        subprocess.run(argv, check=True, capture_output=True, env=self.env, timeout=30)

    def _start(self) -> None:
        d = self.dir
        self._sh(["ovsdb-tool", "create", str(d / "conf.db"), SCHEMA])
        exec_ns = ["ip", "netns", "exec", self.ns(self.switch)]
        self._sh(exec_ns + ["ovsdb-server", str(d / "conf.db"), f"--remote=punix:{d}/db.sock",
                            f"--pidfile={d}/ovsdb-server.pid", f"--unixctl={d}/ovsdb-server.ctl",
                            f"--log-file={d}/ovsdb-server.log", "--detach"])
        self._state.add_pid(int((d / "ovsdb-server.pid").read_text()))
        self._sh(["ovs-vsctl", f"--db=unix:{d}/db.sock", "--no-wait", "init", "--", "set", "Open_vSwitch", ".",
                  'ovs_version="3.1.0"'])
        self._sh(exec_ns + ["ovs-vswitchd", f"unix:{d}/db.sock", f"--pidfile={d}/ovs-vswitchd.pid",
                            f"--log-file={d}/ovs-vswitchd.log", "--detach"])
        self._state.add_pid(int((d / "ovs-vswitchd.pid").read_text()))

    def run(self, node: str, line: str) -> tuple[int, str, str]:
        """One command line in `node`'s namespace, as a user types it (add-br gets the netdev datapath)."""
        line = re.sub(r"(ovs-vsctl\b.*?\badd-br\s+)([\w.-]+)",
                      lambda m: f"{m.group(0)} -- set bridge {m.group(2)} datapath_type=netdev", line)
        p = subprocess.run(["ip", "netns", "exec", self.ns(node), "bash", "-c", line], capture_output=True,
                           text=True, env=self.env, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def differences(self, nodes: dict[str, Any], lines: list[tuple[str, str]],
                    norm: Callable[[str], str] | None = None) -> list[str]:
        """Each (node, line) run here and on netplex's node of that name (`nodes`): the lines
        whose status, output or error differ after `norm` (stdout) and `normalise`."""
        out = []
        logdir = str(self.dir)
        for node, line in lines:
            real = self.run(node, line)
            r = nodes[node].run(line)
            want = (real[0], norm(real[1]) if norm else normalise(real[1], logdir), normalise(real[2], logdir))
            got = (r.status, (norm or normalise)(r.output), normalise(r.error))
            if want != got:
                out.append(f"{node}$ {line}\n  real: {want!r}\n  sim:  {got!r}")
        return out

    def close(self) -> None:
        for pid in state.run_pids(self._state.as_dict()):   # the daemons, unless their pids were reused
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        cleanup.teardown([self.ns(n) for n in self.nodes])   # what is left inside dies with them
        self._state.remove()
        shutil.rmtree(self.dir, ignore_errors=True)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _sort_blocks(lines: list[str], head: str) -> list[str]:
    """Blocks starting with a line beginning `head` (and the deeper lines under it) in name order."""
    depth = len(head) - len(head.lstrip())
    out: list[str] = []
    blocks: list[list[str]] = []
    for line in lines:
        if line.startswith(head):
            blocks.append([line])
        elif blocks and len(line) - len(line.lstrip()) > depth:
            blocks[-1].append(line)
        else:
            out += [x for b in sorted(blocks) for x in b]
            blocks = []
            out.append(line)
    return out + [x for b in sorted(blocks) for x in b]


def _sort_show(text: str) -> str:
    """`ovs-vsctl show`: bridges, each bridge's ports and each port's interfaces in name order
    (OVS: hash order)."""
    bridges = _sort_blocks(text.splitlines(), "    Bridge ")
    out: list[str] = []
    i = 0
    while i < len(bridges):   # the ports of each bridge
        out.append(bridges[i])
        j = i + 1
        while j < len(bridges) and bridges[j].startswith("        "):
            j += 1
        # and each port's interfaces (a bond's), which OVS also lists in hash order
        out += _sort_blocks(_sort_blocks(bridges[i + 1:j], "            Interface "), "        Port ")
        i = j
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def normalise(text: str, logdir: str = "") -> str:
    """What differs between two correct Open vSwitches, taken out."""
    text = _UUID.sub("<uuid>", text)
    text = re.sub(r"duration=\d+\.\d+s", "duration=<t>", text)
    text = re.sub(r"(idle_age|hard_age)=\d+", r"\1=<t>", text)
    text = re.sub(r"dpid:[0-9a-f]{16}", "dpid:<dpid>", text)
    text = re.sub(r'datapath_id\s*: "[0-9a-f]+"', 'datapath_id         : "<dpid>"', text)
    text = re.sub(r"\S*/ovs-vswitchd\.\d+\.ctl", "/var/run/openvswitch/ovs-vswitchd.<pid>.ctl", text)
    if logdir:
        text = text.replace(logdir, "/var/log/openvswitch")
    lines = [line for line in text.splitlines() if not re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", line)
             and line.strip() not in ("datapath_type: netdev",)]
    lines = [re.sub(r"^datapath_type(\s+): netdev$", r"datapath_type\1: []", line) for line in lines]
    out = "\n".join(lines) + ("\n" if lines and text.endswith("\n") else "")
    return _sort_show(out) if "    Bridge " in out else out
