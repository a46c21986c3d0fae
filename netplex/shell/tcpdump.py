"""`tcpdump` (tcpdump 4.99, libpcap filter syntax pcap-filter(7)) on the simulated clock.

How a capture gets frames in a synchronous shell: `tcpdump -i IF ...` opens an AF_PACKET
SOCK_RAW socket for ETH_P_ALL bound to IF (netplex.stack.af_packet, as libpcap's
pcap_activate_linux does) and then *runs the simulation* until `-c N` frames passed the
filter, or until CAPTURE_LIMIT_NS (60 s) of simulated time passed — what a user's Ctrl-C
after a minute would do. Frames come from whatever else the network does meanwhile:
timers, daemons (the scenario's services, iperf), traffic a test schedules. Each line is
tcpdump's one-line form (print-icmp.c, print-arp.c, print-udp.c, print-tcp.c, print-mpls.c:
each label entry, the reserved labels named with -v, the IPv4 packet under the stack or a hex
dump of what it cannot name) with the
time stamp as simulated time since 00:00:00 (the simulator's clock starts at 0), printed
`HH:MM:SS.uuuuuu`. The banner and the "N packets captured" counts go to stderr, as
tcpdump writes them. `-v` adds print-ip.c's header line (tos, ttl, id, offset, flags, proto,
length, a bad header checksum) and the TCP checksum check; -vv (and -vvv) the UDP checksum check
and every TCP segment's sequence number; -w, -r, -X, ... are refused, and so is tcpdump in a
background job (`tcpdump ... &`: the shell runs a job to completion before the next command).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from netplex.packet.addr import int_to_ip, ip_to_int, prefix_to_mask
from netplex.packet.checksum import inet_checksum, transport_checksum
from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported
from netplex.stack.af_packet import ETH_P_ALL, SOCK_RAW, SockaddrLl

__all__ = ["CAPTURE_LIMIT_NS", "Filter", "compile_filter", "format_frame", "tcpdump"]

NSEC_PER_SEC = 1_000_000_000
CAPTURE_LIMIT_NS = 60 * NSEC_PER_SEC
ETH_P_IP, ETH_P_ARP, ETH_P_8021Q, ETH_P_MPLS_UC = 0x0800, 0x0806, 0x8100, 0x8847
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP = 1, 6, 17
USAGE = ("Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]\n"
         "\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]\n"
         "\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]\n"
         "\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]\n"
         "\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]\n"
         "\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]\n"
         "\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]\n"
         "\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]\n")
ICMP_TYPES = {0: "echo reply", 3: "unreachable", 8: "echo request", 11: "time exceeded in-transit"}
UNREACH = {0: "net {} unreachable", 1: "host {} unreachable", 2: "{} protocol {} unreachable",
           3: "{} {} port {} unreachable"}
TCP_FLAGS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "."), (0x20, "U"),
             (0x40, "E"), (0x80, "W"))


class _FilterError(Exception):
    """A filter expression libpcap rejects: `tcpdump: <message>`, status 1."""


# -- the frame as the filter and the printer see it ----------------------------------

@dataclass(slots=True)
class Frame:
    """The fields of one captured frame the filter tests (parsed once from its bytes)."""

    data: bytes
    ethertype: int
    l3: bytes
    src: int | None = None        # IPv4 (or ARP sender/target) addresses
    dst: int | None = None
    proto: int | None = None
    sport: int | None = None
    dport: int | None = None
    l4: bytes = b""
    ip_len: int = 0
    ip_hl: int = 0
    labels: list[tuple[int, int, int, int]] | None = None   # MPLS: (label, tc, bottom of stack, ttl) each
    inner: Frame | None = None                               # MPLS: the IPv4 packet under the labels


def parse(data: bytes) -> Frame:
    etype = struct.unpack_from("!H", data, 12)[0] if len(data) >= 14 else 0
    off = 14
    while etype == ETH_P_8021Q and len(data) >= off + 4:
        etype = struct.unpack_from("!H", data, off + 2)[0]
        off += 4
    f = Frame(data, etype, data[off:])
    l3 = f.l3
    if etype == ETH_P_IP and len(l3) >= 20:
        f.ip_hl = (l3[0] & 0x0F) * 4
        f.ip_len = struct.unpack_from("!H", l3, 2)[0]
        f.proto = l3[9]
        f.src, f.dst = struct.unpack_from("!II", l3, 12)
        frag_off = struct.unpack_from("!H", l3, 6)[0] & 0x1FFF
        f.l4 = l3[f.ip_hl:f.ip_len]
        if f.proto in (IPPROTO_TCP, IPPROTO_UDP) and not frag_off and len(f.l4) >= 4:
            f.sport, f.dport = struct.unpack_from("!HH", f.l4, 0)
    elif etype == ETH_P_ARP and len(l3) >= 28:
        f.src, f.dst = struct.unpack_from("!I", l3, 14)[0], struct.unpack_from("!I", l3, 24)[0]
    elif etype == ETH_P_MPLS_UC:
        _mpls(f)
    return f


def _mpls(f: Frame) -> None:
    """The label stack (RFC 3032 §2.1) down to the bottom entry; under it IPv4 when the label is
    an IPv4 null (0, 3) or the first nibble says version 4, as print-mpls.c guesses."""
    labels = []
    o = 0
    while o + 4 <= len(f.l3):
        v = struct.unpack_from("!I", f.l3, o)[0]
        labels.append((v >> 12, (v >> 9) & 7, (v >> 8) & 1, v & 0xFF))
        o += 4
        if v & 0x100:
            break
    f.labels = labels
    rest = f.l3[o:]
    if labels and labels[-1][2] and len(rest) >= 20 and (labels[-1][0] in (0, 3) or rest[0] >> 4 == 4):
        f.inner = parse(f.data[:12] + b"\x08\x00" + rest)


# -- the filter: pcap-filter(7), the part netplex models -------------------------------

@dataclass(slots=True)
class Filter:
    """A compiled expression: `match(frame)`; an empty expression matches everything."""

    test: Any = None

    def match(self, f: Frame) -> bool:
        return True if self.test is None else bool(self.test(f))


_PROTOS = {"icmp": lambda f: f.ethertype == ETH_P_IP and f.proto == IPPROTO_ICMP,
           "tcp": lambda f: f.ethertype == ETH_P_IP and f.proto == IPPROTO_TCP,
           "udp": lambda f: f.ethertype == ETH_P_IP and f.proto == IPPROTO_UDP,
           "arp": lambda f: f.ethertype == ETH_P_ARP,
           "ip": lambda f: f.ethertype == ETH_P_IP}


def _tokens(expr: str) -> list[str]:
    out: list[str] = []
    for word in expr.replace("(", " ( ").replace(")", " ) ").replace("!", " ! ").split():
        out.append(word)
    return out


def compile_filter(words: list[str]) -> Filter:
    """Compile a pcap-filter expression (the words after the options, joined as tcpdump does).

    `and`/`&&` and `or`/`||` have equal precedence and group left to right; `not`/`!` binds
    tighter (pcap-filter(7)); primitives: [src|dst] host A, [src|dst] net A/LEN,
    [tcp|udp] [src|dst] port N, icmp, tcp, udp, arp, ip, mpls [LABEL] (what follows it tests the
    packet under the labels, as libpcap moves its offsets)."""
    toks = _tokens(" ".join(words))
    if not toks:
        return Filter()
    pos = 0
    under_mpls = False     # after `mpls`, what follows tests the packet under the labels (libpcap's offsets)

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise _FilterError("can't parse filter expression: syntax error")
        pos += 1
        return toks[pos - 1]

    def addr(word: str) -> int:
        try:
            return ip_to_int(word)
        except ValueError:
            raise _FilterError(f"can't parse filter expression: syntax error in \"{word}\"") from None

    def prim() -> Any:
        nonlocal under_mpls
        w = take()
        if w == "mpls":
            label = None
            if peek() is not None and peek().isdigit():  # type: ignore[union-attr]
                label = int(take())
                if label > 0xFFFFF:
                    raise _FilterError(f"MPLS label {label} greater than maximum 1048575")
            under_mpls = True

            def labelled(f: Frame) -> bool:
                return f.ethertype == ETH_P_MPLS_UC and bool(f.labels) and \
                    (label is None or (f.labels or [(0, 0, 0, 0)])[0][0] == label)
            return labelled
        if under_mpls and w not in ("(", "not", "!"):
            test = _prim_plain(w)
            return lambda f: f.inner is not None and test(f.inner)
        return _prim_plain(w)

    def _prim_plain(w: str) -> Any:
        if w in ("not", "!"):
            inner = prim()
            return lambda f: not inner(f)
        if w == "(":
            e = expr()
            if take() != ")":
                raise _FilterError("can't parse filter expression: syntax error")
            return e
        proto = None
        if w in ("tcp", "udp") and peek() in ("port", "src", "dst"):
            proto, w = w, take()
        if w in _PROTOS:
            return _PROTOS[w]
        direction = None
        if w in ("src", "dst"):
            direction, w = w, take()
        if w == "host":
            a = addr(take())
            if direction == "src":
                return lambda f: f.src == a
            if direction == "dst":
                return lambda f: f.dst == a
            return lambda f: a in (f.src, f.dst)
        if w == "net":
            spec = take()
            base, _, plen = spec.partition("/")
            try:
                n = int(plen) if plen else 32
            except ValueError:
                raise _FilterError(f"can't parse filter expression: syntax error in \"{spec}\"") from None
            if not 0 <= n <= 32:
                raise _FilterError("mask length must be <= 32")
            mask = prefix_to_mask(n)
            net = addr(base)
            if net & ~mask & 0xFFFFFFFF:
                raise _FilterError("non-network bits set in \"" + spec + "\"")

            def inside(a: int | None) -> bool:
                return a is not None and a & mask == net
            if direction == "src":
                return lambda f: inside(f.src)
            if direction == "dst":
                return lambda f: inside(f.dst)
            return lambda f: inside(f.src) or inside(f.dst)
        if w == "port":
            spec = take()
            if not spec.isdigit() or int(spec) > 65535:
                raise _FilterError(f"can't parse filter expression: syntax error in \"{spec}\"" if not spec.isdigit()
                                  else f"illegal port number {spec} > 65535")
            port = int(spec)
            protos = (IPPROTO_TCP,) if proto == "tcp" else (IPPROTO_UDP,) if proto == "udp" else \
                (IPPROTO_TCP, IPPROTO_UDP)

            def ported(f: Frame) -> bool:
                if f.ethertype != ETH_P_IP or f.proto not in protos:
                    return False
                if direction == "src":
                    return f.sport == port
                if direction == "dst":
                    return f.dport == port
                return port in (f.sport, f.dport)
            return ported
        raise _FilterError("can't parse filter expression: syntax error")

    def expr() -> Any:
        left = prim()
        while peek() in ("and", "&&", "or", "||"):
            op = take()
            right = prim()
            if op in ("and", "&&"):
                left = (lambda a, b: lambda f: a(f) and b(f))(left, right)
            else:
                left = (lambda a, b: lambda f: a(f) or b(f))(left, right)
        return left

    test = expr()
    if pos != len(toks):
        raise _FilterError("can't parse filter expression: syntax error")
    return Filter(test)


# -- printing: tcpdump 4.99's one-line forms ------------------------------------------

def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def timestamp(now_ns: int) -> str:
    """Simulated time since 00:00:00 as tcpdump's default `HH:MM:SS.uuuuuu` (wraps at a day)."""
    secs, ns = divmod(now_ns, NSEC_PER_SEC)
    h, rem = divmod(secs % 86400, 3600)
    return f"{h:02d}:{rem // 60:02d}:{rem % 60:02d}.{ns // 1000:06d}"


@dataclass(slots=True)
class TcpSeqs:
    """print-tcp.c's tcp_seq_hash: the initial sequence numbers of each direction, for
    relative numbers (tcpdump without -S)."""

    isn: dict[tuple[int, int, int, int], int] = field(default_factory=dict)


def _tcp_options(opts: bytes) -> str:
    out: list[str] = []
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            out.append("eol")
            break
        if kind == 1:
            out.append("nop")
            i += 1
            continue
        if i + 1 >= len(opts):
            break
        ln = opts[i + 1]
        body = opts[i + 2:i + ln]
        if kind == 2 and len(body) == 2:
            out.append(f"mss {struct.unpack('!H', body)[0]}")
        elif kind == 3 and len(body) == 1:
            out.append(f"wscale {body[0]}")
        elif kind == 4:
            out.append("sackOK")
        elif kind == 8 and len(body) == 8:
            val, ecr = struct.unpack("!II", body)
            out.append(f"TS val {val} ecr {ecr}")
        else:
            out.append(f"unknown-{kind}")
        i += max(ln, 2)
    return "options [" + ",".join(out) + "]"


_PROTO_NAMES = {1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 51: "AH", 132: "SCTP"}
_ECN = {1: "ECT(1)", 2: "ECT(0)", 3: "CE"}


def _ip_header(f: Frame) -> str:
    """print-ip.c's -v header: `(tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto ICMP (1),
    length 84)`, with `bad cksum` when the header's checksum does not hold."""
    h = f.l3
    tos, ttl = h[1], h[8]
    ident, frag = struct.unpack_from("!HH", h, 4)
    ecn = f",{_ECN[tos & 3]}" if tos & 3 else ""
    flags = "".join(name for bit, name in ((0x4000, "DF"), (0x2000, "MF"), (0x8000, "rsvd")) if frag & bit) or "none"
    name = _PROTO_NAMES.get(f.proto or 0, "unknown")
    s = (f"(tos 0x{tos & 0xFC:x}{ecn}, ttl {ttl}, id {ident}, offset {(frag & 0x1FFF) * 8}, flags [{flags}], "
         f"proto {name} ({f.proto}), length {f.ip_len}")
    if inet_checksum(h[:f.ip_hl]) != 0:
        want = inet_checksum(h[:10] + b"\0\0" + h[12:f.ip_hl])
        s += f", bad cksum {struct.unpack_from('!H', h, 10)[0]:x} (->{want:x})!"
    return s + ")"


def _l4_sum(f: Frame, at: int) -> tuple[int, int]:
    """A TCP/UDP checksum as carried and as it should be (tcp_cksum/udp_cksum)."""
    seg = f.l4
    carried = struct.unpack_from("!H", seg, at)[0]
    return carried, transport_checksum(f.src or 0, f.dst or 0, f.proto or 0, seg[:at] + b"\0\0" + seg[at + 2:])


def _tcp(f: Frame, seqs: TcpSeqs, verbose: int = 0) -> str:
    t = f.l4
    if len(t) < 20:
        return f"{int_to_ip(f.src or 0)} > {int_to_ip(f.dst or 0)}: tcp [|tcp]"
    sport, dport, seq, ack, off, flags, win = struct.unpack_from("!HHIIBBH", t, 0)
    hl = (off >> 4) * 4
    length = len(t) - hl
    names = "".join(c for bit, c in TCP_FLAGS if flags & bit) or "none"
    fwd = (f.src or 0, sport, f.dst or 0, dport)
    rev = (f.dst or 0, dport, f.src or 0, sport)
    parts = [f"Flags [{names}]"]
    if verbose:
        carried, want = _l4_sum(f, 16)
        parts.append(f"cksum 0x{carried:04x} " + ("(correct)" if carried == want else f"(incorrect -> 0x{want:04x})"))
    if flags & 0x02:
        seqs.isn[fwd] = seq
    rel_seq = seqs.isn.get(fwd)
    rel_ack = seqs.isn.get(rev)
    if flags & 0x02:
        parts.append(f"seq {seq}" if not length else f"seq {seq}:{seq + length}")
    elif length or flags & (0x01 | 0x04) or verbose > 1:   # print-tcp.c: -vv shows every seq
        s = (seq - rel_seq) & 0xFFFFFFFF if rel_seq is not None and not flags & 0x02 else seq
        parts.append(f"seq {s}:{(s + length) & 0xFFFFFFFF}" if length else f"seq {s}")
    if flags & 0x10:
        if flags & 0x02 or rel_ack is None:
            parts.append(f"ack {ack}")
        else:
            parts.append(f"ack {(ack - rel_ack) & 0xFFFFFFFF}")
    parts.append(f"win {win}")
    if hl > 20:
        parts.append(_tcp_options(t[20:hl]))
    parts.append(f"length {length}")
    return f"{int_to_ip(f.src or 0)}.{sport} > {int_to_ip(f.dst or 0)}.{dport}: " + ", ".join(parts)


def _icmp(f: Frame) -> str:
    m = f.l4
    head = f"{int_to_ip(f.src or 0)} > {int_to_ip(f.dst or 0)}: ICMP "
    if len(m) < 4:
        return head + "[|icmp]"
    typ, code = m[0], m[1]
    if typ in (0, 8) and len(m) >= 8:
        ident, seq = struct.unpack_from("!HH", m, 4)
        return head + f"{ICMP_TYPES[typ]}, id {ident}, seq {seq}, length {len(m)}"
    if typ == 3 and len(m) >= 28:
        inner = parse(b"\0" * 12 + b"\x08\x00" + m[8:])
        d = int_to_ip(inner.dst or 0)
        if code == 3 and inner.proto == IPPROTO_UDP:
            text = f"{d} udp port {inner.dport} unreachable"
        elif code == 3 and inner.proto == IPPROTO_TCP:
            text = f"{d} tcp port {inner.dport} unreachable"
        elif code == 2:
            text = f"{d} protocol {inner.proto} unreachable"
        elif code in (0, 1):
            text = UNREACH[code].format(d)
        else:
            text = f"{d} unreachable - code {code}"
        return head + f"{text}, length {len(m)}"
    if typ == 11:
        return head + f"time exceeded in-transit, length {len(m)}"
    return head + f"type-#{typ}, length {len(m)}"


def _ip(f: Frame, seqs: TcpSeqs, verbose: int = 0, eflag: bool = False) -> str:
    if f.proto == IPPROTO_ICMP:
        text = _icmp(f)
        m = f.l4
        if verbose and len(m) >= 28 and m[0] in (3, 4, 5, 11, 12):
            # print-icmp.c with -v: the quoted datagram's header and first bytes, indented
            inner = parse(b"\0" * 12 + b"\x08\x00" + m[8:])
            # (ip_print names the protocol "IP" unless -e printed the link header)
            text += f"\n\t{'' if eflag else 'IP '}{_ip_header(inner)}\n    {_ip(inner, TcpSeqs(), verbose)}"
        return text
    if f.proto == IPPROTO_UDP and len(f.l4) >= 8:
        ulen = struct.unpack_from("!H", f.l4, 4)[0]
        head = f"{int_to_ip(f.src or 0)}.{f.sport} > {int_to_ip(f.dst or 0)}.{f.dport}: "
        if verbose > 1:   # print-udp.c: the sum is checked from -vv on (0: none sent)
            carried, want = _l4_sum(f, 6)
            if not carried:
                head += "[no cksum] "
            elif len(f.l4) >= ulen and carried != want:
                head += f"[bad udp cksum 0x{carried:04x} -> 0x{want:04x}!] "
            elif len(f.l4) >= ulen:
                head += "[udp sum ok] "
        return head + f"UDP, length {ulen - 8}"
    if f.proto == IPPROTO_TCP:
        return _tcp(f, seqs, verbose)
    return f"{int_to_ip(f.src or 0)} > {int_to_ip(f.dst or 0)}: ip-proto-{f.proto} {f.ip_len - f.ip_hl}"


def _arp(f: Frame) -> str:
    a = f.l3
    op = struct.unpack_from("!H", a, 6)[0]
    spa, tpa = int_to_ip(f.src or 0), int_to_ip(f.dst or 0)
    if op == 1:
        return f"Request who-has {tpa} tell {spa}, length {len(a)}"
    if op == 2:
        return f"Reply {spa} is-at {_mac(a[8:14])}, length {len(a)}"
    return f"Unknown opcode {op}, length {len(a)}"


def _hex_ascii(data: bytes) -> str:
    """ND_DEFAULTPRINT (hex_and_ascii_print): what tcpdump shows of a payload it cannot name."""
    out = ""
    for o in range(0, len(data), 16):
        chunk = data[o:o + 16]
        groups = " ".join(chunk[i:i + 2].hex() for i in range(0, len(chunk), 2))
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        out += f"\n\t0x{o:04x}:  {groups:<39}  {text}"
    return out


# print-mpls.c's mpls_labelname: the reserved labels (RFC 3032 §2.1), named with -v
MPLS_LABEL_NAMES = ("IPv4 explicit NULL", "router alert", "IPv6 explicit NULL", "implicit NULL") + ("rsvd",) * 12


def _label_name(label: int) -> str:
    return f" ({MPLS_LABEL_NAMES[label]})" if label < len(MPLS_LABEL_NAMES) else ""


def _mpls_text(f: Frame, seqs: TcpSeqs, verbose: int, eflag: bool) -> str:
    """print-mpls.c: `(label L, tc T[, [S]], ttl N)` per entry (-v: one a line), then the payload."""
    entries = [f"(label {lab}{_label_name(lab) if verbose else ''}, tc {tc}{', [S]' if s else ''}, ttl {ttl})"
               for lab, tc, s, ttl in f.labels or []]
    text = ("\n\t" if verbose else " ").join(entries)
    inner = f.inner
    if inner is None:
        rest = f.l3[4 * len(f.labels or []):]
        return text + (_hex_ascii(rest) if rest else "")
    if verbose:
        return f"{text}\n\tIP {_ip_header(inner)}\n    {_ip(inner, seqs, verbose, eflag)}"
    return f"{text} {'' if eflag else 'IP '}{_ip(inner, seqs, verbose, eflag)}"


def format_frame(now_ns: int, f: Frame, ether: bool, seqs: TcpSeqs, verbose: int = 0) -> str:
    """One line, as `tcpdump -n` (with -e: the link header first) prints the frame; with -v
    an IPv4 packet's header first and its body on an indented second line."""
    ts = timestamp(now_ns)
    if f.ethertype == ETH_P_IP:
        body, name = _ip(f, seqs, verbose, ether), "IP"
        if verbose:
            body = f"{_ip_header(f)}\n    {body}"
    elif f.ethertype == ETH_P_ARP and len(f.l3) >= 28:
        body, name = _arp(f), "ARP,"
        if verbose:
            body = f"Ethernet (len 6), IPv4 (len 4), {body}"
    elif f.ethertype == ETH_P_MPLS_UC and f.labels:
        body, name = _mpls_text(f, seqs, verbose, ether), "MPLS"
        if ether:
            body = f"MPLS {body}"
    else:
        body, name = f"ethertype Unknown (0x{f.ethertype:04x}), length {len(f.data)}", ""
    if not ether:
        return f"{ts} {name} {body}" if name else f"{ts} {_mac(f.data[6:12])} > {_mac(f.data[0:6])}, {body}"
    tname = {ETH_P_IP: "IPv4", ETH_P_ARP: "ARP", ETH_P_MPLS_UC: "MPLS unicast"}.get(f.ethertype, "Unknown")
    return (f"{ts} {_mac(f.data[6:12])} > {_mac(f.data[0:6])}, ethertype {tname} (0x{f.ethertype:04x}), "
            f"length {len(f.data)}: {body}")


# -- the command ------------------------------------------------------------------------

@command("tcpdump")
def tcpdump(ctx: Context, argv: list[str]) -> Result:
    """tcpdump(8): -i IF -n [-c N] [-e] [expression]."""
    if ctx.background:
        return unsupported("tcpdump in a background job (&)",
                           "netplex's shell runs a job to completion before the next command, so it would "
                           "capture none of what follows; run tcpdump -c N while a service, flow or daemon sends")
    ns: Any = ctx.node
    ifname: str | None = None
    count: int | None = None
    numeric = ether = False
    verbose = 0           # -v, -vv, -vvv: print-ip.c's header, then the UDP sum
    args = argv[1:]
    words: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            words.extend(args[i:])
            break
        if not a.startswith("-") or a == "-":
            words.append(a)
            continue
        if a.startswith("--"):
            return unsupported(f"tcpdump {a}", "netplex's tcpdump has -i -n -c -e -v and a filter")
        j = 1
        while j < len(a):
            opt = a[j]
            if opt in "ic":
                val = a[j + 1:] or (args[i] if i < len(args) else None)
                if not a[j + 1:]:
                    i += 1
                if val is None:
                    return Result(1, "", f"tcpdump: option requires an argument -- '{opt}'\n{USAGE}")
                if opt == "i":
                    ifname = val
                else:
                    if not val.isdigit() or int(val) <= 0:
                        return Result(1, "", f"tcpdump: invalid packet count {val}\n")
                    count = int(val)
                break
            if opt == "n":
                numeric = True
            elif opt == "e":
                ether = True
            elif opt == "v":
                verbose += 1
            elif opt in "AbdDfhHIJKlLNOpqStuUxX#BCEFGjMQrsTVwWyzZ":
                return unsupported(f"tcpdump -{opt}", "netplex's tcpdump has -i -n -c -e -v and a filter")
            else:
                return Result(1, "", f"tcpdump: invalid option -- '{opt}'\n{USAGE}")
            j += 1
    if ifname is None or ifname == "any":
        return unsupported("tcpdump without -i IF" if ifname is None else "tcpdump -i any",
                           "name the device: netplex captures on one device")
    if not numeric:
        return unsupported("tcpdump without -n", "netplex prints addresses, it has no resolver")
    dev = ns.devices.get(ifname)
    if dev is None:
        return Result(1, "", f"tcpdump: {ifname}: No such device exists\n(No such device exists)\n")
    if not dev.up:
        return Result(1, "", f"tcpdump: {ifname}: That device is not up\n")
    try:
        flt = compile_filter(words)
    except _FilterError as e:
        return Result(1, "", f"tcpdump: {e}\n")
    banner = ("" if verbose else "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n") + (
        f"{'tcpdump: ' if verbose else ''}listening on {ifname}, link-type EN10MB (Ethernet), "
        "snapshot length 262144 bytes\n")
    world = ns.world
    lines: list[str] = []
    seqs = TcpSeqs()
    sock = ns.sockets.packet_socket(SOCK_RAW, ETH_P_ALL)
    sock.bind(dev.ifindex)

    def on_recv(data: bytes, _sll: SockaddrLl) -> None:
        if count is not None and len(lines) >= count:
            return
        f = parse(data)
        if flt.match(f):
            lines.append(format_frame(world.sched.now, f, ether, seqs, verbose) + "\n")

    sock.on_recv = on_recv
    try:
        world.run_until(lambda: count is not None and len(lines) >= count, CAPTURE_LIMIT_NS)
    finally:
        sock.close()
    n = len(lines)
    stats = (f"{n} packet{'' if n == 1 else 's'} captured\n"
             f"{n} packet{'' if n == 1 else 's'} received by filter\n"
             "0 packets dropped by kernel\n")
    return Result(0, "".join(lines), banner + ("" if count is not None and n >= count else "\n") + stats)
