"""mininet.cli: the `mininet>` prompt (Mininet's CLI class, mininet/cli.py).

Commands: `pingall`, `pingpair`, `iperf [h1 h2]`, `iperfudp [bw h1 h2]`, `net`,
`nodes`, `links`, `dump`, `intfs`, `ports`, `link n1 n2 up|down`, `source FILE`,
`help`, `exit`/`quit`/end of input, and `NODE CMD...` (the line runs on the node,
every other word that names a node replaced by that node's address, so `h1 ping
-c1 h2` pings h2). `sh`, `py`, `px`, `xterm`, `gterm`, `x`, `noecho`, `switch` and
`wait` are refused with netplex's words: they run on this machine or need X11.
A `ping` without `-c` would run until Ctrl-C; here it is given `-c 4`, and said so.
"""
from __future__ import annotations

import shlex
import sys
from typing import IO, Any

from netplex.mininet.log import error, output
from netplex.mininet.util import dumpNodeConnections, dumpPorts

__all__ = ["CLI"]

_REFUSED = {
    "sh": "runs a command on this machine, outside the network",
    "py": "evaluates Python in Mininet's process",
    "px": "executes Python in Mininet's process",
    "xterm": "needs X11", "gterm": "needs X11", "x": "needs X11",
    "noecho": "needs a terminal of its own",
    "switch": "starts and stops switch processes",
    "dpctl": "needs an OpenFlow switch (netplex builds Mininet switches as Linux bridges)",
}


class CLI:
    """The interactive prompt: reads lines from `stdin` (or `script`) until exit or end of input."""

    prompt = "mininet> "

    def __init__(self, mininet: Any, stdin: IO[str] | None = None, script: str | None = None,
                 **kwargs: Any) -> None:
        self.mn = mininet
        self.stdin = stdin if stdin is not None else sys.stdin
        if script is not None:
            self.do_source(script)
            return
        self.run()

    def run(self) -> None:
        interactive = self.stdin.isatty()
        while True:
            if interactive:
                try:
                    line = input(self.prompt)
                except EOFError:
                    output("\n")
                    return
            else:
                line = self.stdin.readline()
                if not line:
                    return
            if self.onecmd(line.strip()) == "exit":
                return

    def onecmd(self, line: str) -> str | None:
        if not line or line.startswith("#"):
            return None
        first, _, rest = line.partition(" ")
        rest = rest.strip()
        if first in ("exit", "quit", "EOF"):
            return "exit"
        if first in _REFUSED:
            error(f"*** netplex: {first} {_REFUSED[first]}; not supported\n")
            return None
        method = self.commands().get(first)
        if method is not None:
            method(rest)
        elif first in self.mn:
            self.default(first, rest)
        else:
            error(f"*** Unknown command: {line}\n")
        return None

    def commands(self) -> dict[str, Any]:
        return {"help": self.do_help, "nodes": self.do_nodes, "net": self.do_net, "ports": self.do_ports,
                "links": self.do_links, "dump": self.do_dump, "intfs": self.do_intfs, "pingall": self.do_pingall,
                "pingpair": self.do_pingpair, "iperf": self.do_iperf, "iperfudp": self.do_iperfudp,
                "link": self.do_link, "source": self.do_source}

    # -- commands -------------------------------------------------------------------
    def do_help(self, line: str) -> None:
        output("\nDocumented commands (type help <topic>):\n========================================\n"
               "EOF  dump  exit  help  intfs  iperf  iperfudp  link  links  net  nodes  pingall\n"
               "pingpair  ports  quit  source\n\n"
               "You may also send a command to a node using:\n  <node> command {args}\n"
               "For example:\n  mininet> h1 ifconfig\n\n"
               "The interpreter automatically substitutes IP addresses\nfor node names when a node is the first arg, "
               "so commands\nlike\n  mininet> h2 ping h3\nshould work.\n")

    def do_nodes(self, line: str) -> None:
        output("available nodes are: \n{}\n".format(" ".join(sorted(self.mn))))

    def do_net(self, line: str) -> None:
        dumpNodeConnections(self.mn.values())

    def do_ports(self, line: str) -> None:
        dumpPorts(self.mn.switches)

    def do_links(self, line: str) -> None:
        for link in self.mn.links:
            output(link, link.status(), "\n")

    def do_dump(self, line: str) -> None:
        for node in self.mn.values():
            output(f"{repr(node)}\n")

    def do_intfs(self, line: str) -> None:
        for node in self.mn.values():
            output("{}: {}\n".format(node.name, ",".join(node.intfNames())))

    def do_pingall(self, line: str) -> None:
        self.mn.pingAll(line or None)

    def do_pingpair(self, line: str) -> None:
        self.mn.pingPair()

    def _hosts(self, names: list[str]) -> list[Any] | None:
        hosts = []
        for name in names:
            if name not in self.mn:
                error(f"node '{name}' not in network\n")
                return None
            hosts.append(self.mn[name])
        return hosts

    def do_iperf(self, line: str) -> None:
        args = line.split()
        if not args:
            self.mn.iperf()
        elif len(args) == 2:
            hosts = self._hosts(args)
            if hosts:
                self.mn.iperf(hosts)
        else:
            error("invalid number of args: iperf src dst\n")

    def do_iperfudp(self, line: str) -> None:
        args = line.split()
        if not args:
            self.mn.iperf(l4Type="UDP")
        elif len(args) == 3:
            hosts = self._hosts(args[1:])
            if hosts:
                self.mn.iperf(hosts, l4Type="UDP", udpBw=args[0])
        else:
            error("invalid number of args: iperfudp bw src dst\nbw examples: 10M\n")

    def do_link(self, line: str) -> None:
        args = line.split()
        if len(args) != 3:
            error("invalid number of args: link end1 end2 [up down]\n")
        elif args[2] not in ("up", "down"):
            error("invalid type: link end1 end2 [up down]\n")
        else:
            self.mn.configLinkStatus(*args)

    def do_source(self, line: str) -> None:
        args = line.split()
        if len(args) != 1:
            error("usage: source <file>\n")
            return
        try:
            with open(args[0], encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError:
            error(f"error reading file {args[0]}\n")
            return
        for cmd in lines:
            if cmd.strip():
                output(f"*** {cmd.strip()}\n")
                if self.onecmd(cmd.strip()) == "exit":
                    return

    def default(self, first: str, rest: str) -> None:
        """`NODE CMD ...`: the command on the node, node names after the first word made addresses."""
        if not rest:
            error(f"*** Please enter a command for node: {first} <cmd>\n")
            return
        node = self.mn[first]
        words = rest.split(" ")
        words = [self.mn[w].IP() or w if w in self.mn and i > 0 else w for i, w in enumerate(words)]
        try:
            argv = shlex.split(" ".join(words))
        except ValueError:
            argv = words
        if argv and argv[0] == "ping" and not any(a.startswith("-c") for a in argv[1:]):
            words.insert(1, "-c 4")
            error("*** netplex: ping without -c runs until Ctrl-C in Mininet; sending 4\n")
        output(node.cmd(" ".join(words)))
