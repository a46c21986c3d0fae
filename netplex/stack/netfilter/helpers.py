"""Conntrack helpers and expectations (net/netfilter/nf_conntrack_helper.c, nf_conntrack_expect.c,
nf_conntrack_ftp.c, nf_conntrack_tftp.c).

A helper is attached to a connection by the CT target (`iptables -t raw -A
PREROUTING -p tcp --dport 21 -j CT --helper ftp`): since Linux 4.7
(nf_conntrack_helper=0) nothing assigns one by port. `HELPERS` is the
kernel's helper table, keyed by (name, layer-4 protocol), as `xt_CT` looks
a name up (`nf_conntrack_helper_try_module_get`): a name the table does not
hold for the rule's protocol is refused with ENOENT.

Modelled helpers:

- `ftp` (RFC 959, RFC 2428): in the control stream, a line starting with
  `PORT h1,h2,h3,h4,p1,p2` or `EPRT |1|a.b.c.d|port|` (client → server),
  `227 … (h1,h2,h3,h4,p1,p2)` or `229 … (|||port|)` (server → client)
  makes an expectation for the data connection (any source port), as
  nf_conntrack_ftp.c: a line is read only when its packet starts right after
  a newline of the same direction (two such positions remembered per
  direction), and an address that is not the sender's own is ignored
  (`loose=0`). With NAT on the control connection the NAT half
  (nat.nf_nat_ftp, registered in `NAT_HOOKS`) rewrites the address and port
  in the payload and moves the expectation.
- `tftp` (RFC 1350): a read or write request makes an expectation for the
  server's answer from its new port to the client's port.

The other helpers of the table (irc, sip, h323's RAS/Q.931/H.245, pptp,
sane, amanda, snmp, snmp_trap, netbios-ns) can be attached — the rule loads
and `conntrack -L` shows `helper=NAME` — but read nothing.

An `Expectation` (struct nf_conntrack_expect) lives in its master's
`ConntrackTable.expects`; `conntrack -L expect` prints it as
conntrack-tools 1.4.7 does.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.packet.ipv4 import IPPROTO_TCP, IPPROTO_UDP
from netplex.stack.netfilter.conntrack import DIR_ORIGINAL, DIR_REPLY, Conn, Tuple
from netplex.stack.netfilter.core import (
    IP_CT_ESTABLISHED,
    IP_CT_ESTABLISHED_REPLY,
    IP_CT_IS_REPLY,
    IPS_DST_NAT,
    IPS_SRC_NAT,
    NF_ACCEPT,
    NF_DROP,
    PacketCtx,
)

__all__ = [
    "FTP_EPRT",
    "FTP_EPSV",
    "FTP_PASV",
    "FTP_PORT",
    "HELPERS",
    "NAT_HOOKS",
    "Expectation",
    "FtpHelper",
    "Helper",
    "TftpHelper",
    "helper_find",
    "register_helper",
]

NSEC_PER_SEC = 1_000_000_000
IPS_NAT_MASK = IPS_SRC_NAT | IPS_DST_NAT


def _ip(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


class Expectation:
    """struct nf_conntrack_expect: a connection the master's helper announced.

    `tuple` is matched exactly except the source port when `mask_sport` is 0
    (the helpers here leave it open). `saved_proto`, `dir` and `expectfn` are
    the NAT half's (nf_nat_follow_master maps the new connection like its
    master).
    """

    __slots__ = (
        "cls",
        "dir",
        "expectfn",
        "helper",
        "mask_sport",
        "master",
        "permanent",
        "saved_proto",
        "timeout",
        "timeout_s",
        "tuple",
        "zone",
    )

    def __init__(self, master: Conn, t: Tuple, mask_sport: int, timeout_s: int, cls: int = 0) -> None:
        self.master = master
        self.helper: Helper | None = None        # the helper the new connection gets (none for FTP data)
        self.tuple = t
        self.mask_sport = mask_sport
        self.cls = cls
        self.zone = master.zone
        self.timeout_s = timeout_s
        self.timeout = 0                          # absolute, set when the expectation is added
        self.permanent = False
        self.saved_proto = 0
        self.dir = DIR_ORIGINAL
        self.expectfn: Callable[[Conn, Expectation], None] | None = None

    def covers(self, t: Tuple) -> bool:
        """nf_ct_tuple_mask_cmp."""
        e = self.tuple
        return (t[0] == e[0] and t[1] == e[1] and t[2] == e[2] and t[4] == e[4]
                and (t[3] & self.mask_sport) == (e[3] & self.mask_sport))

    def same_as(self, other: Expectation) -> bool:
        """expect_matches: the same tuple and mask."""
        return (self.tuple == other.tuple and self.mask_sport == other.mask_sport
                and self.zone == other.zone)

    def clashes(self, other: Expectation) -> bool:
        """expect_clash: equal under the intersection of the two masks."""
        m = self.mask_sport & other.mask_sport
        a, b = self.tuple, other.tuple
        return (self.zone == other.zone and a[0] == b[0] and a[1] == b[1] and a[2] == b[2]
                and a[4] == b[4] and (a[3] & m) == (b[3] & m))

    def helper_policy_max(self) -> int:
        h = self.master.helper
        return h.max_expected if h is not None else 0

    def format(self, now: int, event: str = "") -> str:
        """One line of `conntrack -L expect` (or `-E expect` with an event name)."""
        remaining = max(0, self.timeout - now) // NSEC_PER_SEC
        src, dst, proto, sport, dport = self.tuple
        mo = self.master.tuple_orig
        out = (f"{remaining} proto={proto} src={_ip(src)} dst={_ip(dst)} sport={sport} dport={dport} "
               f"mask-src=255.255.255.255 mask-dst=255.255.255.255 sport={self.mask_sport} dport=65535 "
               f"master-src={_ip(mo[0])} master-dst={_ip(mo[1])} sport={mo[3]} dport={mo[4]}")
        if self.permanent:
            out += " PERMANENT"
        out += f" class={self.cls}"
        if self.zone:
            out += f" zone={self.zone}"
        h = self.master.helper
        if h is not None:
            out += f" helper={h.name}"
        if event:
            out = f"{'[' + event + ']':>9} " + out
        return out


class Helper:
    """struct nf_conntrack_helper: a name, the layer-4 protocol it serves, its expectation
    policy, and `help` — called at the confirm hook for every packet of a connection it is
    attached to (except ICMP errors about it). The base class reads nothing."""

    max_expected = 0
    exp_timeout = 0

    def __init__(self, name: str, l4proto: int) -> None:
        self.name = name
        self.l4proto = l4proto

    def new_info(self) -> Any:
        """The per-connection state (the helper's part of nf_conn_help)."""
        return None

    def help(self, ct: Conn, ctinfo: int, ctx: PacketCtx) -> int:
        return NF_ACCEPT

    def __repr__(self) -> str:
        return f"<Helper {self.name}/{self.l4proto}>"


HELPERS: dict[tuple[str, int], Helper] = {}
# the NAT halves (nf_nat_ftp_hook, nf_nat_tftp_hook), filled by netplex.stack.netfilter.nat
NAT_HOOKS: dict[str, Callable[..., int]] = {}


def register_helper(h: Helper) -> Helper:
    """nf_conntrack_helper_register: one line per (name, protocol)."""
    HELPERS[(h.name, h.l4proto)] = h
    return h


def helper_find(name: str, l4proto: int) -> Helper | None:
    """__nf_conntrack_helper_find: the helper `name` for `l4proto`, or None."""
    return HELPERS.get((name, l4proto))


def _dir(ctinfo: int) -> int:
    return DIR_REPLY if ctinfo >= IP_CT_IS_REPLY else DIR_ORIGINAL


# -- FTP (nf_conntrack_ftp.c) ---------------------------------------------------------------
FTP_PORT, FTP_PASV, FTP_EPRT, FTP_EPSV = range(4)    # enum nf_ct_ftp_type
NUM_SEQ_TO_REMEMBER = 2


class FtpInfo:
    """struct nf_ct_ftp_master: sequence numbers just after a newline, per direction."""

    __slots__ = ("seq_aft_nl",)

    def __init__(self) -> None:
        self.seq_aft_nl: tuple[list[int], list[int]] = ([], [])

    def update_nl_seq(self, d: int, nl_seq: int) -> None:
        seqs = self.seq_aft_nl[d]
        if nl_seq in seqs:
            return
        if len(seqs) < NUM_SEQ_TO_REMEMBER:
            seqs.append(nl_seq)
            return
        oldest = 0 if _before(seqs[0], seqs[1]) else 1
        if _before(seqs[oldest], nl_seq):
            seqs[oldest] = nl_seq


def _before(a: int, b: int) -> bool:
    return 0 < ((b - a) & 0xFFFFFFFF) < 0x80000000


class _Cmd:
    """What a command's numbers said (struct nf_conntrack_man): an address and a port."""

    __slots__ = ("addr", "port")

    def __init__(self, addr: int) -> None:
        self.addr = addr
        self.port = 0


def _try_number(data: bytes, size: int, sep: int, term: int) -> tuple[int, list[int]]:
    """`size` decimal numbers separated by `sep`, ended by `term` (0: any other character);
    the length read, or 0."""
    nums = [0] * size
    i = 0
    for length, ch in enumerate(data):
        if i >= size:
            break
        if 48 <= ch <= 57:
            nums[i] = (nums[i] * 10 + ch - 48) & 0xFFFFFFFF
        elif ch == sep:
            i += 1
        else:
            if (ch == term or not term) and i == size - 1:
                return length, nums
            return 0, nums
    return 0, nums


def _get_port(data: bytes, start: int, delim: int, cmd: _Cmd) -> int:
    """Digits up to `delim`: the offset after the delimiter, or 0 (port 0 is no port)."""
    port = 0
    for i in range(start, len(data)):
        ch = data[i]
        if ch == delim:
            if port == 0:
                break
            cmd.port = port
            return i + 1
        if 48 <= ch <= 57:
            port = (port * 10 + ch - 48) & 0xFFFF
        else:
            break
    return 0


def _try_rfc959(data: bytes, cmd: _Cmd, term: int) -> tuple[int, int]:
    """`h1,h2,h3,h4,p1,p2` → (length, offset of the numbers)."""
    length, n = _try_number(data, 6, ord(","), term)
    if not length:
        return 0, 0
    cmd.addr = ((n[0] << 24) | (n[1] << 16) | (n[2] << 8) | n[3]) & 0xFFFFFFFF
    cmd.port = ((n[4] << 8) | n[5]) & 0xFFFF
    return length, 0


def _try_rfc1123(data: bytes, cmd: _Cmd, term: int) -> tuple[int, int]:
    """A 227 reply: the numbers start at the first digit, wherever it is (RFC 1123 4.1.2.6)."""
    for i, ch in enumerate(data):
        if 48 <= ch <= 57:
            length, _ = _try_rfc959(data[i:], cmd, 0)
            return length, i
    return 0, 0


def _delim_ok(delim: int) -> bool:
    return not 48 <= delim <= 57 and 33 <= delim <= 126


def _try_eprt(data: bytes, cmd: _Cmd, term: int) -> tuple[int, int]:
    """`|1|a.b.c.d|port|` (RFC 2428 section 2)."""
    if len(data) <= 3:
        return 0, 0
    delim = data[0]
    if not _delim_ok(delim) or data[2] != delim or data[1] != ord("1"):
        return 0, 0
    length, n = _try_number(data[3:], 4, ord("."), delim)
    if not length:
        return 0, 0
    cmd.addr = ((n[0] << 24) | (n[1] << 16) | (n[2] << 8) | n[3]) & 0xFFFFFFFF
    return _get_port(data, 3 + length + 1, delim, cmd), 0


def _try_epsv_response(data: bytes, cmd: _Cmd, term: int) -> tuple[int, int]:
    """`|||port|` (RFC 2428 section 3)."""
    if len(data) <= 3:
        return 0, 0
    delim = data[0]
    if not _delim_ok(delim) or data[1] != delim or data[2] != delim:
        return 0, 0
    return _get_port(data, 3, delim, cmd), 0


_GetNum = Callable[[bytes, _Cmd, int], tuple[int, int]]
# search[dir]: (pattern, skip to after this character, terminator, type, number parser)
FTP_SEARCH: tuple[tuple[tuple[bytes, int, int, int, _GetNum], ...], ...] = (
    ((b"PORT", ord(" "), ord("\r"), FTP_PORT, _try_rfc959),
     (b"EPRT", ord(" "), ord("\r"), FTP_EPRT, _try_eprt)),
    ((b"227 ", 0, 0, FTP_PASV, _try_rfc1123),
     (b"229 ", ord("("), ord(")"), FTP_EPSV, _try_epsv_response)),
)


def find_pattern(data: bytes, pattern: bytes, skip: int, term: int, cmd: _Cmd,
                 getnum: _GetNum) -> tuple[int, int, int]:
    """(1 found / 0 not this command / -1 partial or malformed, offset, length of the numbers)."""
    plen = len(pattern)
    if len(data) <= plen:
        return (-1 if data.lower() == pattern[:len(data)].lower() else 0), 0, 0
    if data[:plen].lower() != pattern.lower():
        return 0, 0, 0
    i = plen
    if skip:
        while data[i] != skip:
            if i == len(data) - 1:
                return -1, 0, 0
            i += 1
        i += 1
    length, extra = getnum(data[i:], cmd, term)
    if not length:
        return -1, 0, 0
    return 1, i + extra, length


class FtpHelper(Helper):
    """nf_conntrack_ftp: expectations for data connections (max 1 pending, 5 minutes)."""

    max_expected = 1
    exp_timeout = 5 * 60

    def new_info(self) -> FtpInfo:
        return FtpInfo()

    def help(self, ct: Conn, ctinfo: int, ctx: PacketCtx) -> int:
        if ctinfo != IP_CT_ESTABLISHED and ctinfo != IP_CT_ESTABLISHED_REPLY:
            return NF_ACCEPT
        ip = ctx.ip
        seg = ip.payload
        if ip.proto != IPPROTO_TCP or isinstance(seg, (bytes, bytearray)):
            return NF_ACCEPT
        data = seg.payload if isinstance(seg.payload, bytes) else bytes(seg.payload)
        if not data:
            return NF_ACCEPT
        info: FtpInfo = ct.help
        d = _dir(ctinfo)
        ends_in_nl = data.endswith(b"\n")
        seq_end = (seg.seq + len(data)) & 0xFFFFFFFF
        verdict = NF_ACCEPT
        if seg.seq in info.seq_aft_nl[d]:
            verdict = self._command(ct, ctinfo, ctx, d, data)
            if verdict == NF_DROP:
                return verdict
        if ends_in_nl:
            info.update_nl_seq(d, seq_end)
        return verdict

    def _command(self, ct: Conn, ctinfo: int, ctx: PacketCtx, d: int, data: bytes) -> int:
        own = ct.tuple(d)[0]
        cmd = _Cmd(own)     # EPSV names no address: the sender's
        found, off, length, kind = 0, 0, 0, FTP_PORT
        for pattern, skip, term, kind, getnum in FTP_SEARCH[d]:  # noqa: B007 (kind is the match found)
            found, off, length = find_pattern(data, pattern, skip, term, cmd, getnum)
            if found:
                break
        if found == -1:
            return NF_DROP      # "partial matching": tracking needs the whole command
        if found == 0:
            return NF_ACCEPT
        if cmd.addr != own:
            return NF_ACCEPT    # not the sender's own address: no hole for it (loose=0)
        back = ct.tuple(1 - d)
        exp = Expectation(ct, (back[0], back[1], IPPROTO_TCP, 0, cmd.port), 0, self.exp_timeout)
        nat = NAT_HOOKS.get("ftp")
        if nat is not None and ct.status & IPS_NAT_MASK:
            return nat(ctx, ct, ctinfo, kind, off, length, exp)
        if ct.table.expect_related(exp) != 0:
            return NF_DROP      # "cannot add expectation"
        return NF_ACCEPT


# -- TFTP (nf_conntrack_tftp.c) -----------------------------------------------------------
TFTP_OPCODE_READ, TFTP_OPCODE_WRITE = 1, 2


class TftpHelper(Helper):
    """nf_conntrack_tftp: a read/write request expects the server's answer from a new port."""

    max_expected = 1
    exp_timeout = 5 * 60

    def help(self, ct: Conn, ctinfo: int, ctx: PacketCtx) -> int:
        ip = ctx.ip
        udp = ip.payload
        if ip.proto != IPPROTO_UDP or isinstance(udp, (bytes, bytearray)):
            return NF_ACCEPT
        data = udp.payload if isinstance(udp.payload, bytes) else udp.payload.encode()
        if len(data) < 2 or int.from_bytes(data[:2], "big") not in (TFTP_OPCODE_READ, TFTP_OPCODE_WRITE):
            return NF_ACCEPT
        r = ct.tuple_reply
        exp = Expectation(ct, (r[0], r[1], IPPROTO_UDP, 0, r[4]), 0, self.exp_timeout)
        nat = NAT_HOOKS.get("tftp")
        if nat is not None and ct.status & IPS_NAT_MASK:
            return nat(ctx, ct, ctinfo, exp)
        if ct.table.expect_related(exp) != 0:
            return NF_DROP
        return NF_ACCEPT


# The kernel's helper table (name, protocol), as `modinfo nf_conntrack_*` lists it.
for _h in (FtpHelper("ftp", IPPROTO_TCP), TftpHelper("tftp", IPPROTO_UDP),
           Helper("irc", IPPROTO_TCP), Helper("sip", IPPROTO_TCP), Helper("sip", IPPROTO_UDP),
           Helper("RAS", IPPROTO_UDP), Helper("Q.931", IPPROTO_TCP), Helper("H.245", IPPROTO_UDP),
           Helper("pptp", IPPROTO_TCP), Helper("sane", IPPROTO_TCP), Helper("amanda", IPPROTO_UDP),
           Helper("snmp", IPPROTO_UDP), Helper("snmp_trap", IPPROTO_UDP), Helper("netbios-ns", IPPROTO_UDP)):
    register_helper(_h)
