"""`ss` as iproute2 6.1 prints it (Debian 12, ss(8)), over the namespace's TCP and
UDP sockets (netplex.shell.inet_diag).

Options: `-t` `-u` (none: both), `-a` (every state), `-l` (listening: LISTEN
and unconnected UDP), default the connected ones (not LISTEN, UNCONN,
TIME-WAIT or SYN-RECV), `-n` (numeric ports; without it a port is named from
the node's /etc/services as getservbyport does, or, when the node has none,
from the well-known ports of Debian's netbase file), `-p`
(users:(("comm",pid=N,fd=N)) from the machine's process table), `-H` (no
header), `-4`, `-O`; they combine (`-tanlpu`). Output is laid out as ss's
render() lays it out when standard output is not a terminal (netplex's never
is): each column as wide as its widest cell, the address columns right
aligned up to their `:`. What netplex does not model is refused in its own
words: IPv6 (`-6`), unix/raw/packet/netlink sockets (`-x` `-w` `-0`
`--netlink`), internals (`-e` `-i` `-m` `-o` `-s` `-K` `-E` `-Z` `-b`) and
state/address filters.
"""
from __future__ import annotations

from netplex.packet.addr import int_to_ip
from netplex.shell.inet_diag import InetSock, inet_sockets
from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported
from netplex.stack import tcp

__all__ = ["ss"]

_LONG = {"--tcp": "t", "--udp": "u", "--all": "a", "--listening": "l", "--numeric": "n", "--processes": "p",
         "--no-header": "H", "--ipv4": "4", "--oneline": "O", "--ipv6": "6", "--unix": "x", "--raw": "w",
         "--packet": "0", "--extended": "e", "--info": "i", "--memory": "m", "--options": "o",
         "--summary": "s", "--kill": "K", "--events": "E", "--context": "Z", "--bpf": "b", "--resolve": "r",
         "--version": "V", "--help": "h", "--sctp": "S", "--dccp": "d", "--vsock": "v", "--xdp": "X",
         "--threads": "T", "--cgroup": "c", "--tipc": "M"}
_REFUSED = {"6": "IPv6 (ss -6)", "x": "unix sockets (ss -x)", "w": "raw sockets (ss -w)",
            "0": "packet sockets (ss -0)", "e": "ss -e", "i": "ss -i (TCP internals)", "m": "ss -m",
            "o": "ss -o (timers)", "s": "ss -s (summary)", "K": "ss -K", "E": "ss -E", "Z": "ss -Z",
            "b": "ss -b", "r": "ss -r (name resolution)", "S": "SCTP (ss -S)", "d": "DCCP (ss -d)",
            "v": "ss --vsock", "X": "ss --xdp", "T": "ss -T", "c": "ss --cgroup", "M": "ss --tipc"}
# ss's state sets (ss.c): SS_CONN is every state but these four; a database's default
# states (default_dbs[]) are SS_CONN for TCP, ESTAB for UDP; -l is LISTEN and UNCONN
_ALL_STATES = frozenset({"ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "UNCONN",
                         "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"})
_SS_CONN = _ALL_STATES - {"LISTEN", "UNCONN", "TIME-WAIT", "SYN-RECV"}
_DB_STATES = {"tcp": _SS_CONN, "udp": frozenset({"ESTAB"})}
# The well-known ports a node's /etc/services names when the scenario gives it none
# (Debian 12's netbase file, which every Debian machine and so the kernel twin has)
_NETBASE_SERVICES: dict[tuple[int, str], str] = {
    (7, "tcp"): "echo", (7, "udp"): "echo", (9, "tcp"): "discard", (9, "udp"): "discard", (13, "tcp"): "daytime",
    (13, "udp"): "daytime", (20, "tcp"): "ftp-data", (21, "tcp"): "ftp", (21, "udp"): "fsp", (22, "tcp"): "ssh",
    (23, "tcp"): "telnet", (25, "tcp"): "smtp", (37, "tcp"): "time", (37, "udp"): "time", (43, "tcp"): "whois",
    (53, "tcp"): "domain", (53, "udp"): "domain", (67, "udp"): "bootps", (68, "udp"): "bootpc", (69, "udp"): "tftp",
    (79, "tcp"): "finger", (80, "tcp"): "http", (88, "tcp"): "kerberos", (88, "udp"): "kerberos",
    (110, "tcp"): "pop3", (111, "tcp"): "sunrpc", (111, "udp"): "sunrpc", (113, "tcp"): "auth", (119, "tcp"): "nntp",
    (123, "udp"): "ntp", (135, "tcp"): "epmap", (137, "udp"): "netbios-ns", (138, "udp"): "netbios-dgm",
    (139, "tcp"): "netbios-ssn", (143, "tcp"): "imap2", (161, "tcp"): "snmp", (161, "udp"): "snmp",
    (162, "tcp"): "snmp-trap", (162, "udp"): "snmp-trap", (179, "tcp"): "bgp", (389, "tcp"): "ldap",
    (389, "udp"): "ldap", (443, "tcp"): "https", (443, "udp"): "https", (445, "tcp"): "microsoft-ds",
    (465, "tcp"): "submissions", (500, "udp"): "isakmp", (514, "tcp"): "shell", (514, "udp"): "syslog",
    (515, "tcp"): "printer", (520, "udp"): "route", (546, "udp"): "dhcpv6-client", (547, "udp"): "dhcpv6-server",
    (554, "tcp"): "rtsp", (554, "udp"): "rtsp", (587, "tcp"): "submission", (631, "tcp"): "ipp",
    (636, "tcp"): "ldaps", (636, "udp"): "ldaps", (873, "tcp"): "rsync", (993, "tcp"): "imaps",
    (995, "tcp"): "pop3s", (1194, "tcp"): "openvpn", (1194, "udp"): "openvpn", (1812, "tcp"): "radius",
    (1812, "udp"): "radius", (1813, "tcp"): "radius-acct", (1813, "udp"): "radius-acct", (2049, "tcp"): "nfs",
    (2049, "udp"): "nfs", (3306, "tcp"): "mysql", (3389, "tcp"): "ms-wbt-server", (5353, "udp"): "mdns",
    (5432, "tcp"): "postgresql", (6379, "tcp"): "redis", (8080, "tcp"): "http-alt",
}
USAGE = "Usage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n"


def _services(ctx: Context) -> dict[tuple[int, str], str]:
    """(port, proto) -> name, from the node's /etc/services (getservbyport's file); without
    one, the common names of Debian's (netbase) file."""
    data = ctx.fs.read("/etc/services")
    if data is None:
        return _NETBASE_SERVICES
    names: dict[tuple[int, str], str] = {}
    for line in (data or b"").decode(errors="replace").splitlines():
        f = line.split("#", 1)[0].split()
        if len(f) >= 2 and "/" in f[1]:
            port, _, proto = f[1].partition("/")
            if port.isdigit():
                names.setdefault((int(port), proto), f[0])
    return names


def _port(port: int, proto: str, names: dict[tuple[int, str], str] | None, ephemeral: tuple[int, int]) -> str:
    if port == 0:
        return "*"
    if names is not None and not ephemeral[0] <= port <= ephemeral[1]:
        return names.get((port, proto), str(port))
    return str(port)


def _layout(rows: list[list[str]], netid: bool, state: bool) -> str:
    """ss render() for a pipe: per column (align, left delimiter), width = widest cell."""
    cols = [("l", ""), ("l", " "), ("l", " "), ("l", " "), ("r", " "), ("l", ""), ("r", " "), ("l", ""), ("l", "")]
    keep = [i for i in range(len(cols)) if (i != 0 or netid) and (i != 1 or state)]
    cols, rows = [cols[i] for i in keep], [[r[i] for i in keep] for r in rows]
    widths = []
    first = True
    for i, (_, delim) in enumerate(cols):
        longest = max(len(r[i]) for r in rows)
        widths.append(longest + (len(delim) if not first and longest else 0))
        first = first and not widths[-1]
    out = []
    for r in rows:
        line = []
        started = False
        for i, (align, delim) in enumerate(cols):
            if not widths[i]:
                continue
            cell = delim if started else ""
            started = True
            if align == "r":
                cell += " " * max(widths[i] - len(r[i]) - len(cell), 0) + r[i]
            else:
                cell += r[i]
                cell += " " * max(widths[i] - len(cell), 0)
            line.append(cell)
        out.append("".join(line) + "\n")
    return "".join(out)


def _state(s: InetSock) -> str:
    if s.proto == "udp":
        return "ESTAB" if s.raddr else "UNCONN"
    return "UNCONN" if s.state == tcp.CLOSED else tcp.STATE_NAMES[s.state]


@command("ss")
def ss(ctx: Context, argv: list[str]) -> Result:
    opts: set[str] = set()
    for a in argv[1:]:
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in _LONG:
                return Result(255, "", f"ss: unrecognized option '{a}'\n{USAGE}")
            opts.add(_LONG[name])
        elif a.startswith("-") and len(a) > 1:
            for ch in a[1:]:
                if ch not in "tualnpH4O" and ch not in _REFUSED and ch not in "Vh":
                    return Result(255, "", f"ss: invalid option -- '{ch}'\n{USAGE}")
                opts.add(ch)
        else:
            return unsupported("ss filters (state, address and port expressions)")
    if "V" in opts:
        return Result(0, "ss utility, iproute2-6.1.0, libbpf 1.1.2\n")
    if "h" in opts:
        return Result(0, USAGE)
    for ch, what in _REFUSED.items():
        if ch in opts:
            return unsupported(what)
    protos = [p for f, p in (("u", "udp"), ("t", "tcp")) if f in opts] or ["udp", "tcp"]
    names = None if "n" in opts else _services(ctx)
    lo, hi = (int(x) for x in ctx.node.sysctl.values["net.ipv4.ip_local_port_range"].split())
    rows = [] if "H" in opts else [["Netid", "State", "Recv-Q", "Send-Q", "Local Address:", "Port",
                                    "Peer Address:", "Port", "Process"]]
    socks = inet_sockets(ctx)
    if "a" in opts:
        states = _ALL_STATES
    elif "l" in opts:
        states = frozenset({"LISTEN", "UNCONN"})
    else:
        states = frozenset().union(*(_DB_STATES[p] for p in protos)) if opts & {"t", "u"} else _SS_CONN
    for proto in protos:     # ss shows UDP before TCP
        for s in socks:
            if s.proto != proto or _state(s) not in states:
                continue
            users = ",".join(f'("{u.comm}",pid={u.pid},fd={u.fd})' for u in s.users)
            rows.append([s.proto, _state(s), f"{s.recv_q:<6d}", f"{s.send_q:<6d}",
                         f"{int_to_ip(s.laddr)}:", _port(s.lport, proto, names, (lo, hi)),
                         f"{int_to_ip(s.raddr)}:", _port(s.rport, proto, names, (lo, hi)),
                         f" users:({users})" if "p" in opts and users else ""])
    if not rows:
        return Result(0)
    # a column that could only ever show one value is left out (ss.c main)
    return Result(0, _layout(rows, netid=len(protos) > 1, state=len(states) > 1))
