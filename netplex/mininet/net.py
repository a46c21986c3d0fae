"""mininet.net: the Mininet class — add nodes and links, build, start, test, stop.

The API and the printed output of Mininet 2.3's mininet/net.py: `addHost` gives
hosts 10.0.0.1, 10.0.0.2, ... in `ipBase`; `build()` turns the nodes and links
into netplex nodes and links through the backend seam (`Backend.build`), gives
each link's interfaces their parameters, configures the hosts; `start()` makes
each switch a bridge; `pingAll()`, `ping()`, `pingPair()` run `ping -c1` on the
hosts and print Mininet's matrix; `iperf()` is the backend's iperf probe (one
flow for `seconds` of simulated time) reported as Mininet's [server, client]
rates. Nodes and links must all exist before the network is built: a network
does not grow while it runs here (Mininet's `addHost` after `start()`, as in
mobility.py, is refused).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from netplex.engine.scheduler import NSEC_PER_SEC
from netplex.errors import NetplexError
from netplex.mininet.cli import CLI
from netplex.mininet.link import Intf, Link
from netplex.mininet.log import error, info, output
from netplex.mininet.node import Controller, DefaultController, Host, Node, OVSKernelSwitch, Switch
from netplex.mininet.session import MininetUnsupported, current, note
from netplex.mininet.util import fmtBps, ipAdd, macColonHex, netParse
from netplex.scenario.backend import Backend
from netplex.scenario.model import IperfFlow, check_ifname, check_node_name
from netplex.scenario.model import Link as ModelLink
from netplex.scenario.model import Node as ModelNode
from netplex.units import parse_rate

__all__ = ["Mininet", "MininetWithControlNet", "VERSION"]

VERSION = "2.3.1b4"


class Mininet:
    """A network of hosts, switches and controllers, built on netplex's backend."""

    def __init__(self, topo: Any = None, switch: Any = OVSKernelSwitch, host: Any = Host,
                 controller: Any = DefaultController, link: Any = Link, intf: Any = Intf, build: bool = True,
                 xterms: bool = False, cleanup: bool = False, ipBase: str = "10.0.0.0/8",
                 inNamespace: bool = False, autoSetMacs: bool = False, autoStaticArp: bool = False,
                 autoPinCpus: bool = False, listenPort: int | None = None, waitConnected: bool = False) -> None:
        self.topo = topo
        self.switch, self.host, self.controller, self.link, self.intf = switch, host, controller, link, intf
        self.ipBase = ipBase
        self.ipBaseNum, self.prefixLen = netParse(ipBase)
        hostIP = (0xFFFFFFFF >> self.prefixLen) & self.ipBaseNum
        self.nextIP = hostIP if hostIP > 0 else 1
        self.inNamespace = inNamespace
        self.xterms = xterms
        if xterms:
            raise MininetUnsupported("xterms", "xterms need X11 and a terminal per node; use `netplex shell`")
        if inNamespace:
            raise MininetUnsupported("inNamespace", "a control network in namespaces (inNamespace=True) is "
                                     "not supported")
        self.cleanup = cleanup
        self.autoSetMacs, self.autoStaticArp, self.autoPinCpus = autoSetMacs, autoStaticArp, autoPinCpus
        self.listenPort = listenPort
        self.waitConn = waitConnected
        self.hosts: list[Node] = []
        self.switches: list[Switch] = []
        self.controllers: list[Controller] = []
        self.links: list[Link] = []
        self.nameToNode: dict[str, Node] = {}
        self.terms: list[Any] = []
        self.built = False
        self.started = False
        self.backend: Backend | None = None
        if topo is not None and build:
            self.build()

    @classmethod
    def init(cls) -> None:
        raise MininetUnsupported("init", "the low-level API (nodes and links made without a Mininet object, as "
                                 "in scratchnet.py) is not supported: make them with a Mininet's addHost/addLink")

    # -- adding -------------------------------------------------------------------
    def _add(self, node: Node, where: list[Any]) -> Node:
        if self.backend is not None:
            raise MininetUnsupported("add", f"adding {node.name} to a network already built is not supported: "
                                     "netplex builds every node and link at once")
        try:
            check_node_name(node.name)
        except ValueError as e:
            raise MininetUnsupported("name", f"{e} (netplex node names)") from None
        if node.name in self.nameToNode:
            raise MininetUnsupported("name", f'a node named "{node.name}" already exists')
        node.join(self)
        where.append(node)
        self.nameToNode[node.name] = node
        return node

    def addHost(self, name: str, cls: Any = None, **params: Any) -> Node:
        defaults: dict[str, Any] = {"ip": ipAdd(self.nextIP, ipBaseNum=self.ipBaseNum, prefixLen=self.prefixLen)
                                    + f"/{self.prefixLen}"}
        if self.autoSetMacs:
            defaults["mac"] = macColonHex(self.nextIP)
        if self.autoPinCpus:
            note("autoPinCpus is not modelled (netplex has no CPU scheduler)")
        self.nextIP += 1
        defaults.update(params)
        return self._add((cls or self.host)(name, **defaults), self.hosts)

    def addSwitch(self, name: str, cls: Any = None, **params: Any) -> Switch:
        if self.listenPort is not None:
            params.setdefault("listenPort", self.listenPort)
        sw = (cls or self.switch)(name, **params)
        if not isinstance(sw, Switch):
            raise MininetUnsupported("addSwitch", f"{name}: {type(sw).__name__} is not a Switch class")
        self._add(sw, self.switches)
        return sw

    def addController(self, name: str = "c0", controller: Any = None, **params: Any) -> Controller:
        if isinstance(name, Controller):
            c = name
        else:
            cls = controller or self.controller
            if isinstance(cls, (list, tuple)):
                cls = cls[0] if cls else Controller
            c = cls(name, **params)
        if c.name in self.nameToNode:
            return c
        c.join(self)
        self.controllers.append(c)
        self.nameToNode[c.name] = c
        return c

    def addNAT(self, *args: Any, **kwargs: Any) -> Node:
        raise MininetUnsupported("addNAT", "addNAT connects the network to this machine's own interfaces; "
                                 "netplex's networks stay inside the simulator")

    def addLink(self, node1: Any, node2: Any, port1: int | None = None, port2: int | None = None,
                cls: Any = None, **params: Any) -> Link:
        n1 = node1 if isinstance(node1, Node) else self[node1]
        n2 = node2 if isinstance(node2, Node) else self[node2]
        if self.backend is not None:
            raise MininetUnsupported("addLink", "adding a link to a network already built is not supported")
        options = dict(params)
        if port1 is not None:
            options["port1"] = port1
        if port2 is not None:
            options["port2"] = port2
        for key in ("node1", "node2"):
            options.pop(key, None)
        options.setdefault("intf", self.intf)
        return (cls or self.link)(n1, n2, **options)

    def linked(self, link: Link) -> None:
        """A Link of this network's nodes was made (Link's constructor calls this)."""
        for intf in link.intfs():
            try:
                check_ifname(intf.name)
            except ValueError as e:
                raise MininetUnsupported("intfName", str(e)) from None
        self.links.append(link)

    def delNode(self, node: Node, nodes: Any = None) -> None:
        raise MininetUnsupported("delNode", "removing a node is not supported")

    def delLink(self, link: Link) -> None:
        raise MininetUnsupported("delLink", "removing a link is not supported")

    def delHost(self, host: Node) -> None:
        self.delNode(host)

    def delSwitch(self, switch: Node) -> None:
        self.delNode(switch)

    # -- lookup ------------------------------------------------------------------
    def getNodeByName(self, *args: str) -> Any:
        if len(args) == 1:
            return self[args[0]]
        return [self[n] for n in args]

    def get(self, *args: str) -> Any:
        return self.getNodeByName(*args)

    def __getitem__(self, key: str) -> Node:
        try:
            return self.nameToNode[key]
        except KeyError:
            raise KeyError(key) from None

    def __delitem__(self, key: str) -> None:
        self.delNode(self[key])

    def __contains__(self, item: object) -> bool:
        return item in self.nameToNode

    def __iter__(self) -> Iterator[str]:
        for node in self.hosts + self.switches + self.controllers:
            yield node.name

    def __len__(self) -> int:
        return len(self.hosts) + len(self.switches) + len(self.controllers)

    def keys(self) -> list[str]:
        return list(self)

    def values(self) -> list[Node]:
        return [self[n] for n in self]

    def items(self) -> list[tuple[str, Node]]:
        return list(zip(self.keys(), self.values()))

    def linksBetween(self, node1: Node, node2: Node) -> list[Link]:
        return [link for link in self.links
                if (link.intf1.node, link.intf2.node) in ((node1, node2), (node2, node1))]

    # -- building ------------------------------------------------------------------
    def buildFromTopo(self, topo: Any = None) -> None:
        info("*** Creating network\n")
        if not self.controllers and self.controller:
            classes = self.controller if isinstance(self.controller, (list, tuple)) else [self.controller]
            for i, cls in enumerate(classes):
                if isinstance(cls, Controller):
                    self.addController(cls)
                else:
                    self.addController(f"c{i}", cls)
            info("*** Adding controller\n")
        info("*** Adding hosts:\n")
        for name in topo.hosts():
            self.addHost(name, **topo.nodeInfo(name))
            info(name + " ")
        info("\n*** Adding switches:\n")
        for name in topo.switches():
            params = dict(topo.nodeInfo(name))
            cls = params.pop("cls", self.switch)
            self.addSwitch(name, cls=cls, **params)
            info(name + " ")
        info("\n*** Adding links:\n")
        for src, dst, params in topo.links(sort=True, withInfo=True):
            self.addLink(**params)
            info(f"({src}, {dst}) ")
        info("\n")

    def build(self) -> None:
        """The topology's nodes and links, then netplex's: nodes, links, interface parameters, hosts."""
        if self.topo is not None and not self.built:
            self.buildFromTopo(self.topo)
        self.built = True
        self._materialise()
        info("*** Configuring hosts\n")
        for host in self.hosts:
            info(host.name + " ")
            host.configDefault()
        info("\n")
        if self.autoStaticArp:
            self.staticArp()

    def _materialise(self) -> None:
        if self.backend is not None:
            return
        nodes = {n.name: ModelNode() for n in self.hosts + self.switches}
        links = []
        for link in self.links:
            for intf in link.intfs():
                if intf.node is None or intf.node.name not in nodes:
                    raise MininetUnsupported("addLink", f"{intf}: its node is not a host or switch of this network")
            spec = {"ends": [f"{link.intf1.node}:{link.intf1.name}", f"{link.intf2.node}:{link.intf2.name}"],
                    **link.shaping}
            try:
                links.append(ModelLink.model_validate(spec))
            except ValidationError as e:
                msg = str(e.errors()[0]["msg"]).removeprefix("Value error, ")
                raise MininetUnsupported("addLink", f"{link}: {msg}") from None
        be = current().backend()
        try:
            be.build(nodes, links)
        except NetplexError:
            current().release(be)
            raise
        self.backend = be
        for note_text in be.notes:
            note(note_text)
        for node in self.hosts + self.switches:
            node.run_early()
        for link in self.links:
            for intf in link.intfs():
                Intf.config(intf, mac=intf.params.get("mac"), ip=intf.params.get("ip"))   # shaping: the link's
                if intf.node is not None:
                    intf.node.cmd(f"ip link set dev {intf.name} up")

    def run_line(self, node: Node, line: str) -> str:
        """A node's `cmd()`: the line on the backend, standard output then standard error."""
        if self.backend is None:
            self.build()
        assert self.backend is not None
        r = self.backend.run(node.name, line)
        if r.aborted:
            note(f"{node.name}: {line}: {r.aborted}")
        return r.output + r.error

    def start(self) -> None:
        if not self.built or self.backend is None:
            self.build()
        info("*** Starting controller\n")
        for c in self.controllers:
            info(c.name + " ")
            c.start()
        info("\n")
        info(f"*** Starting {len(self.switches)} switches\n")
        for sw in self.switches:
            info(sw.name + " ")
            sw.start(self.controllers)
        info("\n")
        self.started = True
        if self.waitConn:
            self.waitConnected()

    def waitConnected(self, timeout: float | None = None, delay: float = 0.5) -> bool:
        info("*** Waiting for switches to connect\n")
        for sw in self.switches:
            info(f"{sw} ")
        info("\n")
        return True

    def stop(self) -> None:
        info(f"*** Stopping {len(self.controllers)} controllers\n")
        for c in self.controllers:
            info(c.name + " ")
        info("\n")
        info(f"*** Stopping {len(self.links)} links\n")
        info("." * len(self.links))
        info("\n")
        info(f"*** Stopping {len(self.switches)} switches\n")
        for sw in self.switches:
            info(sw.name + " ")
        info("\n")
        info(f"*** Stopping {len(self.hosts)} hosts\n")
        for h in self.hosts:
            info(h.name + " ")
        info("\n*** Done\n")
        if self.backend is not None:
            current().release(self.backend)
            self.backend = None

    def run(self, test: Any, *args: Any, **kwargs: Any) -> Any:
        self.start()
        info("*** Running test\n")
        result = test(*args, **kwargs)
        self.stop()
        return result

    def interact(self) -> None:
        self.start()
        CLI(self)
        self.stop()

    def staticArp(self) -> None:
        for src in self.hosts:
            for dst in self.hosts:
                if src is not dst and dst.IP() and dst.MAC():
                    src.setARP(ip=dst.IP(), mac=dst.MAC())

    def configLinkStatus(self, src: str, dst: str, status: str) -> None:
        if src not in self:
            error(f"src not in network: {src}\n")
        elif dst not in self:
            error(f"dst not in network: {dst}\n")
        else:
            connections = self[src].connectionsTo(self[dst])
            if not connections:
                error(f"src and dst not connected: {src} {dst}\n")
            for a, b in connections:
                for intf in (a, b):
                    intf.ifconfig(status)

    # -- tests -------------------------------------------------------------------
    @staticmethod
    def _parsePing(pingOutput: str) -> tuple[int, int]:
        if "connect: Network is unreachable" in pingOutput:
            return 1, 0
        m = _PING_RE.search(pingOutput)
        if m is None:
            error(f"*** Error: could not parse ping output: {pingOutput}\n")
            return 1, 0
        return int(m.group(1)), int(m.group(2))

    def ping(self, hosts: list[Node] | None = None, timeout: Any = None) -> float:
        """Ping between every pair of `hosts` (all hosts): the matrix and the loss in percent."""
        packets = lost = 0
        if not hosts:
            hosts = self.hosts
            output("*** Ping: testing ping reachability\n")
        for node in hosts:
            output(f"{node.name} -> ")
            for dest in hosts:
                if node is dest:
                    continue
                if dest.intfs:
                    opts = f"-W {timeout}" if timeout else ""
                    sent, received = self._parsePing(node.cmd(f"LANG=C ping -c1 {opts} {dest.IP()}"))
                else:
                    sent, received = 0, 0
                packets += sent
                lost += sent - received
                output((f"{dest.name} ") if received else "X ")
            output("\n")
        if packets > 0:
            ploss = 100.0 * lost / packets
            output(f"*** Results: {int(ploss)}% dropped ({packets - lost}/{packets} received)\n")
            return ploss
        output("*** Warning: No packets sent\n")
        return 0.0

    def pingFull(self, hosts: list[Node] | None = None, timeout: Any = None) -> list[tuple[Node, Node, tuple[Any, ...]]]:
        """Ping every pair; the matrix, then each pair's counts and rtt min/avg/max/mdev."""
        results = []
        if not hosts:
            hosts = self.hosts
            output("*** Ping: testing ping reachability\n")
        for node in hosts:
            output(f"{node.name} -> ")
            for dest in hosts:
                if node is dest:
                    continue
                opts = f"-W {timeout}" if timeout else ""
                out = self._parsePingFull(node.cmd(f"LANG=C ping -c1 {opts} {dest.IP()}"))
                results.append((node, dest, out))
                output(f"{dest.name} " if out[1] else "X ")
            output("\n")
        output("*** Results: \n")
        for src, dest, (sent, received, rmin, ravg, rmax, rdev) in results:
            output(f" {src}->{dest}: {sent}/{received}, ")
            output(f"rtt min/avg/max/mdev {rmin:0.3f}/{ravg:0.3f}/{rmax:0.3f}/{rdev:0.3f} ms\n")
        return results

    @staticmethod
    def _parsePingFull(pingOutput: str) -> tuple[int, int, float, float, float, float]:
        if re.search(r"[uU]nreachable", pingOutput):
            return (1, 0, 0, 0, 0, 0)
        m = _PING_RE.search(pingOutput)
        if m is None:
            error(f"*** Error: could not parse ping output: {pingOutput}\n")
            return (1, 0, 0, 0, 0, 0)
        sent, received = int(m.group(1)), int(m.group(2))
        r = re.search(r"rtt min/avg/max/mdev = (\d+\.\d+)/(\d+\.\d+)/(\d+\.\d+)/(\d+\.\d+) ms", pingOutput)
        if r is None:
            return (sent, received, 0, 0, 0, 0)
        return (sent, received, float(r.group(1)), float(r.group(2)), float(r.group(3)), float(r.group(4)))

    def pingAllFull(self) -> list[tuple[Node, Node, tuple[Any, ...]]]:
        return self.pingFull()

    def pingPairFull(self) -> list[tuple[Node, Node, tuple[Any, ...]]]:
        return self.pingFull(self.hosts[:2])

    def pingAll(self, timeout: Any = None) -> float:
        return self.ping(timeout=timeout)

    def pingPair(self) -> float:
        return self.ping(self.hosts[:2])

    def iperf(self, hosts: list[Node] | None = None, l4Type: str = "TCP", udpBw: str = "10M",
              fmt: str | None = None, seconds: int = 5, port: int = 5001) -> list[str]:
        """One iperf flow from the first host to the second for `seconds` (simulated on the simulator)."""
        hosts = hosts or [self.hosts[0], self.hosts[-1]]
        if len(hosts) != 2:
            raise MininetUnsupported("iperf", "iperf takes exactly two hosts")
        client, server = hosts
        output("*** Iperf: testing", l4Type, "bandwidth between", client, "and", server, "\n")
        if self.backend is None:
            self.build()
        assert self.backend is not None
        flow: dict[str, Any] = {"from": client.name, "to": server.IP(), "port": port,
                                "proto": "udp" if l4Type == "UDP" else "tcp"}
        if l4Type == "UDP":
            flow["rate"] = parse_rate(udpBw.replace("M", "mbit").replace("K", "kbit").replace("G", "gbit")
                                      if udpBw[-1:] in "MKG" else udpBw)
        outcome = self.backend.iperf(int(seconds * NSEC_PER_SEC), [IperfFlow.model_validate(flow)])
        f = (outcome.observed.get("flows") or [{}])[0]
        server_bps = float(f.get("goodput_bps", 0))
        if l4Type == "UDP" and f.get("sent"):
            size = server_bps / max(1, f.get("received", 0) or 1)
            client_bps = size * f["sent"]
        else:
            client_bps = server_bps
        result = [fmtBps(server_bps, fmt or ""), fmtBps(client_bps, fmt or "")]
        if l4Type == "UDP":
            result.insert(0, udpBw)
        output(f"*** Results: {result}\n")
        return result

    def iperfUdp(self, udpBw: str = "10M") -> list[str]:
        return self.iperf(l4Type="UDP", udpBw=udpBw)

    def runCpuLimitTest(self, cpu: float, duration: int = 5) -> list[float]:
        raise MininetUnsupported("runCpuLimitTest", "CPU limits are not modelled")


class MininetWithControlNet(Mininet):
    """Mininet with the control network in namespaces: refused by `inNamespace`."""


_PING_RE = re.compile(r"(\d+) packets transmitted, (\d+)( packets)? received")
