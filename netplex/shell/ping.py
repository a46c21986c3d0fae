"""`ping` as iputils (Debian 12, iputils 20221126) does it, on the simulated clock.

Sends ICMP echo requests every interval, prints each reply and each ICMP
error in iputils' words, and closes with its statistics. Waiting costs
simulated time only. Options: -b -c -i -W -w -s -t -I -q -n; anything else is
refused with iputils' usage error. `ping_run` is also what the scenario
`ping` probe uses, so the shell and the probe cannot disagree.

Without -c or -w, iputils pings until SIGINT. At an interactive terminal
(`netplex shell`) netplex does the same: each line is written as it comes,
simulated time is paced to wall time, and Ctrl-C ends it with the statistics.
Anywhere else (a setup line, a `cmd` probe, a pipe) nothing would ever stop
it, so it stops after UNBOUNDED_LIMIT_NS of simulated time (60 s, or
UNBOUNDED_MAX_PACKETS sent when -i is 0) with the statistics and an error
(status 2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.icmp import ICMP_DEST_UNREACH, ICMP_REDIRECT, ICMP_TIME_EXCEEDED
from netplex.shell.registry import Context, Terminal, command
from netplex.shell.resolv import GaiError, gethostbyname, getnameinfo
from netplex.shell.result import Result, unsupported
from netplex.stack.sockets import ERRNO_TEXT

NSEC_PER_SEC = 1_000_000_000
MAXWAIT_NS = 10 * NSEC_PER_SEC
UNBOUNDED_LIMIT_NS = 60 * NSEC_PER_SEC   # a ping without -c or -w, off a terminal: stops here
UNBOUNDED_MAX_PACKETS = 100_000          # ... or here, if -i 0 keeps simulated time from passing

UNREACH_TEXT = {
    0: "Destination Net Unreachable", 1: "Destination Host Unreachable",
    2: "Destination Protocol Unreachable", 3: "Destination Port Unreachable",
    5: "Source Route Failed", 6: "Destination Net Unknown", 7: "Destination Host Unknown",
    8: "Source Host Isolated", 9: "Destination Net Prohibited", 10: "Destination Host Prohibited",
    11: "Destination Net Unreachable for Type of Service",
    12: "Destination Host Unreachable for Type of Service", 13: "Packet filtered",
    14: "Precedence Violation", 15: "Precedence Cutoff",
}

REDIRECT_TEXT = {0: "Redirect Network", 1: "Redirect Host", 2: "Redirect Type of Service and Network",
                 3: "Redirect Type of Service and Host"}


@dataclass
class PingStats:
    """What one ping run did: the figures iputils prints and the probe reports."""

    transmitted: int = 0
    received: int = 0
    errors: int = 0
    repeats: int = 0
    pipesize: int = 0
    rtts_us: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    elapsed_ms: int = 0
    fatal: str | None = None
    warnings: list[str] = field(default_factory=list)   # on stderr, before the replies
    printed: int = 0          # lines already written to the terminal as they came
    interrupted: bool = False  # stopped by Ctrl-C (the terminal's) or by the unbounded limit


def ping_run(node: Any, dst: int, count: int | None = 1, interval_ns: int = NSEC_PER_SEC,
             timeout_ns: int | None = None, deadline_ns: int | None = None, size: int = 56,
             ttl: int | None = None, oif: Any = None, src: int | None = None, quiet: bool = False,
             broadcast: bool = False, terminal: Terminal | None = None,
             max_packets: int | None = None, target: str | None = None,
             names: dict[int, str] | None = None) -> PingStats:
    """Run ping on `node` (a Namespace) until done; returns its statistics.

    With `terminal`, lines are written to it as they come and the run stops when it is
    interrupted; `max_packets` stops an unbounded run (count None) after that many. `target`
    is the name the user gave (the header's `PING db (172.18.0.3)`); with `names` (a name was
    given and no -n) addresses print as iputils' pr_addr prints them, `NAME (ADDR)`: the
    reverse lookup's name, or the address again.
    """
    ns = node
    net = ns.world
    sched = net.sched
    st = PingStats()
    ident = net.rng.randrange(1, 65536)
    sock = ns.sockets.ping_socket(ident)
    sent_at: dict[int, int] = {}
    answered: set[int] = set()
    dst_s = int_to_ip(dst)

    def pr_addr(addr: int) -> str:
        a = int_to_ip(addr)
        return a if names is None else f"{names.get(addr, a)} ({a})"

    def on_reply(ip: Any, icmp: Any) -> None:
        seq = icmp.seq
        if seq not in sent_at or ip.src != dst and dst != 0xFFFFFFFF and not broadcast:
            return
        rtt_us = (sched.now - sent_at[seq]) // 1000
        dup = seq in answered
        answered.add(seq)
        acknowledge(seq)
        if not dup:
            st.received += 1
            st.rtts_us.append(rtt_us)
        else:
            st.repeats += 1
        if not quiet:
            st.lines.append(f"{len(icmp.payload) + 8} bytes from {pr_addr(ip.src)}: icmp_seq={seq} "
                            f"ttl={ip.ttl} time={_fmt_rtt(rtt_us)}" + (" (DUP!)" if dup else ""))

    def on_error(ip: Any, icmp: Any) -> None:
        q = icmp.payload
        ihl = (q[0] & 15) * 4 if q else 20
        seq = int.from_bytes(q[ihl + 6:ihl + 8], "big") if len(q) >= ihl + 8 else 0
        if seq not in sent_at:
            return
        if icmp.type == ICMP_REDIRECT:
            # ping4_parse_reply: a redirect is no error and answers nothing; only printed
            if not quiet:
                st.lines.append(f"From {pr_addr(ip.src)}: icmp_seq={seq} "
                                f"{REDIRECT_TEXT.get(icmp.code, f'Redirect, Bad Code: {icmp.code}')}"
                                f"(New nexthop: {int_to_ip(icmp.rest)})")
            return
        st.errors += 1
        answered.add(seq)
        acknowledge(seq)
        if icmp.type == ICMP_DEST_UNREACH:
            if icmp.code == 4:
                text = f"Frag needed and DF set (mtu = {icmp.rest & 0xFFFF})"
            else:
                text = UNREACH_TEXT.get(icmp.code, f"Dest Unreachable, Bad Code: {icmp.code}")
        elif icmp.type == ICMP_TIME_EXCEEDED:
            text = "Time to live exceeded" if icmp.code == 0 else "Frag reassembly time exceeded"
        else:
            text = f"Bad ICMP type: {icmp.type}"
        if not quiet:
            st.lines.append(f"From {pr_addr(ip.src)} icmp_seq={seq} {text}")

    def acknowledge(seq: int) -> None:
        """iputils' pipe size: how many probes were outstanding when this one was answered."""
        st.pipesize = max(st.pipesize, st.transmitted - seq + 1)

    sock.on_reply = on_reply
    sock.on_error = on_error
    # iputils connects a UDP probe socket first to learn the source address
    rt = ns.ip_route_output(dst, oif, src)
    if isinstance(rt, int):
        sock.close()
        if rt == 13:   # EACCES from connect(): iputils suspects a broadcast address
            st.fatal = "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules"
        else:
            st.fatal = f"ping: connect: {ERRNO_TEXT.get(rt, 'Unknown error')}"
        return st
    if rt.type == "broadcast" and dst >> 28 != 14 and src is None:
        # connect() of the probe socket to a broadcast address without SO_BROADCAST: EACCES
        if not broadcast:
            sock.close()
            st.fatal = "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules"
            return st
        st.warnings.append("WARNING: pinging broadcast address")
    if oif is not None and src is None and not any(
            a.addr == rt.src and a.label == oif.name for a in ns.addrs.get(oif.ifindex, [])):
        # ping4_run: getifaddrs has no address named DEVICE (its label) that is the source chosen
        st.warnings.append(f"ping: Warning: source address might be selected on device other than: {oif.name}")
    # iputils: "from SOURCE DEVICE: " when bound to a device or a source address (-I)
    via = f"from {int_to_ip(rt.src if src is None else src)} {oif.name if oif is not None else ''}: " \
        if oif is not None or src is not None else ""
    st.lines.append(f"PING {target or dst_s} ({dst_s}) {via}{size}({size + 28}) bytes of data.")
    start = sched.now
    payload_tail = bytes(i & 0xFF for i in range(16, max(size, 16)))
    seq = 0
    last_send = start

    def done() -> bool:
        return count is not None and st.transmitted >= count and st.received + st.errors >= count

    next_send = start
    end_wait: int | None = None
    while True:
        if terminal is not None:
            if st.lines[st.printed:]:
                terminal.write("".join(line + "\n" for line in st.lines[st.printed:]))
                st.printed = len(st.lines)
            if terminal.interrupted():
                st.interrupted = True
                break
        if count is None or st.transmitted < count:
            if deadline_ns is not None and sched.now - start >= deadline_ns:
                break
            if max_packets is not None and st.transmitted >= max_packets:
                break
            seq += 1
            now = sched.now
            ts = (now // NSEC_PER_SEC).to_bytes(8, "little") + ((now % NSEC_PER_SEC) // 1000).to_bytes(8, "little")
            payload = (ts + payload_tail)[:size] if size >= 16 else bytes(size)
            sent_at[seq] = now
            last_send = now
            err = sock.send(dst, seq, payload, ttl=ttl, oif=oif, src=src)
            st.transmitted += 1
            if err:
                st.errors += 1
                answered.add(seq)
                st.lines.append(f"ping: sendmsg: {ERRNO_TEXT.get(err, 'Unknown error')}")
            next_send = now + interval_ns
        if done():
            break
        if count is not None and st.transmitted >= count:
            if end_wait is None:
                # __schedule_exit: two of the longest RTTs (at least one interval)
                # once anything came back, else the linger time (-W, or 10 s)
                if st.received:
                    wait = max(2 * max(st.rtts_us) * 1000, interval_ns)
                else:
                    wait = timeout_ns if timeout_ns is not None else MAXWAIT_NS
                end_wait = sched.now + wait
                if deadline_ns is not None:
                    end_wait = start + deadline_ns
            net.run_until(done, max(0, end_wait - sched.now))
            break
        limit = next_send
        if deadline_ns is not None:
            limit = min(limit, start + deadline_ns)
        before = sched.now
        net.sched.run(until=limit)
        if terminal is not None:
            terminal.tick(sched.now - before)
    sock.close()
    st.elapsed_ms = ((last_send - start) // 1000 + 500) // 1000
    return st


def _fmt_rtt(us: int) -> str:
    """iputils' precision: 3 decimals under 1 ms, 2 under 10, 1 under 100, none above."""
    if us >= 100000 - 50:
        return f"{(us + 500) // 1000} ms"
    if us >= 10000 - 5:
        return f"{(us + 50) // 1000}.{((us + 50) % 1000) // 100} ms"
    if us >= 1000:
        return f"{(us + 5) // 1000}.{((us + 5) % 1000) // 10:02d} ms"
    return f"{us // 1000}.{us % 1000:03d} ms"


def format_summary(dst_s: str, st: PingStats) -> list[str]:
    """iputils' finish(): the statistics block, with its integer arithmetic."""
    lines = ["", f"--- {dst_s} ping statistics ---"]
    text = f"{st.transmitted} packets transmitted, {st.received} received"
    if st.repeats:
        text += f", +{st.repeats} duplicates"
    if st.errors:
        text += f", +{st.errors} errors"
    if st.transmitted:
        loss = (st.transmitted - st.received) * 100.0 / st.transmitted
        text += f", {_fmt_g(loss)}% packet loss, time {st.elapsed_ms}ms"
    lines.append(text)
    extra = []
    if st.rtts_us:
        n = len(st.rtts_us)
        tsum = sum(st.rtts_us) // n
        tsum2 = sum(t * t for t in st.rtts_us) // n
        mdev = math.isqrt(max(0, tsum2 - tsum * tsum))
        mn, mx = min(st.rtts_us), max(st.rtts_us)
        extra.append(f"rtt min/avg/max/mdev = {mn // 1000}.{mn % 1000:03d}/{tsum // 1000}.{tsum % 1000:03d}/"
                     f"{mx // 1000}.{mx % 1000:03d}/{mdev // 1000}.{mdev % 1000:03d} ms")
    if st.pipesize > 1:
        extra.append(f"pipe {st.pipesize}")
    lines.append(", ".join(extra))   # iputils ends with a newline even when this line is empty
    return lines


def _fmt_g(x: float) -> str:
    """C's %g: six significant digits, no trailing zeros."""
    return f"{x:g}"


USAGE = "\nUsage\n  ping [options] <destination>\n"
# iputils 20221126's option letters (ping/ping.c getopt string): the ones netplex
# does not model are refused in netplex's words, any other letter is iputils' usage error
_IPUTILS_OPTIONS = frozenset("346aAbBcCdDefFhHiIlLmMnNOpqQrRsStTUvVwW")


def _bad(msg: str) -> Result:
    return Result(2, "", f"ping: {msg}\n")


@command("ping")
def ping(ctx: Context, argv: list[str]) -> Result:
    ns = ctx.node
    count: int | None = None
    interval = NSEC_PER_SEC
    timeout: int | None = None
    deadline: int | None = None
    size = 56
    ttl: int | None = None
    oif = None
    src = None
    quiet = False
    broadcast = False
    numeric = False
    dest = None
    args = argv[1:]
    i = 0
    with_arg = set("ciWwstI")
    while i < len(args):
        a = args[i]
        if a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                opt = a[j]
                if opt in with_arg:
                    val = a[j + 1:] if j + 1 < len(a) else (args[i + 1] if i + 1 < len(args) else None)
                    if j + 1 >= len(a):
                        i += 1
                    if val is None:
                        return Result(2, "", f"ping: option requires an argument -- '{opt}'{USAGE}")
                    try:
                        if opt == "c":
                            count = int(val)
                            if count <= 0:
                                return _bad(f"invalid argument: '{val}': out of range: 1 <= value <= 9223372036854775807")
                        elif opt in "iWw":
                            f = float(val)
                            if not 0 <= f < 2**31:   # negative, inf or nan
                                raise ValueError
                            nsv = int(round(f * NSEC_PER_SEC))
                            if opt == "i":
                                interval = nsv
                            elif opt == "W":
                                timeout = nsv
                            else:
                                deadline = nsv
                        elif opt == "s":
                            size = int(val)
                            if not 0 <= size <= 65507:
                                return _bad(f"invalid argument: '{val}': out of range: 0 <= value <= 2147483647")
                        elif opt == "t":
                            ttl = int(val)
                            if not 0 <= ttl <= 255:
                                return _bad(f"invalid argument: '{val}': out of range: 0 <= value <= 255")
                        elif opt == "I":
                            try:
                                src = ip_to_int(val)
                            except ValueError:
                                oif = ns.devices.get(val)
                                if oif is None:
                                    return _bad(f"SO_BINDTODEVICE {val}: No such device")
                    except ValueError:
                        return _bad(f"invalid argument: '{val}'")
                    break
                if opt == "q":
                    quiet = True
                elif opt == "b":
                    broadcast = True
                elif opt == "n":
                    numeric = True
                elif opt == "4":    # IPv4: all netplex's ping does
                    pass
                elif opt == "V":
                    return Result(0, "ping from iputils 20221126\n")
                elif opt == "h":
                    return Result(2, "", USAGE.lstrip("\n"))
                elif opt in _IPUTILS_OPTIONS:
                    return unsupported(f"ping -{opt}", "netplex's ping has -4 -b -c -i -I -n -q -s -t -W -w")
                else:
                    return Result(2, "", f"ping: invalid option -- '{opt}'{USAGE}")
                j += 1
        else:
            if dest is not None:
                return Result(2, "", USAGE.lstrip("\n"))
            dest = a
        i += 1
    if dest is None:
        return Result(2, "", "ping: usage error: Destination address required\n")
    names: dict[int, str] | None = None
    try:
        dst = ip_to_int(dest)
    except ValueError:
        found = gethostbyname(ctx, dest)
        if isinstance(found, GaiError):
            return _bad(f"{dest}: {found.value}")
        dst, dest = found[0], found[1][0]    # iputils names the target by its canonical name (AI_CANONNAME)
        if not numeric:     # iputils: a name given, replies are named by getnameinfo (reverse lookups)
            names = {dst: getnameinfo(ctx, dst)}
    unbounded = count is None and deadline is None
    terminal = ctx.terminal if unbounded else None
    if unbounded and terminal is None:
        deadline = UNBOUNDED_LIMIT_NS
    st = ping_run(ns, dst, count, interval, timeout, deadline, size, ttl, oif, src, quiet, broadcast,
                  terminal,
                  UNBOUNDED_MAX_PACKETS if unbounded and terminal is None else None, target=dest, names=names)
    if st.fatal:
        return Result(2, "", st.fatal + "\n")
    out = st.lines[st.printed:] + format_summary(dest, st)
    status = 0 if st.received else 1
    if unbounded and terminal is None:
        return Result(2, "\n".join(out) + "\n", "".join(w + "\n" for w in st.warnings) +
                      f"ping: netplex: no -c COUNT or -w DEADLINE: stopped after {st.transmitted} packets at netplex's "
                      f"limit ({UNBOUNDED_LIMIT_NS // NSEC_PER_SEC} s of simulated time or {UNBOUNDED_MAX_PACKETS} packets) "
                      "(only an interactive terminal pings until Ctrl-C)\n")
    return Result(status, "\n".join(out) + "\n", "".join(w + "\n" for w in st.warnings))
