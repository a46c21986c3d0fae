"""iptables targets other than NAT (xt_REJECT/ipt_REJECT.c, xt_LOG.c + nf_log_syslog.c, xt_mark.c,
xt_connmark.c, xt_DSCP.c (TOS, DSCP), xt_CLASSIFY.c, xt_TRACE.c), one class each.

ACCEPT, DROP and RETURN are the standard verdicts, handled by the table
walk itself. The registry is the table at the bottom.
"""
from __future__ import annotations

from typing import Any, ClassVar

from netplex.packet.icmp import Icmp
from netplex.packet.tcp import Tcp
from netplex.stack.netfilter.core import (
    NF_ACCEPT,
    NF_DROP,
    XT_CONTINUE,
    Opt,
    OptSpec,
    PacketCtx,
    RuleInfo,
    Target,
    XtError,
    register_target,
)
from netplex.stack.netfilter.matches import (
    DSCP_CLASSES,
    TOS_NAMES,
    mark_text,
    parse_dscp,
    parse_tos_value,
    quote,
    xt_once,
)
from netplex.stack.netfilter.parse import strtoui
from netplex.stack.netfilter.rule import ip_str

IPPROTO_TCP = 6


def kmsg_add(ns: Any, text: str) -> None:
    """printk: one line in the namespace's kernel log, stamped `[    T.TTTTTT] ` from the simulated clock."""
    t = ns.sched.now
    ns.kmsg.append(f"[{t // 1_000_000_000:5d}.{(t // 1000) % 1_000_000:06d}] {text}")


def parse_mark_value(s: str, ext: str, opt: str, with_mask: bool = True) -> tuple[int, int]:
    v, slash, m = s.partition("/")
    val = strtoui(v, 0, 0xFFFFFFFF)
    mask = strtoui(m, 0, 0xFFFFFFFF) if slash and with_mask else 0xFFFFFFFF
    if val is None or mask is None or (slash and not with_mask):
        if val is None or mask is None:
            raise XtError(f"{ext}: bad integer value for option \"--{opt}\", or out of range.\n")
        raise XtError(f"{ext}: bad value for option \"--{opt}\", or out of range (0-4294967295).\n")
    return val, mask


def bitop(op: str, v: int, full: int) -> tuple[int, int]:
    """--and-X / --or-X / --xor-X V as the (value, mask) pair the kernel applies:
    new = (old & ~mask) ^ value (xt_mark.c, xt_connmark.c, xt_DSCP.c)."""
    if op.startswith("and"):
        return 0, ~v & full
    if op.startswith("or"):
        return v, v
    return v, 0


def parse_xmark(op: str, arg: str, ext: str) -> tuple[int, int]:
    """libxt_MARK / libxt_CONNMARK: --set-xmark, --set-mark, --and-mark, --or-mark or
    --xor-mark as a (value, mask) pair."""
    if op == "set-xmark":
        return parse_mark_value(arg, ext, op)
    if op == "set-mark":
        v, m = parse_mark_value(arg, ext, op)
        return v, (v | m) & 0xFFFFFFFF
    v, _ = parse_mark_value(arg, ext, op, with_mask=False)
    return bitop(op, v, 0xFFFFFFFF)


def xmark_text(name: str, m: int, k: int) -> str:
    """How `iptables -L` prints a (value, mask) mark operation: and, or, xor, set or xset."""
    if m == 0:
        return f"{name} and 0x{~k & 0xFFFFFFFF:x}"
    if m == k:
        return f"{name} or 0x{m:x}"
    if k == 0:
        return f"{name} xor 0x{m:x}"
    if k == 0xFFFFFFFF:
        return f"{name} set 0x{m:x}"
    return f"{name} xset 0x{m:x}/0x{k:x}"


# -- REJECT -----------------------------------------------------------------------------
REJECT_TYPES = (("icmp-net-unreachable", "net-unreach", 0), ("icmp-host-unreachable", "host-unreach", 1),
                ("icmp-proto-unreachable", "proto-unreach", 2), ("icmp-port-unreachable", "port-unreach", 3),
                ("icmp-net-prohibited", "net-prohib", 9), ("icmp-host-prohibited", "host-prohib", 10),
                ("tcp-reset", "tcp-rst", -1), ("icmp-admin-prohibited", "admin-prohib", 13))


class RejectTarget(Target):
    """xt_REJECT (ipt_REJECT); the IPv6 one (netplex/stack/netfilter/ip6.py) has its own `types`."""

    name = "REJECT"
    options = (OptSpec("reject-with", 1),)
    tables = ("filter",)   # reject_tg_reg .table: raw/mangle refuse it (xt_check_target, EINVAL)
    hooks = frozenset({"INPUT", "FORWARD", "OUTPUT"})
    types: ClassVar[tuple[tuple[str, str, int], ...]] = REJECT_TYPES
    default: ClassVar[tuple[str, int]] = ("icmp-port-unreachable", 3)
    __slots__ = ("code", "kind", "tcp_ok")
    code: int
    kind: str
    tcp_ok: bool

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("REJECT", opts)
        t = cls()
        t.kind, t.code = cls.default
        if "reject-with" in got:
            a = got["reject-with"].arg
            # libipt_REJECT compares the first strlen(arg) characters, ignoring case, in table order
            low = a.lower()
            for full, short, code in cls.types:
                if full.lower().startswith(low) or short.lower().startswith(low):
                    t.kind, t.code = full, code
                    break
            else:
                if a in ("echo-reply", "icmp-echo-reply"):
                    raise XtError("--reject-with echo-reply no longer supported")
                raise XtError(f"unknown reject type \"{a}\"")
        t.tcp_ok = rule.proto == IPPROTO_TCP and not rule.proto_invert
        return t

    def check(self) -> bool:
        """xt_REJECT's checkentry: tcp-reset needs `-p tcp`."""
        return self.code != -1 or self.tcp_ok

    def save(self) -> str:
        return f"--reject-with {self.kind}"

    def describe(self, numeric: bool) -> str:
        return f"reject-with {self.kind}"

    def target(self, ctx: PacketCtx) -> int:
        ip = ctx.ip
        ns = ctx.ns
        if self.code == -1:
            seg = ip.payload
            if ip.frag or not isinstance(seg, Tcp):
                return NF_DROP
            from netplex.stack.netfilter.conntrack import ct_attach_meta
            from netplex.stack.tcp import send_reset
            send_reset(ns, ip, seg, ct_attach_meta(ctx.frame), anysrc=True)   # nf_send_reset attaches the conntrack
        else:
            if ip.frag:
                return NF_DROP
            ns.icmp_send(ip, 3, self.code, ctx.in_dev)
        return NF_DROP


# -- LOG --------------------------------------------------------------------------------------
LOG_PREFIX_SHOWN = 29
LOG_LEVELS = {"emerg": 0, "panic": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4, "warn": -1,
              "notice": 5, "info": 6, "debug": 7}
LEVEL_NAMES = ("emerg", "alert", "crit", "error", "warning", "notice", "info", "debug")
LOG_TCPSEQ, LOG_TCPOPT, LOG_IPOPT, LOG_UID, LOG_MACDECODE = 0x01, 0x02, 0x04, 0x08, 0x20


class LogTarget(Target):
    name = "LOG"
    options = (OptSpec("log-level", 1), OptSpec("log-prefix", 1), OptSpec("log-tcp-sequence", 0),
               OptSpec("log-tcp-options", 0), OptSpec("log-ip-options", 0), OptSpec("log-uid", 0),
               OptSpec("log-macdecode", 0))
    __slots__ = ("flags", "level", "prefix")
    flags: int
    level: int
    prefix: str

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("LOG", opts)
        t = cls()
        t.level, t.prefix, t.flags = 4, "", 0
        if "log-level" in got:
            a = got["log-level"].arg
            v = strtoui(a, 0, 7)
            if v is None:
                v = LOG_LEVELS.get(a, -1)
                if v < 0:
                    raise XtError(f"log level \"{a}\" unknown\n")
            t.level = v
        if "log-prefix" in got:
            p = got["log-prefix"].arg
            # iptables-nft passes any length to nf_tables' log expression; reading the rule back
            # into xt_LOG's 30-byte prefix keeps 29 characters (what -S and iptables-save show)
            if not p:
                raise XtError("Argument must have a minimum length of 1 characters\n")
            if "\n" in p:
                raise XtError("Newlines not allowed in --log-prefix")
            t.prefix = p
        for name, bit in (("log-tcp-sequence", LOG_TCPSEQ), ("log-tcp-options", LOG_TCPOPT),
                          ("log-ip-options", LOG_IPOPT), ("log-uid", LOG_UID), ("log-macdecode", LOG_MACDECODE)):
            if name in got:
                t.flags |= bit
        return t

    def save(self) -> str:
        out = []
        if self.prefix:
            out.append("--log-prefix " + quote(self.prefix[:LOG_PREFIX_SHOWN]))
        if self.level != 4:
            out.append(f"--log-level {self.level}")
        for name, bit in (("log-tcp-sequence", LOG_TCPSEQ), ("log-tcp-options", LOG_TCPOPT),
                          ("log-ip-options", LOG_IPOPT), ("log-uid", LOG_UID), ("log-macdecode", LOG_MACDECODE)):
            if self.flags & bit:
                out.append("--" + name)
        return " ".join(out)

    def describe(self, numeric: bool) -> str:
        if numeric:
            s = f"LOG flags {self.flags} level {self.level}"
        else:
            s = f"LOG level {LEVEL_NAMES[self.level]}"
            for name, bit in (("tcp-sequence", LOG_TCPSEQ), ("tcp-options", LOG_TCPOPT), ("ip-options", LOG_IPOPT),
                              ("uid", LOG_UID), ("macdecode", LOG_MACDECODE)):
                if self.flags & bit:
                    s += " " + name
        if self.prefix:
            s += f' prefix "{self.prefix[:LOG_PREFIX_SHOWN]}"'
        return s

    def target(self, ctx: PacketCtx) -> int:
        kmsg_add(ctx.ns, self.prefix + log_line(ctx, self.flags))
        return XT_CONTINUE


def log_line(ctx: PacketCtx, flags: int) -> str:
    """nf_log_ip_packet's text (everything after the prefix), trailing space included."""
    out = [f"IN={ctx.in_dev.name if ctx.in_dev is not None else ''} "
           f"OUT={ctx.out_dev.name if ctx.out_dev is not None else ''} "]
    meta = ctx.meta
    if ctx.bridged:
        if meta.physin is not None:
            out.append(f"PHYSIN={meta.physin.name} ")
        if meta.physout is not None:
            out.append(f"PHYSOUT={meta.physout.name} ")
    if ctx.in_dev is not None:
        f = ctx.frame
        if flags & LOG_MACDECODE:
            out.append(f"MACSRC={fmt_mac(f.src)} MACDST={fmt_mac(f.dst)} MACPROTO={f.type:04x} ")
        else:
            hdr = f.dst + f.src + f.type.to_bytes(2, "big")
            out.append("MAC=" + ":".join(f"{b:02x}" for b in hdr) + " ")
    out.append(dump_ipv4(ctx.ip, flags, ctx, True))
    if meta.mark:
        out.append(f"MARK=0x{meta.mark:x} ")
    return "".join(out)


def fmt_mac(m: bytes) -> str:
    return ":".join(f"{b:02x}" for b in m)


def dump_ipv4(ip: Any, flags: int, ctx: PacketCtx | None, outer: bool) -> str:
    """dump_ipv4_packet."""
    out = [f"SRC={ip_str(ip.src)} DST={ip_str(ip.dst)} "]
    out.append(f"LEN={ip.wire_len()} TOS=0x{ip.tos & 0x1E:02X} PREC=0x{ip.tos & 0xE0:02X} TTL={ip.ttl} ID={ip.id} ")
    if ip.flags & 2:
        out.append("DF ")
    if ip.flags & 1:
        out.append("MF ")
    if ip.frag:
        out.append(f"FRAG:{ip.frag} ")
    if flags & LOG_IPOPT and ip.options:
        out.append("OPT (" + ip.options.hex().upper() + ") ")
    p = ip.payload
    proto = ip.proto
    if proto == 6:
        out.append("PROTO=TCP ")
        if ip.frag:
            pass
        elif isinstance(p, (bytes, bytearray)):
            out.append(f"INCOMPLETE [{len(p)} bytes] ")
        else:
            out.append(f"SPT={p.sport} DPT={p.dport} ")
            if flags & LOG_TCPSEQ:
                out.append(f"SEQ={p.seq} ACK={p.ack} ")
            out.append(f"WINDOW={p.window} RES=0x00 ")
            fl = p.flags
            for name, bit in (("CWR", 0x80), ("ECE", 0x40), ("URG", 0x20), ("ACK", 0x10), ("PSH", 0x08),
                              ("RST", 0x04), ("SYN", 0x02), ("FIN", 0x01)):
                if fl & bit:
                    out.append(name + " ")
            out.append(f"URGP={p.urgent} ")
            if flags & LOG_TCPOPT:
                try:
                    raw = p.encode(ip.src, ip.dst)
                    hl = (raw[12] >> 4) * 4
                    if hl > 20:
                        out.append("OPT (" + raw[20:hl].hex().upper() + ") ")
                except Exception:
                    pass
    elif proto == 17:
        out.append("PROTO=UDP ")
        if not ip.frag and not isinstance(p, (bytes, bytearray)):
            out.append(f"SPT={p.sport} DPT={p.dport} LEN={p.wire_len()} ")
        elif not ip.frag:
            out.append(f"INCOMPLETE [{len(p)} bytes] ")
    elif proto == 1:
        out.append("PROTO=ICMP ")
        if not ip.frag and isinstance(p, Icmp):
            out.append(f"TYPE={p.type} CODE={p.code} ")
            if p.type in (0, 8):
                out.append(f"ID={p.id} SEQ={p.seq} ")
            elif p.type == 12:
                out.append(f"PARAMETER={(p.rest >> 24) & 0xFF} ")
            elif p.type == 5:
                out.append(f"GATEWAY={ip_str(p.rest)} ")
            elif p.type in (3, 4, 11) and outer:
                q = p.payload if isinstance(p.payload, (bytes, bytearray)) else b""
                out.append("[" + dump_ipv4_quoted(q, flags) + "] " if len(q) >= 20 else "[INCOMPLETE] ")
                if p.type == 3 and p.code == 4:
                    out.append(f"MTU={p.rest & 0xFFFF} ")
    else:
        out.append(f"PROTO={proto} ")
    if outer and flags & LOG_UID and ctx is not None:
        sk = ctx.meta.local_socket
        if sk is not None:
            out.append(f"UID={sk.uid} GID={sk.gid} ")
    return "".join(out)


def dump_ipv4_quoted(data: bytes, flags: int) -> str:
    """The datagram an ICMP error quotes (header + 8 bytes), as the kernel dumps it."""
    src = int.from_bytes(data[12:16], "big")
    dst = int.from_bytes(data[16:20], "big")
    ihl = (data[0] & 15) * 4
    tot = int.from_bytes(data[2:4], "big")
    ff = int.from_bytes(data[6:8], "big")
    s = (f"SRC={ip_str(src)} DST={ip_str(dst)} LEN={tot} TOS=0x{data[1] & 0x1E:02X} PREC=0x{data[1] & 0xE0:02X} "
         f"TTL={data[8]} ID={int.from_bytes(data[4:6], 'big')} ")
    if ff & 0x4000:
        s += "DF "
    if ff & 0x2000:
        s += "MF "
    proto = data[9]
    body = data[ihl:]
    if proto == 6:
        s += "PROTO=TCP "
        if len(body) >= 8:
            s += f"SPT={int.from_bytes(body[0:2], 'big')} DPT={int.from_bytes(body[2:4], 'big')} "
            s += f"INCOMPLETE [{len(body)} bytes] " if len(body) < 20 else ""
    elif proto == 17:
        s += "PROTO=UDP "
        if len(body) >= 8:
            s += (f"SPT={int.from_bytes(body[0:2], 'big')} DPT={int.from_bytes(body[2:4], 'big')} "
                  f"LEN={int.from_bytes(body[4:6], 'big')} ")
    elif proto == 1:
        s += "PROTO=ICMP "
        if len(body) >= 4:
            s += f"TYPE={body[0]} CODE={body[1]} "
            if body[0] in (0, 8) and len(body) >= 8:
                s += f"ID={int.from_bytes(body[4:6], 'big')} SEQ={int.from_bytes(body[6:8], 'big')} "
    else:
        s += f"PROTO={proto} "
    return s.rstrip(" ")


# -- MARK / CONNMARK --------------------------------------------------------------------------
class MarkTarget(Target):
    name = "MARK"
    options = (OptSpec("set-xmark", 1), OptSpec("set-mark", 1), OptSpec("and-mark", 1), OptSpec("or-mark", 1),
               OptSpec("xor-mark", 1))
    __slots__ = ("mark", "mask")
    mark: int
    mask: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        if len(opts) > 1:
            # xtables_options_fcheck names the two in the order of libxt_MARK's option table
            order = [sp.name for sp in cls.options]
            a, b = sorted((opts[0].name, opts[1].name), key=lambda n: order.index(n) if n in order else 99)
            raise XtError(f"MARK: option \"--{a}\" cannot be used together with \"--{b}\".\n")
        if not opts:
            raise XtError("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required")
        t = cls()
        t.mark, t.mask = parse_xmark(opts[0].name, opts[0].arg, "MARK")
        return t

    def save(self) -> str:
        return f"--set-xmark 0x{self.mark:x}/0x{self.mask:x}"

    def describe(self, numeric: bool) -> str:
        return xmark_text(self.name, self.mark, self.mask)

    def target(self, ctx: PacketCtx) -> int:
        meta = ctx.meta
        meta.mark = (meta.mark & ~self.mask & 0xFFFFFFFF) ^ self.mark
        return XT_CONTINUE


class ConnmarkTarget(Target):
    name = "CONNMARK"
    options = (OptSpec("set-xmark", 1), OptSpec("set-mark", 1), OptSpec("and-mark", 1), OptSpec("or-mark", 1),
               OptSpec("xor-mark", 1), OptSpec("save-mark", 0), OptSpec("restore-mark", 0), OptSpec("nfmask", 1),
               OptSpec("ctmask", 1), OptSpec("mask", 1))
    __slots__ = ("ctmark", "ctmask", "mode", "nfmask")
    ctmark: int
    ctmask: int
    mode: str
    nfmask: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("CONNMARK", opts)
        modes = [k for k in ("set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark", "save-mark", "restore-mark")
                 if k in got]
        if not modes:
            raise XtError("CONNMARK target: No operation specified")
        if len(modes) > 1:
            raise XtError(f"CONNMARK: option \"--{modes[1]}\" cannot be used together with \"--{modes[0]}\".\n")
        mode = modes[0]
        t = cls()
        t.ctmark, t.ctmask, t.nfmask = 0, 0xFFFFFFFF, 0xFFFFFFFF
        if mode in ("save-mark", "restore-mark"):
            t.mode = "save" if mode == "save-mark" else "restore"
            for k in ("mask", "nfmask", "ctmask"):
                if k in got:
                    v, _ = parse_mark_value(got[k].arg, "CONNMARK", k, with_mask=False)
                    if k in ("mask", "nfmask"):
                        t.nfmask = v
                    if k in ("mask", "ctmask"):
                        t.ctmask = v
            return t
        for k in ("nfmask", "ctmask", "mask"):
            if k in got:
                raise XtError(f"CONNMARK: --{k} is only valid with --save-mark or --restore-mark")
        t.mode = "set"
        t.ctmark, t.ctmask = parse_xmark(mode, got[mode].arg, "CONNMARK")
        return t

    def save(self) -> str:
        if self.mode == "set":
            return f"--set-xmark 0x{self.ctmark:x}/0x{self.ctmask:x}"
        return f"--{self.mode}-mark --nfmask 0x{self.nfmask:x} --ctmask 0x{self.ctmask:x}"

    def describe(self, numeric: bool) -> str:
        if self.mode == "set":
            return xmark_text("CONNMARK", self.ctmark, self.ctmask)
        s = f"CONNMARK {self.mode}"
        if self.nfmask == self.ctmask:
            if self.nfmask != 0xFFFFFFFF:
                s += f" mask 0x{self.nfmask:x}"
        else:
            s += f" nfmask 0x{self.nfmask:x} ctmask ~0x{self.ctmask:x}"
        return s

    def target(self, ctx: PacketCtx) -> int:
        meta = ctx.meta
        ct = meta.ct
        if ct is None:
            return XT_CONTINUE
        if self.mode == "set":
            ct.mark = (ct.mark & ~self.ctmask & 0xFFFFFFFF) ^ self.ctmark
        elif self.mode == "save":
            ct.mark = (ct.mark & ~self.ctmask & 0xFFFFFFFF) ^ (meta.mark & self.nfmask)
        else:
            meta.mark = (meta.mark & ~self.nfmask & 0xFFFFFFFF) ^ (ct.mark & self.ctmask)
        return XT_CONTINUE


# -- TOS / DSCP / CLASSIFY / TRACE --------------------------------------------------------
class TosTarget(Target):
    name = "TOS"
    options = (OptSpec("set-tos", 1), OptSpec("and-tos", 1), OptSpec("or-tos", 1), OptSpec("xor-tos", 1))
    tables = ("mangle",)
    __slots__ = ("mask", "val")
    mask: int
    val: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        if not opts:
            raise XtError("TOS: The --set-tos parameter is required")
        if len(opts) > 1:
            raise XtError(f"TOS: option \"--{opts[1].name}\" cannot be used together with \"--{opts[0].name}\".\n")
        o = opts[0]
        t = cls()
        if o.name == "set-tos":
            t.val, t.mask = parse_tos_value(o.arg)
            return t
        v = strtoui(o.arg, 0, 255)
        if v is None:
            raise XtError(f"Symbolic name \"{o.arg}\" is unknown")
        t.val, t.mask = bitop(o.name, v, 0xFF)
        return t

    def save(self) -> str:
        return f"--set-tos 0x{self.val:02x}/0x{self.mask:02x}"

    def describe(self, numeric: bool) -> str:
        if not numeric and self.mask == 0x3F:
            for n, v in TOS_NAMES:
                if v == self.val:
                    return f"TOS set {n}"
        return f"TOS set 0x{self.val:02x}/0x{self.mask:02x}"

    def target(self, ctx: PacketCtx) -> int:
        ip = ctx.ip
        ip.tos = (ip.tos & ~self.mask & 0xFF) ^ self.val
        return XT_CONTINUE


class DscpTarget(Target):
    name = "DSCP"
    options = (OptSpec("set-dscp", 1), OptSpec("set-dscp-class", 1))
    tables = ("mangle",)
    __slots__ = ("dscp",)
    dscp: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("DSCP", opts)
        if not got:
            raise XtError("DSCP target: Parameter --set-dscp is required")
        t = cls()
        t.dscp, _ = parse_dscp(got, "DSCP", "set-dscp", "set-dscp-class")
        return t

    def save(self) -> str:
        return f"--set-dscp 0x{self.dscp:02x}"

    def describe(self, numeric: bool) -> str:
        return f"DSCP set 0x{self.dscp:02x}"

    def target(self, ctx: PacketCtx) -> int:
        ip = ctx.ip
        ip.tos = (ip.tos & 0x03) | (self.dscp << 2)
        return XT_CONTINUE


class ClassifyTarget(Target):
    name = "CLASSIFY"
    options = (OptSpec("set-class", 1),)
    tables = ("mangle",)
    hooks = frozenset({"FORWARD", "OUTPUT", "POSTROUTING"})
    __slots__ = ("prio",)
    prio: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("CLASSIFY", opts)
        if "set-class" not in got:
            raise XtError("CLASSIFY: option \"--set-class\" must be specified\n")
        a = got["set-class"].arg
        maj, colon, mi = a.partition(":")
        try:
            if not colon:
                raise ValueError
            hi, lo = int(maj or "0", 16), int(mi or "0", 16)
            if not (0 <= hi <= 0xFFFF and 0 <= lo <= 0xFFFF):
                raise ValueError
        except ValueError:
            raise XtError(f"Bad class value \"{a}\"") from None
        t = cls()
        t.prio = (hi << 16) | lo
        return t

    def save(self) -> str:
        return f"--set-class {self.prio >> 16:04x}:{self.prio & 0xFFFF:04x}"

    def describe(self, numeric: bool) -> str:
        return f"CLASSIFY set {self.prio >> 16:x}:{self.prio & 0xFFFF:x}"

    def target(self, ctx: PacketCtx) -> int:
        ctx.meta.priority = self.prio
        return XT_CONTINUE


class TraceTarget(Target):
    name = "TRACE"
    __slots__ = ()

    def target(self, ctx: PacketCtx) -> int:
        ctx.meta.nf_trace = True
        return XT_CONTINUE


class TcpmssTarget(Target):
    """xt_TCPMSS: clamp the MSS option of SYNs (to the path MTU minus 40, or a fixed value)."""

    name = "TCPMSS"
    options = (OptSpec("set-mss", 1), OptSpec("clamp-mss-to-pmtu", 0))
    hooks = frozenset({"FORWARD", "OUTPUT", "POSTROUTING"})
    __slots__ = ("mss",)
    mss: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        got = xt_once("TCPMSS", opts)
        if len(got) != 1:
            raise XtError("TCPMSS target: exactly one of --set-mss or --clamp-mss-to-pmtu is required")
        t = cls()
        if "set-mss" in got:
            v = strtoui(got["set-mss"].arg, 0, 65535 - 40)
            if v is None:
                raise XtError(f"Bad TCPMSS value \"{got['set-mss'].arg}\"")
            t.mss = v
        else:
            t.mss = 0xFFFF
        return t

    def save(self) -> str:
        return "--clamp-mss-to-pmtu" if self.mss == 0xFFFF else f"--set-mss {self.mss}"

    def describe(self, numeric: bool) -> str:
        return "TCPMSS clamp to PMTU" if self.mss == 0xFFFF else f"TCPMSS set {self.mss}"

    def target(self, ctx: PacketCtx) -> int:
        seg = ctx.ip.payload
        if isinstance(seg, Tcp) and seg.flags & 0x02 and seg.mss is not None:
            mss = self.mss
            if mss == 0xFFFF:
                dev = ctx.out_dev
                mss = (dev.mtu if dev is not None else 1500) - 40
            seg.mss = min(seg.mss, mss)
        return XT_CONTINUE


class ChecksumTarget(Target):
    """xt_CHECKSUM: fill in a partial checksum (every checksum netplex writes is already complete)."""

    name = "CHECKSUM"
    options = (OptSpec("checksum-fill", 0),)
    tables = ("mangle",)
    __slots__ = ()

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        if not opts:
            raise XtError("CHECKSUM target: Parameter --checksum-fill is required")
        return cls()

    def save(self) -> str:
        return "--checksum-fill"

    def describe(self, numeric: bool) -> str:
        return "CHECKSUM fill"


class NfqueueTarget(Target):
    """xt_NFQUEUE: hand the packet to a userspace queue. netplex has no userspace
    reader (no libnetfilter_queue program), so as in the kernel with no listener
    on the queue the packet is dropped, or accepted with --queue-bypass."""

    name = "NFQUEUE"
    options = (OptSpec("queue-num", 1), OptSpec("queue-balance", 1), OptSpec("queue-bypass", 0),
               OptSpec("queue-cpu-fanout", 0))
    __slots__ = ("bypass", "fanout", "first", "last")
    bypass: bool
    fanout: bool
    first: int
    last: int

    @classmethod
    def parse(cls, opts: list[Opt], rule: RuleInfo) -> Target:
        t = cls()
        t.first = t.last = 0
        t.bypass = t.fanout = False
        for o in opts:
            if o.name == "queue-num":
                v = strtoui(o.arg, 0, 65535)
                if v is None:
                    raise XtError("NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n")
                t.first = t.last = v
            elif o.name == "queue-balance":
                a, colon, b = o.arg.partition(":")
                lo, hi = strtoui(a, 0, 65535), strtoui(b, 0, 65535)
                if not colon or lo is None or hi is None:
                    raise XtError("NFQUEUE: bad range \"" + o.arg + "\".\n")
                if lo >= hi:
                    raise XtError(f"{lo} should be less than {hi}")
                t.first, t.last = lo, hi
            elif o.name == "queue-bypass":
                t.bypass = True
            else:
                t.fanout = True
        return t

    def kernel_check(self, ns: Any, chain: str) -> str | None:
        """nfqueue_tg_check: the queue range must fit in 16 bits."""
        return "Invalid argument" if self.last - self.first + 1 > 65535 else None

    def save(self) -> str:
        s = f"--queue-balance {self.first}:{self.last}" if self.last != self.first else f"--queue-num {self.first}"
        if self.bypass:
            s += " --queue-bypass"
        if self.fanout:
            s += " --queue-cpu-fanout"
        return s

    def describe(self, numeric: bool) -> str:
        s = f"NFQUEUE balance {self.first}:{self.last}" if self.last != self.first else f"NFQUEUE num {self.first}"
        if self.bypass:
            s += " bypass"
        if self.fanout:
            s += " cpu-fanout"
        return s

    def target(self, ctx: PacketCtx) -> int:
        ns = ctx.ns
        if ns.world.tracer.on:
            what = "accepted (--queue-bypass)" if self.bypass else "dropped"
            ns.trace(ctx.hook, f"NFQUEUE {self.first}: no userspace reader in netplex, packet {what}",
                     hook=ctx.hook, table=ctx.table, chain=ctx.chain, rule=ctx.rulenum,
                     verdict="ACCEPT" if self.bypass else "DROP")
        return NF_ACCEPT if self.bypass else NF_DROP


for _cls in (RejectTarget, LogTarget, MarkTarget, ConnmarkTarget, TosTarget, DscpTarget, ClassifyTarget,
             TraceTarget, TcpmssTarget, ChecksumTarget, NfqueueTarget):
    register_target(_cls)

__all__ = ["DSCP_CLASSES", "kmsg_add", "log_line", "mark_text"]
