"""`route` as net-tools 2.10 prints it (Debian 12, route(8)): the main routing table,
read from /proc/net/route as net-tools' lib/inet_gr.c `rprint_fib` reads it.

`route`, `route -n` print the Metric/Ref/Use columns, `route -e` the
MSS/Window/irtt ones (netstat -r's); `rows` and `format_fib` are shared with
`netstat -r` (netplex.shell.netstat). A node has no resolver: without `-n`
only the destination 0.0.0.0 is named (`default`), as net-tools does when
no name is found. What netplex does not model is refused in its own words:
changing routes (`route add|del` — `ip route` does it), the routing cache
(`-C`), IPv6 (`-6`, `-A inet6`) and `-ee`.
"""
from __future__ import annotations

from dataclasses import dataclass

from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported

__all__ = ["FibRow", "format_fib", "route", "rows"]

RTF_UP, RTF_GATEWAY, RTF_HOST, RTF_REJECT = 0x1, 0x2, 0x4, 0x200

USAGE = ("Usage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables\n"
         "       route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.\n\n"
         "       route {-h|--help} [<AF>]              Detailed usage syntax for specified AF.\n"
         "       route {-V|--version}                  Display version/author and exit.\n\n"
         "        -v, --verbose            be verbose\n"
         "        -n, --numeric            don't resolve names\n"
         "        -e, --extend             display other/more information\n"
         "        -F, --fib                display Forwarding Information Base (default)\n"
         "        -C, --cache              display routing cache instead of FIB\n\n"
         "  <AF>=Use -4, -6, '-A <af>' or '--<af>'; default: inet\n")


@dataclass(frozen=True, slots=True)
class FibRow:
    """One line of /proc/net/route, decoded."""

    iface: str
    dst: str
    gw: str
    flags: int
    metric: int
    mask: str
    mss: int
    window: int
    irtt: int


def _addr(hexle: str) -> str:
    """A /proc/net/route address (%08X of a __be32 on a little-endian machine) as a dotted quad."""
    return ".".join(str(b) for b in int(hexle, 16).to_bytes(4, "little"))


def rows(ctx: Context) -> list[FibRow]:
    """The main table's routes as /proc/net/route lists them."""
    text = ctx.read_file("/proc/net/route") or ""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 11:
            continue
        out.append(FibRow(f[0], _addr(f[1]), _addr(f[2]), int(f[3], 16), int(f[6]), _addr(f[7]),
                          int(f[8]), int(f[9]), int(f[10])))
    return out


def _flags(flags: int) -> str:
    s = ("U" if flags & RTF_UP else "") + ("G" if flags & RTF_GATEWAY else "")
    if flags & RTF_REJECT:
        s = "!"
    return s + ("H" if flags & RTF_HOST else "")


def format_fib(routes: list[FibRow], mss_columns: bool, numeric: bool) -> str:
    """inet_gr.c rprint_fib: the table with Metric/Ref/Use (route) or MSS/Window/irtt (netstat -r)."""
    out = ["Kernel IP routing table\n"]
    if mss_columns:
        out.append("Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n")
    else:
        out.append("Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n")
    for r in routes:
        dst = "default" if not numeric and r.dst == "0.0.0.0" else r.dst
        reject = bool(r.flags & RTF_REJECT)
        gw, iface = ("-", "-") if reject else (r.gw, r.iface)
        head = f"{dst:<15} {gw:<15} {r.mask:<15} {_flags(r.flags):<5} "
        if mss_columns:
            if reject:
                out.append(f"{head}{'-':>5} {'-':<6} {'-':>5} {iface}\n")
            else:
                out.append(f"{head}{r.mss:>5} {r.window:<6} {r.irtt:>5} {iface}\n")
        else:
            ref = "-" if reject else "0"
            out.append(f"{head}{r.metric:<6} {ref:<2} {0:>7} {iface}\n")
    return "".join(out)


@command("route")
def route(ctx: Context, argv: list[str]) -> Result:
    numeric = False
    extend = 0
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("add", "del", "flush"):
            return unsupported(f"route {a}", "ip route does it")
        if a in ("--numeric",):
            numeric = True
        elif a in ("--extend",):
            extend += 1
        elif a in ("--inet", "--fib", "--verbose"):
            pass
        elif a in ("--inet6", "--cache"):
            return unsupported(f"route {a}")
        elif a in ("--version",):
            return Result(0, "net-tools 2.10\n")
        elif a in ("--help",):
            return Result(0, USAGE)
        elif a == "-A":
            i += 1
            fam = args[i] if i < len(args) else ""
            if fam != "inet":
                return unsupported(f"route -A {fam}".rstrip(), "only inet (IPv4)")
        elif a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            for ch in a[1:]:
                if ch in "nN":
                    numeric = True
                elif ch == "e":
                    extend += 1
                elif ch in "vF4":
                    pass
                elif ch in "C6":
                    return unsupported(f"route -{ch}")
                elif ch == "V":
                    return Result(0, "net-tools 2.10\n")
                elif ch == "h":
                    return Result(0, USAGE)
                else:
                    return Result(0, USAGE, f"route: invalid option -- '{ch}'\n")
        else:
            return Result(0, USAGE, f"route: invalid option -- '{a}'\n" if a.startswith("-") else "")
        i += 1
    if extend > 1:
        return unsupported("route -ee")
    return Result(0, format_fib(rows(ctx), mss_columns=extend == 1, numeric=numeric))
