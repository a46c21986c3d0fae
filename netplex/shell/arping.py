"""`arping` as iputils-arping does it (Debian 12, iputils 20221126, arping.c), on the simulated clock.

Sends ARP requests (or, with -A, replies) for DESTINATION out of one device through an
AF_PACKET socket (stack/af_packet.py) and prints each answer, then its counts:

    ARPING 10.0.0.2 from 10.0.0.1 eth0
    Unicast reply from 10.0.0.2 [02:00:00:00:00:02]  0.535ms
    Sent 1 probes (1 broadcast(s))
    Received 1 response(s)

-U (unsolicited request) and -A (unsolicited reply) announce the address itself (sender
and target both DESTINATION, which must be local): a gratuitous ARP, what Neutron's L3
agent sends for a router's gateway and floating IPs (ip_lib.send_ip_addr_adv_notif) so
the neighbours' caches move to the new MAC (stack/arp.py decides what a receiver keeps:
an existing entry is overridden, a new one is made only with arp_accept). -D is duplicate
address detection (sender 0.0.0.0; status 1 when someone answers for the address). -c, -w
and -i take whole numbers, as this version's strtol_or_err does (`-w 1.5` is refused);
the timers are arping's: a packet at once and at each -i tick, the run ending when -c is
exceeded at a tick, at -w, at the -c-th reply with -w, at the first reply with -f or -D,
or right after the -c-th packet with -U/-A. Without -c and -w arping runs until
interrupted: netplex refuses that outside a terminal. Exit status as arping's finish().
"""
from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from netplex.packet.addr import int_to_ip
from netplex.packet.arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from netplex.packet.ethernet import ETH_P_ARP
from netplex.shell.registry import Context, command
from netplex.shell.resolv import GaiError, gethostbyname
from netplex.shell.result import Result, unsupported
from netplex.stack.af_packet import PACKET_HOST, PACKET_MULTICAST, SOCK_DGRAM, SockaddrLl
from netplex.stack.if_flags import IFF_LOOPBACK, IFF_NOARP, IFF_UP

if TYPE_CHECKING:
    from netplex.stack.device import NetDevice

__all__ = ["arping"]

NSEC_PER_SEC = 1_000_000_000
INT_MAX = 2**31 - 1
EXIT_NS = 1_000_000   # a process's exit (1 ms): what a fire-and-forget run costs on the clock
BROADCAST = b"\xff" * 6
USAGE = """
Usage:
  arping [options] <destination>

Options:
  -f            quit on first reply
  -q            be quiet
  -b            keep on broadcasting, do not unicast
  -D            duplicate address detection mode
  -U            unsolicited ARP mode, update your neighbours
  -A            ARP answer mode, update your neighbours
  -V            print version and exit
  -c <count>    how many packets to send
  -w <timeout>  how long to wait for a reply
  -i <interval> set interval between packets (default: 1 second)
  -I <device>   which ethernet device to use
  -s <source>   source ip address
  <destination> dns name or ip address

For more details see arping(8).
"""
VERSION = ("arping from iputils 20221126\n"
           "libcap: yes, IDN: yes, NLS: no, error.h: yes, getrandom(): yes, __fpending(): yes\n")


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02X}" for x in b)


def _strtol(val: str, lo: int) -> int | Result:
    """iputils' strtol_or_err(optarg, "invalid argument", lo, INT_MAX)."""
    body = val.strip(" \t\n")
    digits = body[1:] if body[:1] in "+-" else body
    if not val or not digits.isdigit() or body != val.lstrip(" \t\n"):
        return Result(1, "", f"arping: invalid argument: '{val}'\n")
    n = int(body)
    if not lo <= n <= INT_MAX:
        return Result(1, "", f"arping: invalid argument: '{val}': out of range: {lo} <= value <= {INT_MAX}\n")
    return n


@command("arping")
def arping(ctx: Context, argv: list[str]) -> Result:
    """arping(8): ARP requests, gratuitous ARP (-U, -A) and duplicate address detection (-D)."""
    flags: set[str] = set()
    count, timeout, interval = -1, 0, 1
    device: str | None = None
    source: str | None = None
    operands: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):   # getopt(argc, argv, "h?bfDUAqc:w:i:s:I:V")
        a = args[i]
        i += 1
        if a == "--":
            operands += args[i:]
            break
        if not a.startswith("-") or a == "-":
            operands.append(a)
            continue
        j = 1
        while j < len(a):
            opt = a[j]
            j += 1
            if opt in "cwisI":
                if j < len(a):
                    val, j = a[j:], len(a)
                elif i < len(args):
                    val, i = args[i], i + 1
                else:
                    return Result(2, "", f"arping: option requires an argument -- '{opt}'\n{USAGE}")
                if opt in "cwi":
                    n = _strtol(val, 1 if opt == "c" else 0)
                    if isinstance(n, Result):
                        return n
                    if opt == "c":
                        count = n
                    elif opt == "w":
                        timeout = n
                    else:
                        interval = n
                elif opt == "s":
                    source = val
                else:
                    device = val
            elif opt in "bfDUAq":
                flags.add(opt)
            elif opt == "V":
                return Result(0, VERSION)
            else:
                lead = "" if opt in "h?" else f"arping: invalid option -- '{opt}'\n"
                return Result(2, "", lead + USAGE)
    if len(operands) != 1:
        return Result(2, "", USAGE)
    dad, unsolicited, advert = "D" in flags, bool(flags & {"U", "A"}), "A" in flags
    quiet, quit_on_reply, broadcast_only = "q" in flags, bool(flags & {"f", "D"}), "b" in flags
    ns = ctx.node
    target = operands[0]
    found = gethostbyname(ctx, target)
    if isinstance(found, GaiError):
        return Result(2, "", f"arping: {target}: {found.value}\n")
    gdst = found[0]
    if device == "":
        device = None
    if device is None:   # guess_device: the route to the target (RTM_GETROUTE)
        rt = ns.ip_route_output(gdst)
        if isinstance(rt, int):
            return Result(1, "", "arping: NETLINK_ROUTE unexpected iov element\n")
        device = rt.dev.name
    dev = ns.devices.get(device)
    if dev is None:
        return Result(2, "", f"arping: Device {device} not available.\n")
    if not dev.flags() & IFF_UP:   # check_ifflags
        return Result(2, "" if quiet else f'Interface "{device}" is down\n')
    if dev.flags() & (IFF_NOARP | IFF_LOOPBACK):
        return Result(0 if dad else 2, "" if quiet else f'Interface "{device}" is not ARPable\n')
    gsrc = 0
    if source is not None:
        try:
            gsrc = int.from_bytes(socket.inet_aton(source), "big")
        except OSError:
            return Result(2, "", f"arping: invalid source {source}\n")
    elif unsolicited and not dad:
        gsrc = gdst
    if (not dad or source is not None) and (source is not None or gsrc):
        if not ns.is_local_addr(gsrc):   # bind(probe_fd, gsrc)
            return Result(2, "", "arping: bind: Cannot assign requested address\n")
    elif not dad:   # connect(probe_fd, target) with SO_DONTROUTE on the device: its source address
        rt = ns.ip_route_output(gdst, oif=dev)
        if isinstance(rt, int) or not rt.src:
            return Result(2, "", "arping: connect: Network is unreachable\n")
        gsrc = rt.src
    if count < 0 and not timeout and ctx.terminal is None:
        return unsupported("arping without -c COUNT or -w DEADLINE",
                           "it runs until interrupted; give -c or -w outside an interactive terminal")
    return _run(ctx, dev, gdst, gsrc, count, timeout, interval, dad=dad, unsolicited=unsolicited, advert=advert,
                quiet=quiet, quit_on_reply=quit_on_reply, broadcast_only=broadcast_only)


def _run(ctx: Context, dev: NetDevice, gdst: int, gsrc: int, count: int, timeout: int, interval: int, *, dad: bool,
         unsolicited: bool, advert: bool, quiet: bool, quit_on_reply: bool, broadcast_only: bool) -> Result:
    """arping's event_loop and finish on the simulated clock."""
    ns = ctx.node
    net = ns.world
    sched = net.sched
    sock = ns.sockets.packet_socket(SOCK_DGRAM, ETH_P_ARP)
    sock.bind(dev.ifindex)
    me = dev.mac
    out: list[str] = [] if quiet else [f"ARPING {int_to_ip(gdst)} from {int_to_ip(gsrc)} {dev.name}"]
    he = BROADCAST
    unicasting = False
    sent = brd_sent = received = brd_recv = req_recv = 0
    last = 0

    def send() -> None:
        nonlocal sent, brd_sent, last
        arp = Arp(ARPOP_REPLY if advert else ARPOP_REQUEST, me, gsrc, me if advert else he, gdst)
        if sock.sendto(arp.encode(), dst_mac=he, protocol=ETH_P_ARP) == 0:
            last = sched.now
            sent += 1
            if not unicasting:
                brd_sent += 1

    def recv(data: bytes, sll: SockaddrLl) -> bool:
        """recv_pack: True when this answer ends the run (FINAL_PACKS)."""
        nonlocal received, brd_recv, req_recv, he, unicasting
        if sll.pkttype > PACKET_MULTICAST:
            return False
        try:
            a = Arp.decode(data)
        except ValueError:
            return False
        if a.op not in (ARPOP_REQUEST, ARPOP_REPLY) or a.hwtype != 1 or a.ptype != 0x0800:
            return False
        if not dad:
            if a.spa != gdst or a.tpa != gsrc or a.tha != me:
                return False
        elif a.spa != gdst or a.sha == me or (gsrc and gsrc != a.tpa):
            return False
        if not quiet:
            line = (f"{'Unicast' if sll.pkttype == PACKET_HOST else 'Broadcast'} "
                    f"{'reply' if a.op == ARPOP_REPLY else 'request'} from {int_to_ip(a.spa)} [{_mac(a.sha)}] ")
            said = a.tpa != gsrc
            if said:
                line += f"for {int_to_ip(a.tpa)} "
            if a.tha != me:
                line += ("" if said else "for ") + f"[{_mac(a.tha)}]"
            usecs = (sched.now - last + 500) // 1000
            out.append(line + f" {usecs // 1000}.{usecs % 1000:03d}ms")
        received += 1
        if timeout and received == count:
            return True
        if sll.pkttype != PACKET_HOST:
            brd_recv += 1
        if a.op == ARPOP_REQUEST:
            req_recv += 1
        if quit_on_reply:
            return True
        if not broadcast_only:
            he, unicasting = a.sha, True
        return False

    start = sched.now
    deadline = start + timeout * NSEC_PER_SEC if timeout else None
    next_tick = start + interval * NSEC_PER_SEC if interval else None
    total_expires = 1
    send()
    try:
        while not (unsolicited and sent == count):
            if ctx.terminal is not None and ctx.terminal.interrupted():
                break
            wake = min(t for t in (next_tick, deadline) if t is not None) if (next_tick or deadline) else None
            if wake is None:
                break
            net.run_until(lambda: bool(sock.rxq), max(0, wake - sched.now))
            if sock.rxq:
                data, sll = sock.rxq.pop(0)
                if recv(data, sll):
                    break
                continue
            if next_tick is not None and sched.now >= next_tick:   # the interval timer first, as poll's order
                total_expires += 1
                if 0 < count < total_expires:
                    break
                send()
                next_tick += interval * NSEC_PER_SEC
            if deadline is not None and sched.now >= deadline:
                break
        if unsolicited and sent == count:
            # arping exits right after its last packet; the process's exit takes longer than the
            # frame's way across the segment, so the neighbours have it when the next command runs
            net.run_until(lambda: False, EXIT_NS)
    finally:
        sock.close()
    if not quiet:
        tail = ""
        if brd_recv or req_recv:
            parts = ([f"{req_recv} request(s)"] if req_recv else []) + ([f"{brd_recv} broadcast(s)"] if brd_recv else [])
            tail = f" ({', '.join(parts)})"
        out += [f"Sent {sent} probes ({brd_sent} broadcast(s))", f"Received {received} response(s){tail}"]
    if dad:
        status = 1 if received else 0
    elif unsolicited:
        status = 0
    elif timeout and count > 0 and not quit_on_reply:
        status = 0 if count <= received else 1
    else:
        status = 0 if received else 1
    return Result(status, "".join(line + "\n" for line in out))
