"""mininet.node: hosts, switches and controllers (Node, Host, CPULimitedHost, OVSSwitch, ...).

A Node is one of netplex's Linux nodes once its Mininet network is built; `cmd()`
runs a line in its shell through the backend and returns what it printed, as
Mininet returns its bash's output. A host's `config()` gives its default
interface its address and its default route (Mininet's Host.config), so a
subclass's `config()` that calls `super().config(**params)` and then `self.cmd()`
works as in Mininet.

OVSSwitch, OVSKernelSwitch and OVSBridge become a bridge of netplex's OVS
(netplex.ovs) in standalone mode, made with Mininet's own `ovs-vsctl` line
(datapath id, `ofport_request` = Mininet's port numbers); LinuxBridge,
UserSwitch, IVSSwitch and any switch with `stp=True` become a Linux bridge
named after the switch with its `sN-ethK` ports enslaved (STP on if asked):
what Mininet's default controller (a learning switch) and OVSBridge's
standalone mode make of every frame. A controller is listed (`nodes`, `dump`) but nothing connects to it; a
RemoteController is noted: the switches still forward as learning switches.
"""
from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from netplex.mininet.link import Intf
from netplex.mininet.log import output
from netplex.mininet.session import MininetUnsupported, note

if TYPE_CHECKING:
    from netplex.mininet.net import Mininet

__all__ = ["CPULimitedHost", "Controller", "DefaultController", "Host", "IVSSwitch", "LinuxBridge", "NOX",
           "Node", "NullController", "OVSBridge", "OVSController", "OVSKernelSwitch", "OVSSwitch",
           "RemoteController", "Ryu", "Switch", "UserSwitch"]

_PIDS = iter(range(4242, 1 << 30, 7))  # a node's "pid" as `dump` prints it (no process stands behind it)


class Node:
    """A host in its own network namespace (Mininet's Node)."""

    portBase = 0
    inNamespaceDefault = True

    def __init__(self, name: str, inNamespace: bool | None = None, **params: Any) -> None:
        self.name = name
        self.inNamespace = self.inNamespaceDefault if inNamespace is None else inNamespace
        self.params = params
        self.intfs: dict[int, Intf] = {}
        self.ports: dict[Intf, int] = {}
        self.nameToIntf: dict[str, Intf] = {}
        self.mn: Mininet | None = None
        self.pid = next(_PIDS)
        self.waiting = False
        self.lastCmd: str | None = None
        self._pending = ""
        self.early: list[str] = []
        if not self.inNamespace:
            Intf("lo", node=self, port=0)

    # -- membership -------------------------------------------------------------
    def join(self, net: Mininet) -> None:
        """Become a node of `net` (Mininet.addHost/addSwitch call this)."""
        self.mn = net

    def built(self) -> bool:
        return self.mn is not None and self.mn.backend is not None

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        intfs = ",".join(f"{i.name}:{i.IP()}" for i in self.intfList())
        return f"<{self.__class__.__name__} {self.name}: {intfs} pid={self.pid}> "

    # -- interfaces -------------------------------------------------------------
    def newPort(self) -> int:
        return max(self.ports.values()) + 1 if self.ports else self.portBase

    def addIntf(self, intf: Intf, port: int | None = None, moveIntfFn: Any = None) -> None:
        if port is None:
            port = self.newPort()
        self.intfs[port] = intf
        self.ports[intf] = port
        self.nameToIntf[intf.name] = intf

    def intfList(self) -> list[Intf]:
        return [self.intfs[p] for p in sorted(self.intfs)]

    def intfNames(self) -> list[str]:
        return [str(i) for i in self.intfList()]

    def defaultIntf(self) -> Intf | None:
        ports = [p for p in sorted(self.intfs) if self.intfs[p].name != "lo"]
        return self.intfs[ports[0]] if ports else None

    def intf(self, intf: Any = None) -> Intf | None:
        if intf is None:
            return self.defaultIntf()
        if isinstance(intf, str):
            return self.nameToIntf.get(intf)
        return intf

    def connectionsTo(self, node: Node) -> list[tuple[Intf, Intf]]:
        out = []
        for intf in self.intfList():
            link = intf.link
            if link is not None:
                other = link.intf2 if link.intf1 is intf else link.intf1
                if other.node is node:
                    out.append((intf, other))
        return out

    def IP(self, intf: Any = None) -> str | None:
        i = self.intf(intf)
        return i.IP() if i is not None else None

    def MAC(self, intf: Any = None) -> str | None:
        i = self.intf(intf)
        return i.MAC() if i is not None else None

    def setIP(self, ip: str, prefixLen: int = 8, intf: Any = None, **kwargs: Any) -> str:
        i = self.intf(intf)
        if i is None:
            raise MininetUnsupported("setIP", f"{self.name} has no interface to give {ip}")
        return i.setIP(ip if "/" in ip else f"{ip}/{prefixLen}")

    def setMAC(self, mac: str, intf: Any = None) -> str:
        i = self.intf(intf)
        if i is None:
            raise MininetUnsupported("setMAC", f"{self.name} has no interface to give {mac}")
        return i.setMAC(mac)

    def setARP(self, ip: str, mac: str) -> str:
        return self.cmd("arp", "-s", ip, mac)

    def setHostRoute(self, ip: str, intf: Any) -> str:
        return self.cmd("route add -host", ip, "dev", intf)

    def setDefaultRoute(self, intf: Any = None) -> str:
        if isinstance(intf, str) and " " in intf:
            params = intf
        else:
            params = "dev %s" % (intf if intf is not None else self.defaultIntf())
        return self.cmd("ip route del default; ip route add default", params)

    # -- configuration ----------------------------------------------------------
    def config(self, mac: str | None = None, ip: str | None = None, defaultRoute: str | None = None,
               lo: str = "up", **_params: Any) -> dict[str, Any]:
        """Mininet's Node.config: the default interface's MAC and address, the default route, lo."""
        if mac:
            self.setMAC(mac)
        if ip:
            self.setIP(ip)
        if defaultRoute:
            self.setDefaultRoute(defaultRoute)
        self.cmd("ip link set lo " + lo)
        for key in ("privateDirs", "cores"):
            if _params.get(key):
                note(f"{self.name}: {key}={_params[key]!r} is not modelled (each netplex node has its own files)"
                     if key == "privateDirs" else f"{self.name}: {key}={_params[key]!r} is not modelled")
        return {}

    def configDefault(self, **moreParams: Any) -> None:
        self.params.update(moreParams)
        self.config(**self.params)

    # -- running commands ---------------------------------------------------------
    def cmd(self, *args: Any, **kwargs: Any) -> str:
        """Run a shell line on this node; its output (stdout then stderr), as Mininet returns it."""
        line = " ".join(str(a) for a in args)
        if self.mn is None or self.mn.backend is None:
            # Mininet's node has its shell from its constructor; netplex's node exists once the
            # network is built: the line runs then, first thing (its output is not returned).
            note("commands a node runs before its network is built run when it is built (their output is "
                 "not returned)")
            self.early.append(line)
            return ""
        self.lastCmd = line
        return self.mn.run_line(self, line)

    def run_early(self) -> None:
        """The lines `cmd()` was given before the network was built (Mininet.build calls this)."""
        lines, self.early = self.early, []
        for line in lines:
            self.cmd(line)

    def cmdPrint(self, *args: Any) -> str:
        out = self.cmd(*args)
        output(out)
        return out

    def sendCmd(self, *args: Any, **kwargs: Any) -> None:
        """Run at once (simulated time) and keep the output for waitOutput()/monitor()."""
        self._pending += self.cmd(*args)
        self.waiting = True

    def waitOutput(self, verbose: bool = False, findPid: bool = True) -> str:
        out, self._pending, self.waiting = self._pending, "", False
        if verbose:
            output(out)
        return out

    def monitor(self, timeoutms: int | None = None, findPid: bool = True) -> str:
        return self.waitOutput()

    def sendInt(self, intr: str = "\x03") -> None:
        self.waiting = False

    @property
    def stdout(self) -> Any:
        raise MininetUnsupported("stdout", f"{self.name}.stdout: reading a node's shell as a file (poll, select) is "
                                 "not supported; use node.cmd() or sendCmd()/waitOutput()")

    def popen(self, *args: Any, **kwargs: Any) -> FinishedProcess:
        """Run the command on this node now, to its end (simulated time), and return it as a
        finished process whose output reads like a pipe's (Mininet's popen runs it alongside)."""
        argv = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        line = " ".join(str(a) for a in argv)
        if self.mn is None or self.mn.backend is None:
            raise MininetUnsupported("popen", f"{self.name}.popen before its network is built")
        r = self.mn.backend.run(self.name, line)
        return FinishedProcess(line, r.status, r.output, r.error, next(_PIDS))

    def pexec(self, *args: Any, **kwargs: Any) -> tuple[str, str, int]:
        p = self.popen(*args, **kwargs)
        out, err = p.communicate()
        return out.decode(), err.decode(), p.returncode

    def terminate(self) -> None:
        """The network's teardown ends every node."""

    def stop(self, deleteIntfs: bool = False) -> None:
        self.terminate()

    def deleteIntfs(self, checkName: bool = True) -> None:
        """The network's teardown removes the interfaces."""

    def setParam(self, results: dict[str, Any], method: str, **param: Any) -> Any:
        return None

    def linksTo(self, node: Node) -> list[Any]:
        return [i.link for i, _ in self.connectionsTo(node)]


class FinishedProcess:
    """What `Node.popen` returns: a process that already ran to its end (subprocess.Popen's reading side)."""

    def __init__(self, args: str, returncode: int, out: str, err: str, pid: int) -> None:
        self.args, self.returncode, self.pid = args, returncode, pid
        self.stdout = io.BytesIO(out.encode())
        self.stderr = io.BytesIO(err.encode())

    def poll(self) -> int:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        return self.returncode

    def communicate(self, input: Any = None, timeout: float | None = None) -> tuple[bytes, bytes]:
        return self.stdout.read(), self.stderr.read()

    def send_signal(self, sig: int) -> None:
        """It has ended already."""

    def terminate(self) -> None:
        """It has ended already."""

    kill = terminate


class Host(Node):
    """A host (Mininet's Host is a Node)."""


class CPULimitedHost(Host):
    """A host with a CPU share in Mininet; netplex notes the share and runs it unlimited."""

    def __init__(self, name: str, sched: str = "cfs", **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.sched = sched

    def setCPUFrac(self, f: float, sched: str | None = None) -> None:
        note(f"{self.name}: a CPU limit of {f:g} is not modelled (netplex has no CPU scheduler)")

    def setCPUs(self, cores: Any, mems: int = 0) -> None:
        note(f"{self.name}: pinning to cores {cores} is not modelled")

    def config(self, cpu: float = -1, cores: Any = None, **params: Any) -> dict[str, Any]:
        r = super().config(**params)
        if cpu is not None and cpu > 0:
            self.setCPUFrac(cpu)
        if cores is not None:
            self.setCPUs(cores)
        return r


def _dpid_of(name: str) -> str:
    digits = re.findall(r"\d+", name)
    if not digits:
        raise MininetUnsupported("dpid", f"Unable to derive default datapath ID - please either specify a dpid "
                                 f"or use a canonical switch name such as s23 ({name})")
    return f"{int(digits[0]):016x}"


class Switch(Node):
    """A switch in the root namespace (so it lists `lo`), its ports numbered from 1."""

    portBase = 1
    inNamespaceDefault = False
    dpidLen = 16

    def __init__(self, name: str, dpid: str | None = None, opts: str = "", listenPort: int | None = None,
                 **params: Any) -> None:
        params.pop("isSwitch", None)
        super().__init__(name, **params)
        self.dpid = dpid.zfill(self.dpidLen) if dpid else _dpid_of(name)
        self.opts = opts
        self.listenPort = listenPort
        self.stp = bool(params.get("stp", False))
        self.failMode = params.get("failMode", "secure")

    def defaultIntf(self) -> Intf | None:
        return self.intfs.get(0) if not self.inNamespace and 0 in self.intfs else super().defaultIntf()

    def start(self, controllers: list[Controller]) -> None:
        """The bridge named after the switch, every port enslaved and up."""
        lines = [f"ip link add name {self.name} type bridge" + (" stp_state 1" if self.stp else "")]
        for intf in self.intfList():
            if intf.name != "lo":
                lines.append(f"ip link set dev {intf.name} master {self.name}")
        lines.append(f"ip link set dev {self.name} up")
        for line in lines:
            out = self.cmd(line)
            if out.strip():
                raise MininetUnsupported("start", f"switch {self.name}: {line}: {out.strip()}")

    def stop(self, deleteIntfs: bool = True) -> None:
        """The network's teardown removes the bridge."""

    def connected(self) -> bool:
        return True

    def attach(self, intf: Any) -> None:
        raise MininetUnsupported("attach", f"{self.name}: moving interfaces between switches of a running network "
                                 "is not supported")

    detach = attach

    def dpctl(self, *args: Any) -> str:
        raise MininetUnsupported("dpctl", f"{self.name}: dpctl is not supported (the switch's "
                                 f"commands run with {self.name}.cmd())")


class OVSSwitch(Switch):
    """Open vSwitch in Mininet; netplex's OVS here, learning (the default controller's behaviour)."""

    def __init__(self, name: str, failMode: str = "secure", datapath: str = "kernel", inband: bool = False,
                 protocols: str | None = None, reconnectms: int = 1000, stp: bool = False, batch: bool = False,
                 **params: Any) -> None:
        super().__init__(name, failMode=failMode, stp=stp, **params)
        self.datapath = datapath

    def start(self, controllers: list[Controller]) -> None:
        """The bridge as Mininet's OVSSwitch.start makes it (one `ovs-vsctl` transaction: the
        datapath id, every port with `ofport_request` its Mininet port number), on netplex's
        OVS in standalone mode (no outside controller is reached: it learns as Mininet's default
        controller does). netplex's OVS has no STP: `stp=True` keeps the Linux bridge with STP."""
        if self.stp:
            super().start(controllers)
            return
        vsctl = (f"ovs-vsctl -- --may-exist add-br {self.name} -- set Bridge {self.name} "
                 f"other_config:datapath-id={self.dpid}")
        for intf in self.intfList():
            if intf.name != "lo":
                vsctl += (f" -- add-port {self.name} {intf.name} -- set Interface {intf.name} "
                          f"ofport_request={self.ports[intf]}")
        for line in (vsctl, *(f"ip link set dev {i.name} up" for i in self.intfList() if i.name != "lo"),
                     f"ip link set dev {self.name} up"):
            out = self.cmd(line)
            if out.strip():
                raise MininetUnsupported("start", f"switch {self.name}: {line}: {out.strip()}")

    @classmethod
    def setup(cls) -> None:
        """Mininet checks that OVS is installed; netplex needs nothing."""

    @classmethod
    def batchStartup(cls, switches: list[Switch], run: Any = None) -> list[Switch]:
        return switches


OVSKernelSwitch = OVSSwitch


class OVSBridge(OVSSwitch):
    """OVS in standalone mode: a learning bridge without a controller."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(failMode="standalone")
        super().__init__(*args, **kwargs)


class LinuxBridge(Switch):
    """A Linux bridge (`--switch lxbr`), `stp=True` for spanning tree."""

    def __init__(self, name: str, stp: bool = False, prio: int | None = None, **kwargs: Any) -> None:
        super().__init__(name, stp=stp, **kwargs)
        self.prio = prio


class UserSwitch(Switch):
    """The user-space reference switch in Mininet; a learning bridge here."""


class IVSSwitch(Switch):
    """Indigo Virtual Switch in Mininet; a learning bridge here."""


class Controller(Node):
    """An OpenFlow controller: listed as Mininet lists it; the switches do not need it."""

    inNamespaceDefault = False

    def __init__(self, name: str, inNamespace: bool = False, command: str = "controller",
                 cargs: str = "ptcp:%d", cdir: str | None = None, ip: str = "127.0.0.1", port: int = 6653,
                 protocol: str = "tcp", **params: Any) -> None:
        super().__init__(name, inNamespace=True, **params)
        self.inNamespace = inNamespace
        self.ip, self.port, self.protocol = ip, port, protocol
        self.command, self.cargs, self.cdir = command, cargs, cdir

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {self.name}: {self.ip}:{self.port} pid={self.pid}> "

    def start(self) -> None:
        """Nothing to start: the switches learn on their own."""

    def stop(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to stop."""

    def IP(self, intf: Any = None) -> str:
        return self.ip

    def checkListening(self) -> None:
        """Mininet checks the port is free; nothing listens here."""


class OVSController(Controller):
    """ovs-testcontroller in Mininet (a learning switch controller)."""


class NOX(Controller):
    """The NOX controller in Mininet."""

    def __init__(self, name: str, *noxArgs: Any, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)


class Ryu(Controller):
    """The Ryu controller in Mininet."""

    def __init__(self, name: str, *ryuArgs: Any, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        note(f"Ryu controller {name}: netplex runs no Ryu application; the switches forward as learning switches")


class RemoteController(Controller):
    """A controller outside Mininet: nothing in the simulator can reach it."""

    def __init__(self, name: str, ip: str = "127.0.0.1", port: int | None = None, **kwargs: Any) -> None:
        super().__init__(name, ip=ip, port=port or 6653, **kwargs)
        note(f"RemoteController {name} at {ip}:{port or 6653}: netplex does not connect switches to an outside "
             "controller; they forward as learning switches")


class NullController(Controller):
    """No controller (`--controller none`)."""


DefaultController = Controller
