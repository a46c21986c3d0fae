"""`netstat` as net-tools 2.10 prints it (Debian 12, netstat(8)).

- `netstat -r` (`-rn`, `-re`): the main routing table, as `route -e` (the
  MSS/Window/irtt columns; `-e` gives route's Metric/Ref/Use ones);
- `netstat -i` (`-ia`): the interface table of lib/interface.c
  `ife_print_short`, counters from /sys/class/net/DEV/statistics, up
  devices only unless `-a`;
- sockets (`-t` `-u` `-a` `-l` `-n` `-p`, in any combination such as
  `-tulpn`): the namespace's TCP and UDP sockets (netplex.shell.inet_diag),
  servers with `-l`, everything with `-a`, connections otherwise; `-p` adds
  PID/Program name from the machine's process table. A node has no unix
  sockets: without `-t`/`-u` the "Active UNIX domain sockets" table is empty.

A node has no resolver: socket listings need `-n` (names are refused in
netplex's words); so are `-s` (statistics), `-c` (continuous), `-g`, `-M`,
`-e` for sockets and `-ie` (ifconfig's format).
"""
from __future__ import annotations

import re

from netplex.packet.addr import int_to_ip
from netplex.shell.inet_diag import InetSock, inet_sockets
from netplex.shell.registry import Context, FileReadError, command
from netplex.shell.result import Result, unsupported
from netplex.shell.route import format_fib, rows
from netplex.stack import tcp

__all__ = ["netstat"]

USAGE = ("usage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}\n"
         "       netstat [-vWnNcaeol] [<Socket> ...]\n"
         "       netstat { [-vWeenNac] -i | [-cnNe] -M | -s [-6tuw] }\n")

# the state column (netstat.c tcp_state[])
_TCP_STATE = {tcp.ESTABLISHED: "ESTABLISHED", tcp.SYN_SENT: "SYN_SENT", tcp.SYN_RECV: "SYN_RECV",
              tcp.FIN_WAIT1: "FIN_WAIT1", tcp.FIN_WAIT2: "FIN_WAIT2", tcp.TIME_WAIT: "TIME_WAIT",
              tcp.CLOSED: "CLOSE", tcp.CLOSE_WAIT: "CLOSE_WAIT", tcp.LAST_ACK: "LAST_ACK",
              tcp.LISTEN: "LISTEN", tcp.CLOSING: "CLOSING"}

_LONG = {"--route": "r", "--interfaces": "i", "--tcp": "t", "--udp": "u", "--all": "a", "--listening": "l",
         "--numeric": "n", "--programs": "p", "--extend": "e", "--wide": "W", "--verbose": "v",
         "--raw": "w", "--unix": "x", "--inet": "4", "--statistics": "s", "--continuous": "c",
         "--groups": "g", "--masquerade": "M", "--timers": "o", "--fib": "F", "--cache": "C",
         "--symbolic": "N", "--version": "V", "--help": "h", "--numeric-hosts": "n", "--numeric-ports": "n",
         "--numeric-users": "n"}
_IFF = ((0x200, "A"), (0x2, "B"), (0x4, "D"), (0x8, "L"), (0x1000, "M"), (0x100, "P"), (0x20, "N"),
        (0x80, "O"), (0x10, "P"), (0x800, "s"), (0x400, "m"), (0x40, "R"), (0x1, "U"))


def _interfaces(ctx: Context, all_: bool) -> str:
    out = ["Kernel Interface table\n",
           "Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n"]
    names = ctx.list_dir("/sys/class/net") or []

    def val(dev: str, f: str) -> int:
        try:
            text = ctx.read_file(f"/sys/class/net/{dev}/{f}")
        except FileReadError:
            return 0
        return int(text.strip(), 0) if text else 0

    # lib/interface.c add_interface keeps the list in nstrcmp order: names, numbers by value
    for dev in sorted(names, key=lambda d: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", d)]):
        flags = val(dev, "flags")
        if flags & 0x1 and val(dev, "carrier"):
            flags |= 0x40   # IFF_RUNNING: SIOCGIFFLAGS (dev_get_flags) adds it, sysfs `flags` does not
        if not all_ and not flags & 0x1:
            continue
        st = [val(dev, f"statistics/{k}") for k in ("rx_packets", "rx_errors", "rx_dropped", "rx_fifo_errors",
                                                     "tx_packets", "tx_errors", "tx_dropped", "tx_fifo_errors")]
        flg = "".join(c for bit, c in _IFF if flags & bit) or "[NO FLAGS]"
        out.append(f"{dev:<15.15} {val(dev, 'mtu'):5d} {st[0]:8d} {st[1]:6d} {st[2]:6d} {st[3]:<6d} "
                   f"{st[4]:8d} {st[5]:6d} {st[6]:6d} {st[7]:6d} {flg}\n")
    return "".join(out)


def _shown(s: InetSock, opts: set[str]) -> bool:
    if "a" in opts:
        return True
    return s.listening if "l" in opts else not s.listening


def _sockets(ctx: Context, opts: set[str]) -> str:
    which = "servers and established" if "a" in opts else "only servers" if "l" in opts else "w/o servers"
    families = {f for f in "tuwx" if f in opts} or set("tuwx")
    prog = "p" in opts
    out: list[str] = []
    if families & set("tuw"):
        out.append(f"Active Internet connections ({which})\n")
        head = "Proto Recv-Q Send-Q Local Address           Foreign Address         State      "
        out.append(head + (" PID/Program name    " if prog else "") + "\n")
        protos = {name for f, name in (("t", "tcp"), ("u", "udp")) if f in families}
        for s in inet_sockets(ctx):
            if s.proto not in protos or not _shown(s, opts):
                continue
            local = f"{int_to_ip(s.laddr)}:{s.lport}"
            remote = f"{int_to_ip(s.raddr)}:{s.rport}" if s.raddr else "0.0.0.0:*"
            state = _TCP_STATE.get(s.state, "UNKNOWN") if s.proto == "tcp" else \
                ("ESTABLISHED" if s.raddr else "")
            line = f"{s.proto:<5} {s.recv_q:6d} {s.send_q if s.proto == 'udp' or s.state != tcp.LISTEN else 0:6d} " \
                   f"{local:<23} {remote:<23} {state:<11}"
            if prog:
                who = f"{s.users[0].pid}/{s.users[0].comm}" if s.users else "-"
                line += f" {who:<20}"
            out.append(line + "\n")
    if "x" in families:
        out.append(f"Active UNIX domain sockets ({which})\n")
        out.append("Proto RefCnt Flags       Type       State         I-Node   "
                   + ("PID/Program name     " if prog else "") + "Path\n")
    return "".join(out)


@command("netstat")
def netstat(ctx: Context, argv: list[str]) -> Result:
    opts: set[str] = set()
    for a in argv[1:]:
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in _LONG:
                return Result(1, "", f"netstat: unrecognized option '{a}'\n{USAGE}")
            opts.add(_LONG[name])
        elif a.startswith("-") and len(a) > 1:
            for ch in a[1:]:
                if ch not in "ritualnpeWvwx4sgcMoFCNVh6A":
                    return Result(3, "", f"netstat: invalid option -- '{ch}'\n{USAGE}")
                opts.add(ch)
        else:
            return Result(3, "", USAGE)
    if "V" in opts:
        return Result(0, "net-tools 2.10\nFedora-netstat unsupported\n")
    if "h" in opts:
        return Result(0, USAGE)
    for ch, what in (("s", "statistics"), ("c", "continuous output"), ("g", "multicast groups"),
                     ("M", "masqueraded connections"), ("o", "timers"), ("C", "the routing cache"),
                     ("6", "IPv6"), ("A", "address families"), ("N", "symbolic names")):
        if ch in opts:
            return unsupported(f"netstat -{ch} ({what})")
    if "r" in opts:
        return Result(0, format_fib(rows(ctx), mss_columns="e" not in opts, numeric="n" in opts))
    if "i" in opts:
        if "e" in opts:
            return unsupported("netstat -ie (ifconfig's format)")
        return Result(0, _interfaces(ctx, "a" in opts))
    if "e" in opts:
        return unsupported("netstat -e (User and Inode columns)")
    if "n" not in opts:
        return unsupported("netstat without -n", "a node has no resolver: add -n")
    return Result(0, _sockets(ctx, opts))
