"""`arp` as net-tools 2.10 prints it (Debian 12, arp(8)): the ARP cache, read from
/proc/net/arp as net-tools' arp.c `arp_show` reads it.

Shown: the Linux style table (`arp`, `arp -n`, `arp -e`) and the BSD style
(`arp -a`), filtered by `-i IF`, `-H ether` and a host address; `-v` adds the
"Entries: N  Skipped: N  Found: N" footer. A node has no resolver, so names
are never looked up: `arp` prints as `arp -n` (the Linux style shows the
address, the BSD style `?`), and a host that is not a dotted quad is
"Host name lookup failure". Changing the cache (`-s`, `-d`, `-f`, `-D`) is
refused in netplex's words: `ip neigh replace|del` does it.
"""
from __future__ import annotations

from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported

__all__ = ["arp"]

ATF_COM, ATF_PERM, ATF_PUBL, ATF_NETMASK, ATF_DONTPUB = 0x02, 0x04, 0x08, 0x20, 0x40

_LONG = {"--all": "a", "--numeric": "n", "--verbose": "v", "--device": "i", "--hw-type": "H",
         "--set": "s", "--delete": "d", "--file": "f", "--use-device": "D", "--protocol": "A"}


def _usage(message: str) -> Result:
    return Result(255, "", f"{message}\n{USAGE}")


USAGE = ("Usage:\n"
         "  arp [-vn]  [<HW>] [-i <if>] [-a] [<hostname>]             <-Display ARP cache\n"
         "  arp [-v]          [-i <if>] -d  <host> [pub]               <-Delete ARP entry\n"
         "  arp [-vnD] [<HW>] [-i <if>] -f  [<filename>]            <-Add entry from file\n"
         "  arp [-v]   [<HW>] [-i <if>] -s  <host> <hwaddr> [temp]            <-Add entry\n"
         "  arp [-v]   [<HW>] [-i <if>] -Ds <host> <if> [netmask <nm>] pub          <-''-\n")


def _entry_line(ip: str, flags: int, mac: str, dev: str) -> str:
    """arp.c arp_disp: the Linux style line."""
    f = ("C" if flags & ATF_COM else "") + ("M" if flags & ATF_PERM else "") + ("P" if flags & ATF_PUBL else "")
    if not flags & ATF_COM:
        hw = f"{'*':<8.8}{'<from_interface>':<20.20}" if flags & ATF_PUBL else f"{'':<8.8}{'(incomplete)':<20.20}"
    else:
        hw = f"{'ether':<8.8}{mac:<20.20}"
    return f"{ip:<23.23}  {hw}{f:<6.6}{'':<15.15} {dev}\n"


def _bsd_line(ip: str, flags: int, mac: str, dev: str) -> str:
    """arp.c arp_disp_2: the BSD style line (`arp -a`)."""
    if not flags & ATF_COM:
        hw = "* " if flags & ATF_PUBL else "<incomplete> "
    else:
        hw = f"{mac} [ether] "
    extra = ("PERM " if flags & ATF_PERM else "") + ("PUB " if flags & ATF_PUBL else "")
    return f"? ({ip}) at {hw}{extra}on {dev}\n"


@command("arp")
def arp(ctx: Context, argv: list[str]) -> Result:
    opts: set[str] = set()
    device = ""
    host = ""
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        letters: list[str]
        if a.startswith("--"):
            name, _, val = a.partition("=")
            if name not in _LONG:
                return _usage(f"arp: unrecognized option '{a}'")
            letters = [_LONG[name]]
            if val:
                args.insert(i + 1, val)
        elif a.startswith("-") and len(a) > 1:
            letters = list(a[1:])
        else:
            if host:
                return _usage("arp: too many arguments")
            host = a
            i += 1
            continue
        for j, ch in enumerate(letters):
            if ch in "iHA":
                rest = "".join(letters[j + 1:])
                if rest:
                    val = rest
                else:
                    i += 1
                    if i >= len(args):
                        return _usage(f"arp: option requires an argument -- '{ch}'")
                    val = args[i]
                if ch == "i":
                    device = val
                elif ch == "H" and val != "ether":
                    return Result(255, "", f"arp: {val}: unknown hardware type.\n")
                elif ch == "A" and val != "inet":
                    return Result(255, "", f"arp: {val}: unknown address family.\n")
                break
            if ch in "sdfD":
                return unsupported(f"arp -{ch}", "change the cache with ip neigh replace|del")
            if ch not in "naevV":
                return _usage(f"arp: invalid option -- '{ch}'")
            opts.add(ch)
        i += 1
    if "V" in opts:
        return Result(0, "net-tools 2.10\n")
    if host:
        try:
            ip_to_int(host)
        except ValueError:
            return Result(255, "", f"{host}: Host name lookup failure\n")
    text = ctx.read_file("/proc/net/arp") or ""
    rows = [line.split() for line in text.splitlines()[1:] if line.strip()]
    out: list[str] = []
    shown = 0
    for row in rows:
        ip, flags, mac, dev = row[0], int(row[2], 16), row[3], row[5]
        if (host and ip != host) or (device and dev != device):
            continue
        shown += 1
        if "a" in opts and "e" not in opts:
            out.append(_bsd_line(ip, flags, mac, dev))
        else:
            if shown == 1:
                out.append("Address                  HWtype  HWaddress           Flags Mask            Iface\n")
            out.append(_entry_line(ip, flags, mac, dev))
    if "v" in opts:
        out.append(f"Entries: {len(rows)}\tSkipped: {len(rows) - shown}\tFound: {shown}\n")
    if not shown:
        if host:
            out.append(f"{host} ({host}) -- no entry\n")
        elif device:
            out.append(f"arp: in {len(rows)} entries no match found.\n")
    return Result(0, "".join(out))
