"""mininet.link: interfaces (Intf, TCIntf) and links (Link, TCLink, TCULink, OVSLink).

A Link names its two interfaces as Mininet does (`h1-eth0`, `s1-eth1`: the node's
name, `-eth`, the port) and becomes one of netplex's links (a veth pair between
two nodes) when the network is built. TCLink's `bw` (Mbit/s), `delay` and `loss`
(percent) become the link's rate, delay and loss; `jitter`, `max_queue_size` and
the qdisc choices are noted as not modelled. Different shaping on the two ends of
one link is refused: a netplex link has one rate, delay and loss.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netplex.mininet.session import MininetUnsupported, note

if TYPE_CHECKING:
    from netplex.mininet.node import Node

__all__ = ["Intf", "Link", "OVSIntf", "OVSLink", "TCIntf", "TCLink", "TCULink"]

TC_KEYS = ("bw", "delay", "loss")
TC_NOT_MODELLED = ("jitter", "max_queue_size", "speedup", "use_hfsc", "use_tbf", "latency_ms",
                   "enable_ecn", "enable_red")


class Intf:
    """One end of a link on a node: its name, port, address and MAC."""

    shaped = False  # TCIntf: the link's bw/delay/loss apply

    def __init__(self, name: str, node: Node | None = None, port: int | None = None,
                 link: Link | None = None, mac: str | None = None, **params: Any) -> None:
        self.name = name
        self.node = node
        self.link = link
        self.mac = mac
        self.ip: str | None = None
        self.prefixLen: int | None = None
        self.params = params
        if name == "lo":
            self.ip, self.prefixLen = "127.0.0.1", 8
        if node is not None:
            node.addIntf(self, port=port)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {self.name}>"

    def cmd(self, *args: Any, **kwargs: Any) -> str:
        return self._owner().cmd(*args, **kwargs)

    def _owner(self) -> Node:
        if self.node is None:
            raise MininetUnsupported("Intf", f"interface {self.name} belongs to no node")
        return self.node

    def IP(self) -> str | None:
        return self.ip

    def MAC(self) -> str | None:
        if self.mac is None and self.node is not None and self.node.built():
            self.mac = self.node.cmd(f"cat /sys/class/net/{self.name}/address").strip() or None
        return self.mac

    def updateIP(self) -> str | None:
        return self.ip

    def updateMAC(self) -> str | None:
        return self.MAC()

    def updateAddr(self) -> tuple[str | None, str | None]:
        return self.ip, self.MAC()

    def setIP(self, ipstr: str, prefixLen: int | None = None) -> str:
        """`ifconfig NAME ADDR/LEN up`: the interface's one address, replacing any other."""
        if "/" in ipstr:
            self.ip, _, pl = ipstr.partition("/")
            self.prefixLen = int(pl)
        else:
            if prefixLen is None:
                raise Exception(f"No prefix length set for IP address {ipstr}")
            self.ip, self.prefixLen = ipstr, int(prefixLen)
        node = self._owner()
        if node.built():
            return node.cmd(f"ip addr flush dev {self.name} && ip addr add {self.ip}/{self.prefixLen} "
                            f"brd + dev {self.name} && ip link set {self.name} up")
        return ""

    def setMAC(self, macstr: str) -> str:
        self.mac = macstr
        node = self._owner()
        if node.built():
            return node.cmd(f"ip link set dev {self.name} down && ip link set dev {self.name} address {macstr} "
                            f"&& ip link set dev {self.name} up")
        return ""

    def ifconfig(self, *args: Any) -> str:
        """Only `ifconfig('up')` and `ifconfig('down')`: netplex's hosts have no ifconfig."""
        if len(args) == 1 and args[0] in ("up", "down"):
            return self._owner().cmd(f"ip link set dev {self.name} {args[0]}")
        raise MininetUnsupported("Intf.ifconfig", f"Intf.ifconfig{args!r}: only 'up' and 'down' are supported")

    def isUp(self, setUp: bool = False) -> bool:
        if setUp:
            self.ifconfig("up")
            return True
        return "UP" in self._owner().cmd(f"ip -o link show dev {self.name}").split(">")[0]

    def status(self) -> str:
        return "OK"

    def config(self, mac: str | None = None, ip: str | None = None, ifconfig: Any = None,
               up: bool = True, **_params: Any) -> dict[str, Any]:
        """Apply `mac` and `ip` (Mininet's Intf.config); the other keys are the link's shaping."""
        if mac:
            self.setMAC(mac)
        if ip:
            self.setIP(ip)
        if ifconfig is not None:
            raise MininetUnsupported("ifconfig", "Intf.config(ifconfig=...) is not supported")
        return {}

    def delete(self) -> None:
        raise MininetUnsupported("Intf.delete", "deleting an interface of a built network is not supported")


class TCIntf(Intf):
    """An interface whose link is shaped (bw, delay, loss).

    Before the network is built, the parameters shape the netplex link. On a running
    network, `config(...)` reshapes this interface's egress with tc as Mininet's
    TCIntf.config does: the configured root qdisc goes, then `bw` is an htb (5:, class
    5:1) and delay/jitter/loss/max_queue_size a netem (10:) below it or at the root.
    A delay or loss given again at run time on a link shaped by delay/loss when it was
    made is refused: that shaping is the netplex link's, which tc cannot replace.
    """

    shaped = True

    def config(self, mac: str | None = None, ip: str | None = None, ifconfig: Any = None,
               up: bool = True, **params: Any) -> dict[str, Any]:
        node = self._owner()
        if not node.built() or not params:
            return super().config(mac=mac, ip=ip, ifconfig=ifconfig, up=up)
        super().config(mac=mac, ip=ip, ifconfig=ifconfig, up=up)
        late = [k for k in ("delay", "loss", "jitter", "max_queue_size") if params.get(k) is not None]
        made = [k for k in ("delay", "loss") if self.params.get(k)]
        if late and made:
            raise MininetUnsupported("TCIntf.config", f"{self.name}: {', '.join(late)} on a link made with "
                                     f"{', '.join(made)}: that shaping is the netplex link's, not a qdisc's; "
                                     "give them when the link is made")
        loss = params.get("loss")
        if loss is not None and not 0 <= float(loss) <= 100:
            raise MininetUnsupported("TCIntf.config", f"{self.name}: loss={loss!r}: Mininet's range is 0..100")
        name = self.name
        shown = node.cmd(f"tc qdisc show dev {name}")
        if "priomap" not in shown and "noqueue" not in shown:
            node.cmd(f"tc qdisc del dev {name} root")
        parent = "root"
        if params.get("bw") is not None:
            bw = float(params["bw"])
            node.cmd(f"tc qdisc add dev {name} root handle 5:0 htb default 1")
            node.cmd(f"tc class add dev {name} parent 5:0 classid 5:1 htb rate {bw:f}Mbit burst 15k")
            parent = "parent 5:1"
        netem = ""
        if params.get("delay") is not None:
            netem += f"delay {params['delay']} "
        if params.get("jitter") is not None:
            netem += f"{params['jitter']} "
        if loss is not None and float(loss) > 0:
            netem += f"loss {float(loss):.5f} "
        if params.get("max_queue_size") is not None:
            netem += f"limit {int(params['max_queue_size'])}"
        if netem:
            node.cmd(f"tc qdisc add dev {name} {parent} handle 10: netem {netem}")
        return {}


class OVSIntf(Intf):
    """An OVS patch port end (netplex makes it a plain link)."""


class Link:
    """A cable between two nodes: a veth pair, its two interfaces named after node and port."""

    def __init__(self, node1: Node, node2: Node, port1: int | None = None, port2: int | None = None,
                 intfName1: str | None = None, intfName2: str | None = None, addr1: str | None = None,
                 addr2: str | None = None, intf: Any = Intf, cls1: Any = None, cls2: Any = None,
                 params1: dict[str, Any] | None = None, params2: dict[str, Any] | None = None,
                 fast: bool = True, **params: Any) -> None:
        p1 = {**params, **(params1 or {})}
        p2 = {**params, **(params2 or {})}
        if port1 is None:
            port1 = node1.newPort()
        if port2 is None:
            port2 = node2.newPort() if node2 is not node1 else port1 + 1
        name1 = intfName1 or self.intfName(node1, port1)
        name2 = intfName2 or self.intfName(node2, port2)
        self.intf1: Intf = (cls1 or intf)(name=name1, node=node1, port=port1, link=self, mac=addr1, **p1)
        self.intf2: Intf = (cls2 or intf)(name=name2, node=node2, port=port2, link=self, mac=addr2, **p2)
        self.shaping = _shaping(self.intf1, self.intf2)
        if node1.mn is not None:
            node1.mn.linked(self)

    @staticmethod
    def intfName(node: Node, n: int) -> str:
        return node.name + "-eth" + repr(n)

    def __str__(self) -> str:
        return f"{self.intf1}<->{self.intf2}"

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {self}>"

    def intfs(self) -> tuple[Intf, Intf]:
        return self.intf1, self.intf2

    def status(self) -> str:
        return f"({self.intf1.status()} {self.intf2.status()})"

    def stop(self) -> None:
        """The network's teardown removes every link."""

    def delete(self) -> None:
        raise MininetUnsupported("Link.delete", "deleting a link of a built network is not supported")


def _shaping(i1: Intf, i2: Intf) -> dict[str, Any]:
    """The link's rate/delay/loss from its TCIntf ends (netplex's link keys), or {}."""
    ends = [i for i in (i1, i2) if i.shaped]
    if not ends:
        return {}
    values = [{k: i.params[k] for k in TC_KEYS if i.params.get(k) is not None} for i in ends]
    if len(values) == 2 and values[0] != values[1]:
        raise MininetUnsupported("TCLink", f"{i1}<->{i2}: different bw/delay/loss on the two ends "
                                 f"({values[0]} and {values[1]}) are not supported: a netplex link is shaped "
                                 "the same way in both directions")
    for i in ends:
        for k in TC_NOT_MODELLED:
            if i.params.get(k) not in (None, False):
                note(f"TCLink {k}={i.params[k]!r} is not modelled (netplex shapes a link by its bw, delay and loss)")
    v = values[0]
    out: dict[str, Any] = {}
    if "bw" in v:
        bw = float(v["bw"])
        if not 0 < bw <= 1000:
            raise MininetUnsupported("bw", f"{i1}<->{i2}: bw={v['bw']!r}: Mininet's range is 0..1000 Mbit/s")
        out["rate"] = f"{bw:g}mbit"
    if "delay" in v:
        out["delay"] = str(v["delay"])
    if "loss" in v and float(v["loss"]):
        out["loss"] = f"{float(v['loss']):g}%"
    return out


class TCLink(Link):
    """A link shaped by tc in Mininet (htb + netem): here, the link's rate, delay and loss."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("cls1", TCIntf)
        kwargs.setdefault("cls2", TCIntf)
        super().__init__(*args, **kwargs)


class TCULink(TCLink):
    """TCLink for user-space switches (the same here)."""


class OVSLink(Link):
    """A link between two OVS switches (Mininet may make it a patch port): a plain link here."""
