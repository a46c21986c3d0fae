"""`ifconfig` as net-tools 2.10 prints and sets it (Debian 12, ifconfig(8), lib/interface.c).

Shown: `ifconfig` (interfaces that are up), `ifconfig -a`, `ifconfig IF`, in
`ife_print_long`'s format, read from /sys/class/net and the node's addresses
(`ip -j addr`: the first IPv4 address labelled IF is the one SIOCGIFADDR
returns). Set: `ifconfig IF [inet] ADDR[/LEN] [netmask M] [broadcast B]
[mtu N] [up|down]` with the kernel's SIOCSIFADDR semantics (net/ipv4/devinet.c
`devinet_ioctl`): the primary address is replaced, its prefix is the address's
class unless a netmask or /LEN is given, the broadcast is derived, the
interface is brought up; address 0 removes the primary address. Changes go
through `ip` (netplex.shell.ip). Refused in netplex's own words: aliases
(`eth0:1`), IPv6 (`add`/`del`, `inet6`), hardware addresses (`hw`) and the
other options.
"""
from __future__ import annotations

import json
import re

from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.shell.registry import Context, FileReadError, command, lookup
from netplex.shell.result import Result, unsupported

__all__ = ["ifconfig"]

# lib/interface.c ife_print_long: flag names in this order
_FLAGS = ((0x1, "UP"), (0x2, "BROADCAST"), (0x4, "DEBUG"), (0x8, "LOOPBACK"), (0x10, "POINTOPOINT"),
          (0x20, "NOTRAILERS"), (0x40, "RUNNING"), (0x80, "NOARP"), (0x100, "PROMISC"), (0x200, "ALLMULTI"),
          (0x800, "SLAVE"), (0x400, "MASTER"), (0x1000, "MULTICAST"), (0x8000, "DYNAMIC"))
_SCOPE = {"global": "0x0<global>", "link": "0x20<link>", "host": "0x10<host>", "site": "0x40<site>"}
_ADDR_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _ip(ctx: Context, *args: str) -> Result:
    ip = lookup("ip")
    assert ip is not None
    return ip(ctx, ["ip", *args])


def _sys(ctx: Context, dev: str, f: str) -> str:
    try:
        return (ctx.read_file(f"/sys/class/net/{dev}/{f}") or "").strip()
    except FileReadError:
        return ""


def _num(ctx: Context, dev: str, f: str) -> int:
    text = _sys(ctx, dev, f)
    return int(text, 0) if text else 0


def _scaled(n: int) -> str:
    """lib/interface.c print_bytes_scaled: powers of 1000, one decimal."""
    units = ("B", "KB", "MB", "GB", "TB")
    value, i = float(n), 0
    while value >= 1000 and i < len(units) - 1:
        value, i = value / 1000, i + 1
    return f"{value:.1f} {units[i]}"


def _addr_info(ctx: Context, dev: str) -> list[dict[str, object]]:
    r = _ip(ctx, "-j", "addr", "show", "dev", dev)
    if r.status != 0 or not r.output.strip():
        return []
    info: list[dict[str, object]] = json.loads(r.output)[0].get("addr_info", [])
    return info


def _primary(ctx: Context, dev: str) -> dict[str, object] | None:
    for a in _addr_info(ctx, dev):
        if a.get("family") == "inet" and a.get("label") == dev:
            return a
    return None


def _mask(prefixlen: int) -> int:
    return (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF if prefixlen else 0


def _show(ctx: Context, dev: str) -> str:
    flags = _num(ctx, dev, "flags")
    if flags & 0x1 and _num(ctx, dev, "carrier"):
        flags |= 0x40   # IFF_RUNNING, as SIOCGIFFLAGS (dev_get_flags) reports it
    names = ",".join(name for bit, name in _FLAGS if flags & bit)
    out = [f"{dev}: flags={flags}<{names}>  mtu {_num(ctx, dev, 'mtu')}\n"]
    info = _addr_info(ctx, dev)
    prim = next((a for a in info if a.get("family") == "inet" and a.get("label") == dev), None)
    if prim is not None:
        line = f"        inet {prim['local']}  netmask {int_to_ip(_mask(int(str(prim['prefixlen']))))}"
        if "broadcast" in prim:
            line += f"  broadcast {prim['broadcast']}"
        out.append(line + "\n")
    for a in info:
        if a.get("family") == "inet6":
            out.append(f"        inet6 {a['local']}  prefixlen {a['prefixlen']}  "
                       f"scopeid {_SCOPE.get(str(a.get('scope')), '0x0<global>')}\n")
    txq = _num(ctx, dev, "tx_queue_len")
    if _num(ctx, dev, "type") == 772:
        out.append(f"        loop  txqueuelen {txq}  (Local Loopback)\n")
    else:
        out.append(f"        ether {_sys(ctx, dev, 'address')}  txqueuelen {txq}  (Ethernet)\n")

    def st(k: str) -> int:
        return _num(ctx, dev, f"statistics/{k}")

    out.append(f"        RX packets {st('rx_packets')}  bytes {st('rx_bytes')} ({_scaled(st('rx_bytes'))})\n"
               f"        RX errors {st('rx_errors')}  dropped {st('rx_dropped')}  overruns {st('rx_fifo_errors')}"
               f"  frame {st('rx_frame_errors')}\n"
               f"        TX packets {st('tx_packets')}  bytes {st('tx_bytes')} ({_scaled(st('tx_bytes'))})\n"
               f"        TX errors {st('tx_errors')}  dropped {st('tx_dropped')} overruns {st('tx_fifo_errors')}"
               f"  carrier {st('tx_carrier_errors')}  collisions {st('collisions')}\n\n")
    return "".join(out)


def _nstr_key(dev: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", dev)]


def _set_addr(ctx: Context, dev: str, addr: str, plen: int | None, bcast: str | None) -> Result | None:
    """SIOCSIFADDR (+ SIOCSIFNETMASK, SIOCSIFBRDADDR): replace the primary address."""
    old = _primary(ctx, dev)
    a = ip_to_int(addr)
    if old is not None:
        r = _ip(ctx, "addr", "del", f"{old['local']}/{old['prefixlen']}", "dev", dev)
        if r.status != 0:
            return r
    if a == 0:
        return None   # inet_set_ifa frees a zero address: the primary address is gone
    if plen is None:   # inet_abc_len: the address's class
        plen = 8 if a >> 31 == 0 else 16 if a >> 30 == 2 else 24
    args = ["addr", "add", f"{addr}/{plen}"]
    if bcast is not None:
        args += ["broadcast", bcast]
    elif plen < 31:
        args += ["broadcast", int_to_ip(a | (~_mask(plen) & 0xFFFFFFFF))]
    r = _ip(ctx, *args, "dev", dev)
    return r if r.status != 0 else None


@command("ifconfig")
def ifconfig(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    show_all = False
    while args and args[0].startswith("-"):
        if args[0] in ("-a", "--all"):
            show_all = True
        elif args[0] in ("-s", "-v", "--verbose", "--short"):
            return unsupported(f"ifconfig {args[0]}")
        else:
            return Result(1, "", f"ifconfig: option `{args[0]}' not recognised.\n"
                                 "ifconfig: `--help' gives usage information.\n")
        args = args[1:]
    names = ctx.list_dir("/sys/class/net") or []
    if not args:
        shown = [d for d in sorted(names, key=_nstr_key) if show_all or _num(ctx, d, "flags") & 0x1]
        return Result(0, "".join(_show(ctx, d) for d in shown), "")
    dev, rest = args[0], args[1:]
    if ":" in dev:
        return unsupported("ifconfig aliases (IF:N)")
    if dev not in names:
        if not rest:
            return Result(1, "", f"{dev}: error fetching interface information: Device not found\n")
        return Result(255, "", f"SIOCSIFFLAGS: No such device\n{dev}: ERROR while getting interface flags: "
                               "No such device\n")
    if not rest:
        return Result(0, _show(ctx, dev), "")
    addr: str | None = None
    plen: int | None = None
    bcast: str | None = None
    link: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        value = rest[i + 1] if i + 1 < len(rest) else None
        if word == "inet":
            i += 1
            continue
        if word in ("up", "down"):
            link.append(word)
        elif word in ("netmask", "broadcast", "mtu"):
            if value is None:
                return Result(1, "", f"ifconfig: {word} requires an argument\n")
            if word == "mtu":
                if not value.isdigit():
                    return Result(1, "", f"ifconfig: invalid mtu {value}\n")
                link += ["mtu", value]
            elif not _ADDR_RE.match(value):
                return Result(1, "", f"{value}: Unknown host\nifconfig: `--help' gives usage information.\n")
            elif word == "netmask":
                m = ip_to_int(value)
                plen = bin(m).count("1")
                if _mask(plen) != m:
                    return Result(1, "", "SIOCSIFNETMASK: Invalid argument\n")
            else:
                bcast = value
            i += 2
            continue
        elif addr is None and _ADDR_RE.match(word.split("/")[0]) or word == "0":
            addr, _, length = word.partition("/")
            addr = "0.0.0.0" if addr == "0" else addr
            if length:
                if not length.isdigit() or int(length) > 32:
                    return Result(1, "", f"{word}: Unknown host\nifconfig: `--help' gives usage information.\n")
                plen = int(length)
        else:
            return unsupported(f"ifconfig {word}")
        i += 1
    if addr is not None:
        failed = _set_addr(ctx, dev, addr, plen, bcast)
        if failed is not None:
            return Result(1, "", failed.error)
        if ip_to_int(addr) != 0 and "down" not in link:
            link.append("up")   # ifconfig.c sets IFF_UP|IFF_RUNNING after SIOCSIFADDR
    elif plen is not None or bcast is not None:
        old = _primary(ctx, dev)
        if old is None:
            return Result(1, "", "SIOCSIFNETMASK: Cannot assign requested address\n")
        failed = _set_addr(ctx, dev, str(old["local"]), plen if plen is not None else int(str(old["prefixlen"])),
                           bcast)
        if failed is not None:
            return Result(1, "", failed.error)
    if link:
        r = _ip(ctx, "link", "set", dev, *link)
        if r.status != 0:
            return Result(1, "", r.error)
    return Result(0, "", "")
