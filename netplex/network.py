"""The public API: a `Network` of simulated Linux nodes, like Mininet without root.

    net = Network()
    h1, h2 = net.add_node("h1"), net.add_node("h2")
    net.add_link("h1:eth0", "h2:eth0")
    h1.cmd("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up")
    print(h1.cmd("ping -c 2 10.0.0.2"))

A `Network` is the facade over a `World` (the scheduler, the seeded RNG, the
tracer and the packet capture); each `Node` is a machine (`netplex.machine`:
its root namespace, the namespaces made on it, files, processes) with a shell.
Commands run synchronously: `ping` and `sleep` advance simulated time, never
wall time.

Node kinds, as Mininet injects `host=`/`switch=` classes: a kind is a `Node`
subclass registered in `NODE_KINDS` (`@node_kind("docker-host")`), chosen per
node with `net.add_node(name, kind=...)` or a scenario's `kind:` key. A later
package (`netplex/container/`, `netplex/sdn/`) registers its kinds on import
without touching this module; `linux` (a plain Linux host) is the default.
A kind with keys of its own in a scenario file (`imsi:` on a `ue`) declares
them as a `NodeParams` model (`params_model`); the loader validates them with
the node's other keys and the node receives them in `configure`. `start`
runs once every node's setup lines have run (the kind's daemons start there);
`procedure` is a kind's own probe (a UE's `attach`).
"""
from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from netplex.engine.link import Link
from netplex.engine.scheduler import Scheduler
from netplex.engine.trace import Tracer
from netplex.engine.world import Capture, World
from netplex.errors import NetplexError
from netplex.machine import Machine
from netplex.stack.device import Tap
from netplex.stack.netns import Namespace

__all__ = ["DEFAULT_NODE_KIND", "NODE_KINDS", "REFUSED_NODE_KINDS", "Network", "Node", "NodeParams", "UnknownNodeKind", "node_kind"]


class UnknownNodeKind(NetplexError):
    """`add_node(kind=...)` names no registered kind."""

    def __init__(self, kind: str) -> None:
        known = ", ".join(sorted(NODE_KINDS))
        refused = REFUSED_NODE_KINDS.get(kind)
        super().__init__(f'node kind "{kind}" is not supported: {refused}' if refused is not None
                         else f'unknown node kind "{kind}" (known: {known})')
        self.kind = kind


class NodeParams(BaseModel):
    """A node kind's own scenario keys (subclassed per kind; unknown keys are errors).

    `reference_issues` checks what a key names elsewhere in the file: `kinds` maps every
    node's name to its kind; each issue is (the key's path inside the node, the message).
    """

    model_config = ConfigDict(extra="forbid")

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[tuple[str | int, ...], str]]:
        return []


class Node:
    """A Linux host (kind `linux`): one simulated machine (its root namespace,
    named namespaces, files, processes) and its shell.

    A subclass is another kind of node; it may override `make_machine` (what
    the node is made of) and add its own behaviour, and registers itself with
    `@node_kind("name")`.
    """

    kind = "linux"
    # What the machine's init starts: shell lines a backend runs after the node's files are
    # written and before its setup lines (a docker-host's `dockerd`).
    boot: tuple[str, ...] = ()
    # The kernel twin builds this kind as a Linux host (a kind that is not one sets False).
    linux_host = True
    params_model: ClassVar[type[NodeParams]] = NodeParams   # the kind's own keys: none for a Linux host

    def __init__(self, net: Network, name: str) -> None:
        self.net = net
        self.name = name
        self.machine = self.make_machine(net.world, name)
        self.ns = self.machine.root
        self._shell: Any = None

    def make_machine(self, world: World, name: str) -> Machine:
        """The machine this node is: a Linux host whose `veth ... netns NAME` also finds
        the other nodes' root namespaces (after its own named ones)."""
        return Machine(world, name, resolve_netns=self.net.node_netns)

    def __repr__(self) -> str:
        return f"<Node {self.name}>"

    def configure(self, params: NodeParams) -> None:
        """The kind's own keys from the scenario file, validated by `params_model`."""

    def start(self) -> None:
        """Every node's setup lines have run: start what the kind runs (its daemons)."""

    def procedure(self, name: str) -> tuple[bool, dict[str, Any]]:
        """Run the kind's procedure `name` as a probe: (ok, observed)."""
        raise NetplexError(f'node "{self.name}" (kind {self.kind}) has no procedure "{name}"')

    # -- the same kind on the kernel twin (the twin builds the node as a Linux host) --------
    @classmethod
    def twin_start(cls, name: str, nodes: Mapping[str, Any], links: Sequence[Any],
                   addresses: Mapping[str, Sequence[str]]) -> list[str]:
        """Shell lines the twin runs on node `name` once every node's setup has run (what `start`
        does in the simulator). `nodes`/`links` are the scenario's models; `addresses` each
        node's global IPv4 addresses as the twin found them. None for a Linux host."""
        return []

    @classmethod
    def twin_procedure(cls, name: str) -> str | None:
        """The shell line that runs procedure `name` on the twin and prints {"ok": ..., ...} as JSON."""
        return None

    @property
    def shell(self) -> Any:
        if self._shell is None:
            from netplex.shell.host import make_shell

            self._shell = make_shell(self)
        return self._shell

    def run(self, line: str) -> Any:
        """Run one shell line; returns a Result with `status`, `output`, `error`."""
        from netplex.engine.scheduler import EventStorm

        try:
            return self.shell.run(line)
        except EventStorm as e:
            from netplex.shell.result import Result

            return Result(2, "", e.message + "\n")

    def cmd(self, line: str) -> str:
        """Run one shell line; returns its output and error text, as a terminal shows them."""
        r = self.run(line)
        return r.output + r.error


NodeClass = type[Node]

DEFAULT_NODE_KIND = "linux"

# The one visible table of node kinds: kind name -> Node subclass.
NODE_KINDS: dict[str, NodeClass] = {DEFAULT_NODE_KIND: Node}
# Kinds a system names but does not model: kind name -> why (what the refusal says).
REFUSED_NODE_KINDS: dict[str, str] = {}


def node_kind(name: str) -> Callable[[NodeClass], NodeClass]:
    """Register the decorated `Node` subclass as kind `name` (one class, one line)."""

    def register(cls: NodeClass) -> NodeClass:
        cls.kind = name
        NODE_KINDS[name] = cls
        return cls

    return register


class Network:
    """Simulated nodes and links sharing one `World` (clock, RNG, tracer, capture)."""

    def __init__(self, seed: int = 0) -> None:
        self.world = World(seed)
        self.nodes: dict[str, Node] = {}
        self._pcap_writers: dict[tuple[str, str], Any] = {}

    # the world's parts, as the facade shows them
    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def sched(self) -> Scheduler:
        return self.world.sched

    @property
    def rng(self) -> random.Random:
        return self.world.rng

    @property
    def tracer(self) -> Tracer:
        return self.world.tracer

    @property
    def links(self) -> list[tuple[Any, Any, Link]]:
        return self.world.links

    @property
    def capture(self) -> Capture | None:
        return self.world.capture

    @capture.setter
    def capture(self, fn: Capture | None) -> None:
        self.world.capture = fn

    @property
    def config_generation(self) -> int:
        return self.world.config_generation

    # -- building ------------------------------------------------------------
    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    def __contains__(self, name: str) -> bool:
        return name in self.nodes

    def add_node(self, name: str, kind: str = DEFAULT_NODE_KIND, params: NodeParams | None = None) -> Node:
        """A new node of `kind` (a name in NODE_KINDS; a Linux host by default), given its kind's keys."""
        if name in self.nodes:
            raise NetplexError(f'node "{name}" exists')
        cls = NODE_KINDS.get(kind)
        if cls is None:
            raise UnknownNodeKind(kind)
        node = cls(self, name)
        self.nodes[name] = node
        if params is not None:
            node.configure(params)
        return node

    def node_netns(self, name: str) -> Namespace | None:
        """The root namespace of node `name` (how `veth peer ... netns NODE` has always
        found another node in the simulator), or None."""
        node = self.nodes.get(name)
        return None if node is None else node.ns

    def random_mac(self) -> bytes:
        """eth_random_addr: locally administered, unicast, from the seeded RNG."""
        return self.world.random_mac()

    def connect(self, a: Any, b: Any, rate_bps: int | None = None, delay_ns: int = 0,
                loss: float = 0.0) -> Link:
        """Join two devices with a cable."""
        return self.world.connect(a, b, rate_bps, delay_ns, loss)

    def add_link(self, end_a: str, end_b: str, kind: str = "veth", rate_bps: int | None = None,
                 delay_ns: int = 0, loss: float = 0.0, mtu: int | None = None) -> Link:
        """A veth pair between `node:ifname` ends, both down; or a TAP link (host TAP ↔ guest NIC)."""
        (na, ia), (nb, ib) = (self._split_end(end_a), self._split_end(end_b))
        a_ns, b_ns = self.nodes[na].ns, self.nodes[nb].ns
        if kind == "tap":
            a_ns.check_new_name(ia)
            b_ns.check_new_name(ib)
            da, db = Tap(a_ns, ia, self.random_mac()), Tap(b_ns, ib, self.random_mac())
            a_ns.register(da)
            b_ns.register(db)
        else:
            da, db = a_ns.add_veth_pair(ia, b_ns, ib)
        link = self.connect(da, db, rate_bps, delay_ns, loss)
        if mtu is not None:
            da.mtu = db.mtu = mtu
        return link

    def _split_end(self, end: str) -> tuple[str, str]:
        node, _, ifname = end.partition(":")
        if node not in self.nodes:
            raise NetplexError(f'unknown node "{node}"')
        if not ifname:
            n = sum(1 for d in self.nodes[node].ns.devices if d.startswith(f"{node}-eth"))
            ifname = f"{node}-eth{n}"
        return node, ifname

    # -- running -------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.world.now

    def run_for(self, ns: int) -> None:
        """Let simulated time pass (World.run_for's, one call fewer)."""
        sched = self.world.sched
        sched.advance(sched.now + ns)

    def run_until(self, stop: Callable[[], bool], timeout_ns: int) -> bool:
        """Run events until `stop()` is true or `timeout_ns` passes; returns stop()."""
        return self.world.run_until(stop, timeout_ns)

    def settle(self) -> None:
        """Run every pending event that is due now (nothing in the future)."""
        self.world.settle()

    # -- capture -------------------------------------------------------------
    def start_pcap(self, directory: str | Path) -> None:
        """One pcap per interface (node-ifname.pcap), frames as they cross the device."""
        from netplex.packet.pcap import PcapWriter

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        writers = self._pcap_writers = {}

        def capture(dev: Any, frame: Any) -> None:
            key = (dev.ns.name, dev.name)
            w = writers.get(key)
            if w is None:
                w = writers[key] = PcapWriter(str(out / f"{dev.ns.name}-{dev.name}.pcap"))
            w.write(self.sched.now, frame.encode())

        self.capture = capture

    def stop_pcap(self) -> None:
        for w in self._pcap_writers.values():
            w.close()
        self._pcap_writers = {}
        self.capture = None

    # -- scenario files --------------------------------------------------------
    def probe(self, spec: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run one probe written as in a scenario file; returns its ProbeResult.

            net.probe({"ping": {"from": "h1", "to": "10.0.0.2"}})
            net.probe(tcp={"from": "h1", "to": "10.0.0.2", "port": 80}, expect_peer="10.0.0.1")

        `.passed`, `.ok` and `.observed` are as in the JSON result.
        """
        from netplex.scenario.model import Probe
        from netplex.scenario.runner import run_probe
        from netplex.scenario.sim import SimBackend

        data = dict(spec or {})
        data.update(kwargs)
        probe = Probe.model_validate(data)
        return run_probe(probe, 0, SimBackend(network=self))

    def load(self, path: str | Path) -> Any:
        """Build a scenario file's nodes and links and run its setup and services."""
        from netplex.scenario.sim import SimBackend

        backend = SimBackend(network=self)
        return backend.load(path)
