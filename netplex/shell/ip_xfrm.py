"""`ip xfrm` (iproute2 ip/xfrm_state.c, xfrm_policy.c, ipxfrm.c; ip-xfrm(8)): state and policy.

The command parses and prints; the SAD and SPD, their duplicate checks and
errors are the stack's (`netplex/stack/xfrm/state.py`, as xfrm_user.c).
Modelled: `state add|update|delete|get|deleteall|list|flush|count` and
`policy add|update|delete|get|deleteall|list|flush|count`, printed as
iproute2 prints them, and `monitor` (ip/xfrm_monitor.c: the namespace's xfrm
notifications, printed while the simulation runs until `timeout`'s deadline) (with `-s` the statistics, lifetimes and the template
masks); ESP in tunnel and transport mode with the `aead`, `enc`, `auth` and
`auth-trunc` algorithms of `stack/xfrm/algo.py`, and `encap espinudp SPORT
DPORT OADDR` (NAT traversal, RFC 3948); AH (RFC 4302) with `auth` or
`auth-trunc`. _Refused in netplex's words:
IPComp and the Mobile IPv6 protocols, `mode beet|ro|in_trigger`, `mark`,
`encap espinudp-nonike|espintcp`, `coa`, `ctx`, `offload`, `output-mark`, `if_id`, `tfcpad`,
`extra-flag`, ESN, replay windows over 32, sub policies, `policy set`,
`setdefault`, `getdefault`, `allocspi`, `monitor aevent|report|all-nsid|file`
and a monitor in a background job.
"""
from __future__ import annotations

import time
from typing import Any

from netplex.errors import NetplexError
from netplex.packet.addr import int_to_ip
from netplex.shell.iproute_fmt import IpError, invarg, matches, parse_prefix, parse_u32
from netplex.shell.result import Result, unsupported
from netplex.stack.xfrm.algo import AlgoKey, find_algo
from netplex.stack.xfrm.state import (
    UDP_ENCAP_ESPINUDP,
    XFRM_INF,
    XFRM_MODE_TRANSPORT,
    XFRM_MODE_TUNNEL,
    XfrmAcquire,
    XfrmEncapTmpl,
    XfrmLifetime,
    XfrmPolicy,
    XfrmSelector,
    XfrmState,
    XfrmTmpl,
)

__all__ = ["MONITOR_LIMIT_NS", "do_ipxfrm", "do_xfrm_monitor", "policy_text", "state_text"]

XFRM_PROTOS = {"esp": 50, "ah": 51, "comp": 108, "route2": 43, "hao": 60, "ipsec-any": 255}
PROTO_NAMES = {v: k for k, v in XFRM_PROTOS.items()}
STATE_FLAGS = (("noecn", 1), ("decap-dscp", 2), ("nopmtudisc", 4), ("wildrecv", 8), ("icmp", 16),
               ("af-unspec", 32), ("align4", 64), ("esn", 128))
POLICY_FLAGS = (("localok", 1), ("icmp", 2))
DIRS = {"in": 0, "out": 1, "fwd": 2}
DIR_NAMES = {v: k for k, v in DIRS.items()}
ACTIONS = {"allow": 0, "block": 1}
LEVELS = {"required": 0, "use": 1}
MODES = {XFRM_MODE_TRANSPORT: "transport", XFRM_MODE_TUNNEL: "tunnel", 2: "ro", 3: "in_trigger", 4: "beet"}
LIMITS = ("time-soft", "time-hard", "time-use-soft", "time-use-hard", "byte-soft", "byte-hard",
          "packet-soft", "packet-hard")
_UNSUPPORTED_STATE = ("mark", "coa", "ctx", "extra-flag", "offload", "output-mark", "if_id", "tfcpad",
                      "replay-seq-hi", "replay-oseq-hi", "pcpu-num")

USAGE_XFRM = "Usage: ip xfrm XFRM-OBJECT { COMMAND | help }\nwhere  XFRM-OBJECT := state | policy | monitor\n"
_ID_HELP = ("ID := [ src ADDR ] [ dst ADDR ] [ proto XFRM-PROTO ] [ spi SPI ]\n"
            "XFRM-PROTO := esp | ah | comp | route2 | hao\n")
_SEL_HELP = ("SELECTOR := [ src ADDR[/PLEN] ] [ dst ADDR[/PLEN] ] [ dev DEV ] [ UPSPEC ]\n"
             "UPSPEC := proto { { tcp | udp | sctp | dccp } [ sport PORT ] [ dport PORT ] |\n"
             "                  { icmp | ipv6-icmp | mobility-header } [ type NUMBER ] [ code NUMBER ] |\n"
             "                  gre [ key { DOTTED-QUAD | NUMBER } ] | PROTO }\n")
_LIMIT_HELP = ("LIMIT-LIST := [ LIMIT-LIST ] limit LIMIT\n"
               "LIMIT := { time-soft | time-hard | time-use-soft | time-use-hard } SECONDS |\n"
               "         { byte-soft | byte-hard } SIZE | { packet-soft | packet-hard } COUNT\n")
USAGE_STATE = (
    "Usage: ip xfrm state { add | update } ID [ ALGO-LIST ] [ mode MODE ]\n"
    "        [ mark MARK [ mask MASK ] ] [ reqid REQID ] [ dir DIR ] [ seq SEQ ]\n"
    "        [ replay-window SIZE ] [ replay-seq SEQ ] [ replay-oseq SEQ ]\n"
    "        [ replay-seq-hi SEQ ] [ replay-oseq-hi SEQ ]\n"
    "        [ flag FLAG-LIST ] [ sel SELECTOR ] [ LIMIT-LIST ] [ encap ENCAP ]\n"
    "        [ coa ADDR[/PLEN] ] [ ctx CTX ] [ extra-flag EXTRA-FLAG-LIST ]\n"
    "        [ offload [ crypto | packet ] dev DEV dir DIR ]\n"
    "        [ output-mark OUTPUT-MARK [ mask MASK ] ]\n"
    "        [ if_id IF_ID ] [ tfcpad LENGTH ] [ pcpu-num CPUNUM ]\n"
    "Usage: ip xfrm state allocspi ID [ mode MODE ] [ mark MARK [ mask MASK ] ]\n"
    "        [ reqid REQID ] [ dir DIR ] [ seq SEQ ] [ min SPI max SPI ] [ pcpu-num CPUNUM ]\n"
    "Usage: ip xfrm state { delete | get } ID [ mark MARK [ mask MASK ] ]\n"
    "Usage: ip xfrm state deleteall [ ID ] [ mode MODE ] [ reqid REQID ]\n"
    "        [ flag FLAG-LIST ]\n"
    "Usage: ip xfrm state list [ nokeys ] [ ID ] [ mode MODE ] [ reqid REQID ]\n"
    "        [ flag FLAG-LIST ]\n"
    "Usage: ip xfrm state flush [ proto XFRM-PROTO ]\n"
    "Usage: ip xfrm state count\n"
    + _ID_HELP
    + "ALGO-LIST := [ ALGO-LIST ] ALGO\n"
    "ALGO := { enc | auth } ALGO-NAME ALGO-KEYMAT |\n"
    "        auth-trunc ALGO-NAME ALGO-KEYMAT ALGO-TRUNC-LEN |\n"
    "        aead ALGO-NAME ALGO-KEYMAT ALGO-ICV-LEN |\n"
    "        comp ALGO-NAME\n"
    "MODE := transport | tunnel | beet | ro | in_trigger\n"
    "FLAG-LIST := [ FLAG-LIST ] FLAG\n"
    "FLAG := noecn | decap-dscp | nopmtudisc | wildrecv | icmp | af-unspec | align4 | esn\n"
    "EXTRA-FLAG-LIST := [ EXTRA-FLAG-LIST ] EXTRA-FLAG\n"
    "EXTRA-FLAG := dont-encap-dscp | oseq-may-wrap\n"
    + _SEL_HELP + _LIMIT_HELP
    + "ENCAP := { espinudp | espinudp-nonike | espintcp } SPORT DPORT OADDR\n"
    "DIR := in | out\n")
USAGE_POLICY = (
    "Usage: ip xfrm policy { add | update } SELECTOR dir DIR [ ctx CTX ]\n"
    "\t[ mark MARK [ mask MASK ] ] [ index INDEX ] [ ptype PTYPE ]\n"
    "\t[ action ACTION ] [ priority PRIORITY ] [ flag FLAG-LIST ]\n"
    "\t[ if_id IF_ID ] [ LIMIT-LIST ] [ TMPL-LIST ]\n"
    "\t[ offload packet dev DEV] } ]\n"
    "Usage: ip xfrm policy { delete | get } { SELECTOR | index INDEX } dir DIR\n"
    "\t[ ctx CTX ] [ mark MARK [ mask MASK ] ] [ ptype PTYPE ]\n"
    "\t[ if_id IF_ID ]\n"
    "Usage: ip xfrm policy { deleteall | list } [ nosock ] [ SELECTOR ] [ dir DIR ]\n"
    "\t[ index INDEX ] [ ptype PTYPE ] [ action ACTION ] [ priority PRIORITY ]\n"
    "\t[ flag FLAG-LIST ]\n"
    "Usage: ip xfrm policy flush [ ptype PTYPE ]\n"
    "Usage: ip xfrm policy count\n"
    "Usage: ip xfrm policy set [ hthresh4 LBITS RBITS ] [ hthresh6 LBITS RBITS ]\n"
    "Usage: ip xfrm policy setdefault DIR ACTION [ DIR ACTION ] [ DIR ACTION ]\n"
    "Usage: ip xfrm policy getdefault\n"
    + _SEL_HELP
    + "DIR := in | out | fwd\n"
    "PTYPE := main | sub\n"
    "ACTION := allow | block\n"
    "FLAG-LIST := [ FLAG-LIST ] FLAG\n"
    "FLAG := localok | icmp\n"
    + _LIMIT_HELP
    + "TMPL-LIST := [ TMPL-LIST ] tmpl TMPL\n"
    "TMPL := ID [ mode MODE ] [ reqid REQID ] [ level LEVEL ]\n"
    + _ID_HELP
    + "MODE := transport | tunnel | beet | ro | in_trigger\n"
    "LEVEL := required | use\n")


class _Refused(NetplexError):
    """What netplex does not model: refused with `netplex: ... is not supported`."""

    def __init__(self, what: str) -> None:
        super().__init__(f"netplex: {what} is not supported", status=2)
        self.what = what


def missarg(key: str) -> IpError:
    return IpError(f'Error: argument "{key}" is required\n', 255)


def duparg(key: str, arg: str) -> IpError:
    return IpError(f'Error: duplicate "{key}": "{arg}" is the second value.\n', 255)


def _fail(msg: str, status: int = 1) -> IpError:
    return IpError(msg, status)


class _Argv:
    """iproute2's argc/argv cursor: NEXT_ARG, NEXT_ARG_OK, PREV_ARG."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.i = 0

    @property
    def cur(self) -> str:
        return self.args[self.i]

    def more(self) -> bool:
        return self.i < len(self.args)

    def next_ok(self) -> bool:
        return self.i + 1 < len(self.args)

    def next(self) -> str:
        self.i += 1
        if self.i >= len(self.args):
            raise IpError('Command line is not complete. Try option "help"', 255)
        return self.args[self.i]

    def prev(self) -> None:
        self.i -= 1

    def advance(self) -> bool:
        """`if (!NEXT_ARG_OK()) break; NEXT_ARG();`: False at the last word."""
        if not self.next_ok():
            return False
        self.i += 1
        return True

    def need(self, key: str) -> str:
        """`if (!NEXT_ARG_OK()) missarg(key); NEXT_ARG();`"""
        if not self.next_ok():
            raise missarg(key)
        return self.next()


# ---------------------------------------------------------------- parsing

def _u32(text: str, msg: str, top: int = 0xFFFFFFFF) -> int:
    v = parse_u32(text)
    if v is None or v > top:
        raise invarg(msg, text)
    return v


def _choice(text: str, table: dict[str, int], msg: str) -> int:
    """A keyword from `table`, else iproute2's invarg."""
    if text not in table:
        raise invarg(msg, text)
    return table[text]


def _u64(text: str, msg: str) -> int:
    try:
        v = int(text, 0) if not (len(text) > 1 and text[0] == "0" and text[1] not in "xX") else int(text, 8)
    except ValueError:
        raise invarg(msg, text) from None
    if not 0 <= v <= XFRM_INF:
        raise invarg(msg, text)
    return v


def _addr_prefix(text: str, word: str) -> tuple[int, int]:
    try:
        return parse_prefix(text)
    except IpError:
        raise IpError(f'Error: any valid prefix is expected rather than "{text}".', 1) from None


class _Id:
    __slots__ = ("saddr", "splen", "daddr", "dplen", "proto", "spi", "has_spi", "has_src", "has_dst")

    def __init__(self) -> None:
        self.saddr = self.daddr = self.proto = self.spi = 0
        self.splen = self.dplen = 0
        self.has_spi = self.has_src = self.has_dst = False


def _parse_id(a: _Argv, loose: bool) -> _Id:
    """xfrm_id_parse."""
    idv = _Id()
    start = a.i
    while True:
        w = a.cur
        if w == "src":
            idv.saddr, idv.splen = _addr_prefix(a.next(), "src")
            idv.has_src = True
        elif w == "dst":
            idv.daddr, idv.dplen = _addr_prefix(a.next(), "dst")
            idv.has_dst = True
        elif w == "proto":
            idv.proto = _choice(a.next(), XFRM_PROTOS, "XFRM-PROTO value is invalid")
        elif w == "spi":
            idv.spi, idv.has_spi = _u32(a.next(), "SPI value is invalid"), True
        else:
            a.prev()
            break
        if not a.advance():
            break
    if idv.spi and idv.proto in (43, 60):
        raise _fail(f'"spi" is invalid with XFRM-PROTO value "{PROTO_NAMES[idv.proto]}"\n')
    if not loose and idv.proto == 0:
        raise missarg("XFRM-PROTO")
    if a.i == start:
        raise missarg("ID")   # argc == *argcp: iproute2's check, after its PREV_ARG
    return idv


def _parse_mode(w: str) -> int:
    for m, name in MODES.items():
        if matches(w, name):
            return m
    raise invarg("MODE value is invalid", w)


_PROTO_BY_NAME = {"any": 0, "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
                  "sctp": 132, "dccp": 33, "ipv6-icmp": 58, "mobility-header": 135, "ipencap": 4, "ospf": 89}


def _proto_name(p: int) -> str:
    """getprotobynumber's name (Debian's /etc/protocols), else the number."""
    return _PROTO_NAMES_BY_NUM.get(p) or str(p)


_PROTO_NAMES_BY_NUM = {v: k for k, v in _PROTO_BY_NAME.items() if v}


def _parse_selector(a: _Argv, ns: Any) -> XfrmSelector:
    """xfrm_selector_parse (with xfrm_selector_upspec_parse)."""
    sel = XfrmSelector(family=2)
    start = a.i
    upspec = False
    while True:
        w = a.cur
        if w == "src":
            sel.saddr, sel.splen = _addr_prefix(a.next(), "src")
        elif w == "dst":
            sel.daddr, sel.dplen = _addr_prefix(a.next(), "dst")
        elif w == "dev":
            v = a.next()
            if v == "none":
                sel.ifindex = 0
            else:
                dev = ns.devices.get(v)
                if dev is None:
                    raise invarg("DEV value is invalid", v)
                sel.ifindex = dev.ifindex
        else:
            if upspec:
                a.prev()
                break
            upspec = True
            _parse_upspec(a, sel)
        if not a.advance():
            break
    if a.i == start:
        raise missarg("SELECTOR")   # argc == *argcp: iproute2's check, after its PREV_ARG
    return sel


def _parse_upspec(a: _Argv, sel: XfrmSelector) -> None:
    start = a.i
    ports = icmp = key = False
    while True:
        w = a.cur
        if w == "proto":
            v = a.next()
            sel.proto = _PROTO_BY_NAME[v] if v in _PROTO_BY_NAME else _u32(v, "PROTO value is invalid", 255)
        elif w in ("sport", "dport"):
            ports = True
            n = _u32(a.next(), f'value after "{w}" is invalid', 0xFFFF)
            if w == "sport":
                sel.sport, sel.sport_mask = n, 0xFFFF if n else 0
            else:
                sel.dport, sel.dport_mask = n, 0xFFFF if n else 0
        elif w in ("type", "code"):
            icmp = True
            n = _u32(a.next(), f'value after "{w}" is invalid', 0xFF)
            if w == "type":
                sel.sport, sel.sport_mask = n, 0xFFFF
            else:
                sel.dport, sel.dport_mask = n, 0xFFFF
        elif w == "key":
            key = True
            raise _Refused("ip xfrm selector key (GRE keys)")
        else:
            a.prev()
            break
        if not a.advance():
            break
    if a.i == start:
        raise missarg("UPSPEC")   # argc == *argcp: iproute2's check, after its PREV_ARG
    if ports and sel.proto not in (6, 17, 132, 33, 0):
        raise _fail(f'"sport" and "dport" are invalid with PROTO value "{_proto_name(sel.proto)}"\n')
    if icmp and sel.proto not in (1, 58, 135):
        raise _fail(f'"type" and "code" are invalid with PROTO value "{_proto_name(sel.proto)}"\n')
    del key


def _parse_limit(a: _Argv, lft: XfrmLifetime) -> None:
    """xfrm_lifetime_cfg_parse."""
    w = a.cur
    if w not in LIMITS:
        raise invarg("LIMIT value is invalid", w)
    v = _u64(a.next(), f'value after "{w}" is invalid')
    field = {"time-soft": "soft_add", "time-hard": "hard_add", "time-use-soft": "soft_use",
             "time-use-hard": "hard_use", "byte-soft": "soft_bytes", "byte-hard": "hard_bytes",
             "packet-soft": "soft_packets", "packet-hard": "hard_packets"}[w]
    setattr(lft, field, v)


def _keymat(key: str) -> bytes:
    """xfrm_algo_parse: `0x` and hex digits (odd length: a leading 0), else the string's bytes."""
    if len(key) > 2 and key.startswith("0x"):
        hexs = key[2:]
        if len(hexs) % 2:
            hexs = "0" + hexs
        try:
            b = bytes.fromhex(hexs)
        except ValueError:
            raise invarg("ALGO-KEYMAT value is invalid", key) from None
        if len(b) > 512:
            raise invarg("ALGO-KEYMAT value makes buffer overflow\n", key)
        return b
    return key.encode()


def _parse_flags(a: _Argv, table: tuple[tuple[str, int], ...]) -> int:
    w = a.cur
    if len(w) > 2 and w.startswith("0x"):
        try:
            v = int(w, 16)
        except ValueError:
            raise invarg("FLAG value is invalid", w) from None
        if v > 0xFF:
            raise invarg("FLAG value is invalid", w)
        return v
    flags = 0
    names = dict(table)
    while True:
        w = a.cur
        if w not in names:
            a.prev()
            break
        flags |= names[w]
        if not a.advance():
            break
    return flags


def _parse_encap(a: _Argv) -> XfrmEncapTmpl:
    """`encap ENCAP-TYPE SPORT DPORT OADDR` (xfrm_encap_type_parse, get_be16, get_addr)."""
    kind = a.next()
    if kind in ("espinudp-nonike", "espintcp"):
        raise _Refused(f"ip xfrm state encap {kind}")
    _choice(kind, {"espinudp": UDP_ENCAP_ESPINUDP}, "ENCAP-TYPE value is invalid")
    sport = _u32(a.next(), 'SPORT value after "encap" is invalid', 0xFFFF)
    dport = _u32(a.next(), 'DPORT value after "encap" is invalid', 0xFFFF)
    text = a.next()
    try:
        oa, plen = parse_prefix(text)
    except IpError:
        raise IpError(f'Error: an inet address is expected rather than "{text}".', 1) from None
    if "/" in text:
        raise IpError(f'Error: an inet address is expected rather than "{text}".', 1)
    return XfrmEncapTmpl(UDP_ENCAP_ESPINUDP, sport, dport, oa)


def _state_modify(ns: Any, args: list[str], update: bool) -> Result:
    a = _Argv(args)
    x_mode = 0
    reqid = seq = replay_window = rseq = roseq = flags = 0
    dir = 0
    idv: _Id | None = None
    sel = XfrmSelector()
    lft = XfrmLifetime()
    aead = enc = auth = None
    encap: XfrmEncapTmpl | None = None
    aeadop = ealgop = aalgop = calgop = False
    while a.more():
        w = a.cur
        if w == "mode":
            x_mode = _parse_mode(a.next())
        elif w == "reqid":
            reqid = _u32(a.next(), "REQID value is invalid")
        elif w == "seq":
            seq = _u32(a.next(), "SEQ value is invalid")
        elif w == "replay-window":
            replay_window = _u32(a.next(), 'value after "replay-window" is invalid')
        elif w == "replay-seq":
            rseq = _u32(a.next(), 'value after "replay-seq" is invalid')
        elif w == "replay-oseq":
            roseq = _u32(a.next(), 'value after "replay-oseq" is invalid')
        elif w == "flag":
            a.next()
            flags = _parse_flags(a, STATE_FLAGS)
        elif w == "sel":
            a.next()
            sel = _parse_selector(a, ns)
        elif w == "limit":
            a.next()
            _parse_limit(a, lft)
        elif w == "dir":
            v = a.next()
            if v not in ("in", "out"):
                raise invarg('DIR value is not "in" or "out"', v)
            dir = 1 if v == "in" else 2
        elif w == "encap":
            encap = _parse_encap(a)
        elif w in _UNSUPPORTED_STATE:
            raise _Refused(f"ip xfrm state {w}")
        elif w in ("aead", "enc", "auth", "auth-trunc", "comp"):
            if w == "aead":
                if ealgop or aalgop or aeadop:
                    raise duparg("ALGO-TYPE", w)
                aeadop = True
            elif w == "enc":
                if ealgop or aeadop:
                    raise duparg("ALGO-TYPE", w)
                ealgop = True
            elif w in ("auth", "auth-trunc"):
                if aalgop or aeadop:
                    raise duparg("ALGO-TYPE", w)
                aalgop = True
            else:
                if calgop:
                    raise duparg("ALGO-TYPE", w)
                calgop = True
            name = a.need("ALGO-NAME")
            if w == "comp":
                raise _Refused("ip xfrm state comp (IPComp)")
            key = _keymat(a.need("ALGO-KEYMAT"))
            extra = 0
            if w == "aead":
                extra = _u32(a.need("ALGO-ICV-LEN"), "ALGO-ICV-LEN value is invalid")
            elif w == "auth-trunc":
                extra = _u32(a.need("ALGO-TRUNC-LEN"), "ALGO-TRUNC-LEN value is invalid")
            kind = "auth" if w.startswith("auth") else w
            algo = find_algo(kind, name)   # type: ignore[arg-type]
            if algo is None or (w == "aead" and extra not in algo.icv_bits):
                # xfrm_*_get_byname fails (an AEAD's ICV length is part of its name): ENOSYS with
                # xfrm_user.c's extack, as iproute2 prints it (checked on Linux 6.18, iproute2 6.1)
                what = {"aead": "AEAD", "enc": "CRYPT"}.get(w, "AUTH")
                raise IpError(f"Error: Requested {what} algorithm not found.", 2)
            if w == "aead":
                aead = AlgoKey(algo, key, extra)
            elif w == "enc":
                enc = AlgoKey(algo, key)
            else:
                trunc = extra if w == "auth-trunc" else algo.trunc_bits
                if trunc > algo.full_bits:
                    raise IpError("Error: Invalid length requested for truncated ICV.", 2)   # attach_auth_trunc
                auth = AlgoKey(algo, key, trunc)
        else:
            if idv is not None:
                raise invarg("unknown", w)
            idv = _parse_id(a, loose=False)
        a.i += 1
    if flags & 128:
        raise _Refused("ip xfrm state flag esn (extended sequence numbers)")
    if replay_window > 32:
        raise _Refused("ip xfrm state replay-window over 32 (the ESN replay state)")
    if idv is None:
        raise _fail("Not enough information: ID is required\n")
    proto = idv.proto
    pname = PROTO_NAMES.get(proto, str(proto))
    if proto in (50, 51, 108):
        if x_mode not in (XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL) and not (x_mode == 4 and proto == 50):
            raise _fail(f'MODE value is invalid with XFRM-PROTO value "{pname}"\n')
        if proto == 50:
            if calgop:
                raise _fail(f'ALGO-TYPE value "comp" is invalid with XFRM-PROTO value "{pname}"\n')
            if not ealgop and not aeadop:
                raise _fail(f'ALGO-TYPE value "enc" or "aead" is required with XFRM-PROTO value "{pname}"\n')
        elif proto == 51:
            if ealgop or aeadop or calgop:
                raise _fail(f'ALGO-TYPE values "enc", "aead", and "comp" are invalid with XFRM-PROTO value '
                            f'"{pname}"\n')
            if not aalgop:
                raise _fail(f'ALGO-TYPE value "auth" or "auth-trunc" is required with XFRM-PROTO value "{pname}"\n')
    elif ealgop or aalgop or aeadop or calgop:
        raise _fail(f'ALGO is invalid with XFRM-PROTO value "{pname}"\n')
    if proto not in (50, 51):
        raise _Refused(f"ip xfrm state proto {pname} (netplex models ESP and AH)")
    if x_mode == 4:
        raise _Refused("ip xfrm state mode beet")
    if enc is not None and enc.algo.name == "ecb(cipher_null)" and auth is None:
        raise IpError("RTNETLINK answers: Invalid argument", 2)   # esp_init_authenc: null cipher needs auth
    x = XfrmState(idv.daddr, idv.spi, proto, saddr=idv.saddr, mode=x_mode, reqid=reqid,
                  replay_window=replay_window, flags=flags, seq=seq, sel=sel, lft=lft, aead=aead, enc=enc,
                  auth=auth, dir=dir, encap=encap)
    x.replay_seq, x.oseq = rseq, roseq
    if not idv.has_spi or not idv.has_src or not idv.has_dst:
        # verify_newsa_info / xfrm_state_add: the SA's addresses and SPI must be whole
        if not idv.spi:
            raise IpError("RTNETLINK answers: Invalid argument", 2)
    ns.xfrm.state_add(x, update=update)
    return Result(0)


# ---------------------------------------------------------------- printing

def _time(t: int) -> str:
    """strxf_time: `-` for 0, else the local (here UTC) time."""
    if not t:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def _limit(v: int) -> str:
    return "(INF)" if v == XFRM_INF else str(v)


def _id_lines(saddr: int, daddr: int, proto: int, spi: int, reqid: int, mode: int, force_spi: bool,
              stats: int, prefix: str, title: str) -> str:
    """xfrm_id_info_print."""
    s = f"{title}src {int_to_ip(saddr)} dst {int_to_ip(daddr)}\n{prefix}\t"
    s += f"proto {PROTO_NAMES.get(proto, str(proto))} "
    if stats > 0 or force_spi or spi:
        s += f"spi 0x{spi:08x}" + (f"({spi})" if stats > 0 else "") + " "
    s += f"reqid {reqid}" + (f"(0x{reqid:08x})" if stats > 0 else "") + " "
    s += f"mode {MODES.get(mode, str(mode))}\n"
    return s


def _sel_line(sel: XfrmSelector, stats: int, prefix: str, ns: Any) -> str:
    """xfrm_selector_print."""
    s = f"{prefix}src {int_to_ip(sel.saddr)}/{sel.splen} dst {int_to_ip(sel.daddr)}/{sel.dplen} "
    if sel.proto:
        s += f"proto {_proto_name(sel.proto)} "
    if sel.proto in (1, 58):
        if sel.sport_mask:
            s += f"type {sel.sport} "
        if sel.dport_mask:
            s += f"code {sel.dport} "
    elif sel.proto == 47:
        if sel.sport_mask or sel.dport_mask:
            s += f"key {(sel.sport << 16) + sel.dport} "
    else:
        if sel.sport_mask:
            s += f"sport {sel.sport} "
        if sel.dport_mask:
            s += f"dport {sel.dport} "
    if sel.ifindex > 0:
        dev = ns.by_index.get(sel.ifindex)
        s += f"dev {dev.name if dev is not None else f'if{sel.ifindex}'} "
    if stats > 0:
        s += "uid 0"
    return s + "\n"


def _algo_line(kind: str, k: AlgoKey, extra: int | None, stats: int, prefix: str, nokeys: bool) -> str:
    s = f"{prefix}{kind} {k.algo.name} "
    if nokeys:
        s += "<<Keys hidden>>"
    elif k.key:
        s += "0x" + k.key.hex()
        if stats > 0:
            s += f" ({len(k.key) * 8} bits)"
    if extra is not None:
        s += f" {extra}"
    return s + "\n"


def _lifetime_lines(lft: XfrmLifetime, cur: tuple[int, int, int, int], prefix: str) -> str:
    b, p, add, use = cur
    return (f"{prefix}lifetime config:\n"
            f"{prefix}  limit: soft {_limit(lft.soft_bytes)}(bytes), hard {_limit(lft.hard_bytes)}(bytes)\n"
            f"{prefix}  limit: soft {_limit(lft.soft_packets)}(packets), hard {_limit(lft.hard_packets)}(packets)\n"
            f"{prefix}  expire add: soft {lft.soft_add}(sec), hard {lft.hard_add}(sec)\n"
            f"{prefix}  expire use: soft {lft.soft_use}(sec), hard {lft.hard_use}(sec)\n"
            f"{prefix}lifetime current:\n"
            f"{prefix}  {b}(bytes), {p}(packets)\n"
            f"{prefix}  add {_time(add)} use {_time(use)}\n")


def _flag_names(flags: int, table: tuple[tuple[str, int], ...]) -> str:
    """XFRM_FLAG_PRINT over a table, then what is left in hex."""
    s = ""
    for name, bit in table:
        if flags & bit:
            flags &= ~bit
            s += name + (" " if flags else "")
    if flags:
        s += f"{flags:x}"
    return s


def state_text(ns: Any, x: XfrmState, stats: int = 0, nokeys: bool = False, event: str = "") -> str:
    """xfrm_state_info_print (with __do_xfrm_state_print's Deleted/Updated/Expired). An EXPIRE
    message (xfrm_user.c's build_expire) carries the xfrm_usersa_info alone, without the
    algorithm, encap, last-used and replay attributes, so those lines are not printed for it."""
    attrs = event != "expire"
    head = {"delsa": "Deleted ", "updsa": "Updated ", "expire": "Expired "}.get(event, "")
    s = head + _id_lines(x.saddr, x.daddr, x.proto, x.spi, x.reqid, x.mode, True, stats, "", "")
    buf = "\t"
    s += f"{buf}replay-window {x.replay_window} "
    if stats > 0:
        s += f"seq 0x{x.seq:08d} "
    if stats > 0 or x.flags:
        s += "flag " + _flag_names(x.flags, STATE_FLAGS)
    if stats > 0:
        s += f" (0x{x.flags:08b})"
    s += "\n"
    if attrs:
        s += _state_attr_lines(x, stats, buf, nokeys)
    if x.dir:
        s += "\tdir " + ("in" if x.dir == 1 else "out") + "\n"
    sel = x.sel if x.sel.family else XfrmSelector(family=2)
    s += _sel_line(sel, stats, buf + "sel ", ns)
    if stats > 0:
        s += _lifetime_lines(x.lft, (x.bytes, x.packets, x.add_time, x.use_time), buf)
        s += (f"{buf}stats:\n"
              f"{buf}  replay-window {x.st_replay_window} replay {x.st_replay} failed {x.st_integrity_failed}\n")
    return s


def _state_attr_lines(x: XfrmState, stats: int, buf: str, nokeys: bool) -> str:
    """xfrm_xfrma_print's part of a state: algorithms, encap, last use, the replay state."""
    s = ""
    if x.auth is not None:
        s += _algo_line("auth-trunc", x.auth, x.auth.icv_bits, stats, buf, nokeys)
    if x.aead is not None:
        s += _algo_line("aead", x.aead, x.aead.icv_bits, stats, buf, nokeys)
    if x.enc is not None:
        s += _algo_line("enc", x.enc, None, stats, buf, nokeys)
    if x.encap is not None:
        e = x.encap
        s += f"{buf}encap type espinudp sport {e.sport} dport {e.dport} addr {int_to_ip(e.oa)}\n"
    if x.lastused:
        s += f"{buf}lastused {_time(x.lastused)}\n"
    return s + f"{buf}anti-replay context: seq 0x{x.replay_seq:x}, oseq 0x{x.oseq:x}, bitmap 0x{x.bitmap:08x}\n"


def policy_text(ns: Any, p: XfrmPolicy, stats: int = 0, event: str = "", title: str = "", prefix: str = "") -> str:
    """xfrm_policy_info_print (`title` before the selector, `prefix` before the other lines)."""
    head = {"delpolicy": "Deleted ", "updpolicy": "Updated ", "polexpire": "Expired "}.get(event, "")
    s = head + _sel_line(p.sel, stats, title, ns)
    buf = prefix + "\t"
    s += f"{buf}dir {DIR_NAMES.get(p.dir, str(p.dir))} "
    if p.action == 1:
        s += "action block "
    elif stats > 0:
        s += "action allow "
    if stats:
        s += f"index {p.index} "
    s += f"priority {p.priority} ptype {'main' if p.ptype == 0 else 'sub'} "
    if stats > 0:
        s += "share any "
    if stats > 0 or p.flags:
        s += "flag " + _flag_names(p.flags, POLICY_FLAGS)
    if stats > 0:
        s += f" (0x{p.flags:08b})"
    s += "\n"
    if stats > 0:
        s += _lifetime_lines(p.lft, (0, 0, p.add_time, p.use_time), buf)
    for t in p.tmpls:
        s += buf + _id_lines(t.saddr, t.daddr, t.proto, t.spi, t.reqid, t.mode, False, stats, buf, "tmpl ")
        if stats > 0 or t.optional:
            s += buf + "\t"
            if t.optional == 1:
                s += "level use "
            elif t.optional:
                s += f"level {t.optional} "
            elif stats > 0:
                s += "level required "
            if stats > 0:
                s += "share any "
            s += "\n"
        if stats > 0:
            s += f"{buf}\tenc-mask {t.ealgos:08x} auth-mask {t.aalgos:08x} comp-mask {t.calgos:08x}\n"
    return s


def _records(texts: list[str], opts: Any) -> str:
    """Records as printed; with `-o` each record's line breaks are `\\` (_SL_) and it ends in a newline."""
    if opts.oneline:
        return "".join(t.replace("\n", "\\") + "\n" for t in texts)
    return "".join(texts)


# ---------------------------------------------------------------- state commands

def _state_filter(ns: Any, a: _Argv, allow_nokeys: bool) -> tuple[list[XfrmState], bool]:
    idv: _Id | None = None
    mode = reqid = flags = None
    nokeys = False
    while a.more():
        w = a.cur
        if w == "nokeys" and allow_nokeys:
            nokeys = True
        elif w == "mode":
            mode = _parse_mode(a.next())
        elif w == "reqid":
            reqid = _u32(a.next(), "REQID value is invalid")
        elif w == "flag":
            a.next()
            flags = _parse_flags(a, STATE_FLAGS)
        else:
            if idv is not None:
                raise invarg("unknown", w)
            idv = _parse_id(a, loose=True)
        a.i += 1
    out = []
    for x in ns.xfrm.states:
        if idv is not None:
            if idv.has_src and not _under(x.saddr, idv.saddr, idv.splen):
                continue
            if idv.has_dst and not _under(x.daddr, idv.daddr, idv.dplen):
                continue
            if idv.proto and x.proto != idv.proto:
                continue
            if idv.has_spi and x.spi != idv.spi:
                continue
        if mode is not None and x.mode != mode:
            continue
        if reqid is not None and x.reqid != reqid:
            continue
        if flags is not None and x.flags != flags:
            continue
        out.append(x)
    return out, nokeys


def _state_get(ns: Any, args: list[str], delete: bool, stats: int) -> Result:
    a = _Argv(args)
    idv: _Id | None = None
    while a.more():
        w = a.cur
        if w == "mark":
            raise _Refused("ip xfrm state mark")
        if idv is not None:
            raise invarg("unknown", w)
        idv = _parse_id(a, loose=False)
        a.i += 1
    if idv is None:
        idv = _Id()
    x = ns.xfrm.state_get(idv.daddr, idv.spi, idv.proto)
    if delete:
        ns.xfrm.state_del(x)
        return Result(0)
    return Result(0, state_text(ns, x, stats))


def _state_flush(ns: Any, args: list[str]) -> Result:
    a = _Argv(args)
    proto = 0
    seen = False
    while a.more():
        w = a.cur
        if w == "proto":
            if seen:
                raise duparg("proto", w)
            seen = True
            proto = _choice(a.next(), XFRM_PROTOS, "XFRM-PROTO value is invalid")
        else:
            raise invarg("unknown", w)
        a.i += 1
    ns.xfrm.state_flush(proto)
    return Result(0)


def do_xfrm_state(ns: Any, opts: Any, args: list[str]) -> Result:
    stats = opts.stats
    if not args:
        states, _ = _state_filter(ns, _Argv([]), True)
        return Result(0, _records([state_text(ns, x, stats) for x in states], opts))
    verb, rest = args[0], args[1:]
    if matches(verb, "add"):
        return _state_modify(ns, rest, False)
    if matches(verb, "update"):
        return _state_modify(ns, rest, True)
    if matches(verb, "allocspi"):
        raise _Refused("ip xfrm state allocspi")
    if matches(verb, "delete"):
        return _state_get(ns, rest, True, stats)
    if matches(verb, "deleteall") or matches(verb, "delall"):
        states, _ = _state_filter(ns, _Argv(rest), False)
        for x in states:
            ns.xfrm.state_del(x)
        return Result(0)
    if matches(verb, "list") or matches(verb, "show") or matches(verb, "lst"):
        states, nokeys = _state_filter(ns, _Argv(rest), True)
        return Result(0, _records([state_text(ns, x, stats, nokeys) for x in states], opts))
    if matches(verb, "get"):
        r = _state_get(ns, rest, False, stats)
        return Result(r.status, _records([r.output], opts) if r.output else "", r.error)
    if matches(verb, "flush"):
        return _state_flush(ns, rest)
    if matches(verb, "count"):
        return Result(0, f"\t SAD count {len(ns.xfrm.states)}" + (" (buckets count 8 Max 1048576)" if stats else "")
                      + "\n")
    if matches(verb, "help"):
        return Result(255, "", USAGE_STATE)
    return Result(255, "", f'Command "{verb}" is unknown, try "ip xfrm state help".\n')


# ---------------------------------------------------------------- policy commands

def _parse_tmpl(a: _Argv) -> XfrmTmpl:
    """xfrm_tmpl_parse."""
    t = XfrmTmpl()
    start = a.i
    seen_id = False
    while True:
        w = a.cur
        if w == "mode":
            t.mode = _parse_mode(a.next())
        elif w == "reqid":
            t.reqid = _u32(a.next(), "REQID value is invalid")
        elif w == "level":
            t.optional = _choice(a.next(), LEVELS, "LEVEL value is invalid\n")
        else:
            if seen_id:
                a.prev()
                break
            seen_id = True
            idv = _parse_id(a, loose=False)
            t.saddr, t.daddr, t.proto, t.spi = idv.saddr, idv.daddr, idv.proto, idv.spi
        if not a.advance():
            break
    if a.i == start:
        raise missarg("TMPL")   # argc == *argcp: iproute2's check, after its PREV_ARG
    if t.proto not in (50, 51):
        raise _Refused(f"ip xfrm policy tmpl proto {PROTO_NAMES.get(t.proto, str(t.proto))} "
                       "(netplex models ESP and AH)")
    if t.mode not in (XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL):
        raise _Refused(f"ip xfrm policy tmpl mode {MODES.get(t.mode, str(t.mode))}")
    return t


def _parse_dir(w: str) -> int:
    return _choice(w, DIRS, "DIR value is invalid")


def _parse_ptype(w: str) -> int:
    if w == "main":
        return 0
    if w == "sub":
        raise _Refused("ip xfrm policy ptype sub")
    raise invarg("PTYPE value is invalid", w)


def _policy_modify(ns: Any, args: list[str], update: bool) -> Result:
    a = _Argv(args)
    dir: int | None = None
    sel: XfrmSelector | None = None
    ptype_seen = False
    p = XfrmPolicy(XfrmSelector(family=2), 0)
    while a.more():
        w = a.cur
        if w == "dir":
            if dir is not None:
                raise duparg("dir", w)
            dir = _parse_dir(a.next())
        elif w in ("ctx", "mark", "if_id", "offload"):
            raise _Refused(f"ip xfrm policy {w}")
        elif w == "index":
            p.index = _u32(a.next(), "INDEX value is invalid")
        elif w == "ptype":
            if ptype_seen:
                raise duparg("ptype", w)
            ptype_seen = True
            p.ptype = _parse_ptype(a.next())
        elif w == "action":
            p.action = _choice(a.next(), ACTIONS, "ACTION value is invalid\n")
        elif w == "priority":
            p.priority = _u32(a.next(), "PRIORITY value is invalid")
        elif w == "flag":
            a.next()
            p.flags = _parse_flags(a, POLICY_FLAGS)
        elif w == "limit":
            a.next()
            _parse_limit(a, p.lft)
        elif w == "tmpl":
            a.next()
            p.tmpls.append(_parse_tmpl(a))
        else:
            if sel is not None:
                raise duparg("unknown", w)
            sel = _parse_selector(a, ns)
        a.i += 1
    if dir is None:
        raise _fail("Not enough information: DIR is required.\n")
    p.dir = dir
    if sel is not None:
        p.sel = sel
    for t in p.tmpls:
        if t.mode == XFRM_MODE_TUNNEL and t.optional and dir == 1:
            # validate_tmpl
            raise IpError("Error: Mode in optional template not allowed in outbound policy.\n"
                          "RTNETLINK answers: Invalid argument", 2)
    if p.index and not update and p.index & 7 != dir:
        raise IpError("RTNETLINK answers: Invalid argument", 2)   # verify_policy_dir / xfrm_policy_id2dir
    ns.xfrm.policy_add(p, update=update)
    return Result(0)


def _policy_get(ns: Any, args: list[str], delete: bool, stats: int) -> Result:
    a = _Argv(args)
    dir: int | None = None
    sel: XfrmSelector | None = None
    index: int | None = None
    ptype = 0
    ptype_seen = False
    while a.more():
        w = a.cur
        if w == "dir":
            if dir is not None:
                raise duparg("dir", w)
            dir = _parse_dir(a.next())
        elif w in ("ctx", "mark", "if_id"):
            raise _Refused(f"ip xfrm policy {w}")
        elif w == "index":
            if index is not None:
                raise duparg("index", w)
            index = _u32(a.next(), "INDEX value is invalid")
        elif w == "ptype":
            if ptype_seen:
                raise duparg("ptype", w)
            ptype_seen = True
            ptype = _parse_ptype(a.next())
        else:
            if sel is not None:
                raise invarg("unknown", w)
            sel = _parse_selector(a, ns)
        a.i += 1
    if dir is None:
        raise _fail("Not enough information: DIR is required.\n")
    if sel is None and index is None:
        raise _fail("Not enough information: either SELECTOR or INDEX is required.\n")
    if sel is not None and index is not None:
        raise IpError('Error: either "SELECTOR" is duplicate, or "INDEX" is a garbage.\n', 255)
    p = ns.xfrm.policy_get(dir, sel, index or 0, ptype)
    if delete:
        ns.xfrm.policy_del(p)
        return Result(0)
    return Result(0, policy_text(ns, p, stats))


def _policy_filter(ns: Any, args: list[str]) -> list[XfrmPolicy]:
    a = _Argv(args)
    sel: XfrmSelector | None = None
    dir = index = action = priority = flags = None
    while a.more():
        w = a.cur
        if w == "dir":
            dir = _parse_dir(a.next())
        elif w == "index":
            index = _u32(a.next(), "INDEX value is invalid")
        elif w == "ptype":
            _parse_ptype(a.next())
        elif w == "action":
            action = _choice(a.next(), ACTIONS, "ACTION value is invalid\n")
        elif w == "priority":
            priority = _u32(a.next(), "PRIORITY value is invalid")
        elif w == "flag":
            a.next()
            flags = _parse_flags(a, POLICY_FLAGS)
        elif w == "nosock":
            pass
        else:
            if sel is not None:
                raise invarg("unknown", w)
            sel = _parse_selector(a, ns)
        a.i += 1
    out = []
    for p in ns.xfrm.policies:
        if dir is not None and p.dir != dir:
            continue
        if index is not None and p.index != index:
            continue
        if action is not None and p.action != action:
            continue
        if priority is not None and p.priority != priority:
            continue
        if flags is not None and p.flags != flags:
            continue
        if sel is not None and not _sel_filter(sel, p.sel):
            continue
        out.append(p)
    return out


def _under(a: int, b: int, plen: int) -> bool:
    """xfrm_addr_match: `a` within `b`/`plen`."""
    return plen == 0 or (a ^ b) >> (32 - plen) == 0


def _sel_filter(f: XfrmSelector, s: XfrmSelector) -> bool:
    """xfrm_policy_filter_match: the given fields equal (addresses under the filter's prefix)."""
    return (_under(f.saddr, s.saddr, f.splen) and _under(f.daddr, s.daddr, f.dplen)
            and (not f.proto or f.proto == s.proto) and (not f.sport_mask or f.sport == s.sport)
            and (not f.dport_mask or f.dport == s.dport) and (not f.ifindex or f.ifindex == s.ifindex))


def do_xfrm_policy(ns: Any, opts: Any, args: list[str]) -> Result:
    stats = opts.stats
    if not args:
        return Result(0, _records([policy_text(ns, p, stats) for p in ns.xfrm.policies], opts))
    verb, rest = args[0], args[1:]
    if matches(verb, "add"):
        return _policy_modify(ns, rest, False)
    if matches(verb, "update"):
        return _policy_modify(ns, rest, True)
    if matches(verb, "delete"):
        return _policy_get(ns, rest, True, stats)
    if matches(verb, "deleteall") or matches(verb, "delall"):
        for p in _policy_filter(ns, rest):
            ns.xfrm.policy_del(p)
        return Result(0)
    if matches(verb, "list") or matches(verb, "show") or matches(verb, "lst"):
        return Result(0, _records([policy_text(ns, p, stats) for p in _policy_filter(ns, rest)], opts))
    if matches(verb, "get"):
        r = _policy_get(ns, rest, False, stats)
        return Result(r.status, _records([r.output], opts) if r.output else "", r.error)
    if matches(verb, "flush"):
        a = _Argv(rest)
        ptype = 0
        while a.more():
            if a.cur == "ptype":
                ptype = _parse_ptype(a.next())
            else:
                raise invarg("unknown", a.cur)
            a.i += 1
        ns.xfrm.policy_flush(ptype)
        return Result(0)
    if matches(verb, "count"):
        c = [len(ns.xfrm.spd[d]) for d in (0, 1, 2)]
        s = f"\t SPD IN  {c[0]} OUT {c[1]} FWD {c[2]}"
        if stats:
            s += " (Sock: IN 0 OUT 0 FWD 0)"
        return Result(0, s + "\n")
    if matches(verb, "set") or matches(verb, "setdefault") or matches(verb, "getdefault"):
        raise _Refused(f"ip xfrm policy {verb}")
    if matches(verb, "help"):
        return Result(255, "", USAGE_POLICY)
    return Result(255, "", f'Command "{verb}" is unknown, try "ip xfrm policy help".\n')


# ---------------------------------------------------------------- monitor

USAGE_MONITOR = ("Usage: ip xfrm monitor [ nokeys ] [ all-nsid ] [ all | OBJECTS | help ]\n"
                 "OBJECTS := { acquire | expire | SA | aevent | policy | report }\n")
NSEC_PER_SEC = 1_000_000_000
MONITOR_LIMIT_NS = 60 * NSEC_PER_SEC      # off a terminal and without `timeout`: the monitor stops here
MONITOR_STEP_NS = 100_000_000             # at a terminal: lines are written and Ctrl-C read this often
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
# the multicast group (XFRMNLGRP_*) each notification goes to, by the object word that selects it
_GROUP_OF = {"newsa": "SA", "updsa": "SA", "delsa": "SA", "flushsa": "SA", "expire": "expire",
             "polexpire": "expire", "newpolicy": "policy", "updpolicy": "policy", "delpolicy": "policy",
             "flushpolicy": "policy", "acquire": "acquire"}
_MONITOR_OBJECTS = ("acquire", "expire", "SA", "aevent", "policy", "report")


def _acquire_text(ns: Any, acq: XfrmAcquire, stats: int) -> str:
    """xfrm_acquire_print: the template's protocol, the flow's selector (xfrm4's init_tempsel: both
    addresses /32, the ports or ICMP type/code with full masks, the output device), the policy."""
    s = f"acquire proto {PROTO_NAMES.get(acq.tmpl.proto, str(acq.tmpl.proto))} "
    if stats > 0:
        s += "spi 0x00000000(0) "
    s += "\n"
    sel = XfrmSelector(family=2, saddr=acq.src, splen=32, daddr=acq.dst, dplen=32, proto=acq.proto,
                       sport=acq.sport, sport_mask=0xFFFF, dport=acq.dport, dport_mask=0xFFFF, ifindex=acq.oif)
    s += _sel_line(sel, stats, "  sel ", ns)
    s += policy_text(ns, acq.policy, stats, title="  policy ", prefix="    ")
    if stats > 0:
        t = acq.tmpl
        s += f"  seq 0x{acq.seq:08d} enc-mask {t.ealgos:08x} auth-mask {t.aalgos:08x} comp-mask {t.calgos:08x}"
    return s + "\n"


def _event_text(ns: Any, event: str, obj: Any, hard: int, stats: int, nokeys: bool) -> str:
    """xfrm_accept_msg: one notification as `ip xfrm monitor` prints it."""
    if event in ("newsa", "updsa", "delsa", "expire"):
        s = state_text(ns, obj, stats, nokeys, event)
        return s + (f"\thard {hard}\n" if event == "expire" else "")
    if event in ("newpolicy", "updpolicy", "delpolicy", "polexpire"):
        s = policy_text(ns, obj, stats, event)
        return s + (f"\thard {hard}\n" if event == "polexpire" else "")
    if event == "flushsa":
        return f"Flushed state proto {PROTO_NAMES.get(obj, str(obj))}\n"
    if event == "flushpolicy":
        # XFRMA_POLICY_TYPE rides along only with CONFIG_XFRM_SUB_POLICY, which Debian's kernel lacks
        return "Flushed policy \n"
    return _acquire_text(ns, obj, stats)


def do_xfrm_monitor(ns: Any, opts: Any, args: list[str]) -> Result:
    """do_xfrm_monitor: listen to the namespace's xfrm notifications (xfrm_user.c's km_state_notify,
    km_policy_notify, km_query) while the simulation runs: until `timeout`'s deadline (SIGTERM),
    Ctrl-C at a terminal, or MONITOR_LIMIT_NS off a terminal."""
    ctx = opts.ctx
    groups: set[str] | None = None        # None: every group (~0)
    nokeys = False
    a = _Argv(args)
    while a.more():
        w = a.cur
        if matches(w, "file"):
            a.next()
            return unsupported("ip xfrm monitor file", "netplex keeps no netlink dumps to replay")
        if w == "nokeys":
            nokeys = True
        elif w == "all":
            pass
        elif matches(w, "all-nsid"):
            return unsupported("ip xfrm monitor all-nsid", "netplex has no namespace ids: monitor one "
                               "namespace (ip -n NAME xfrm monitor)")
        elif matches(w, "help"):
            return Result(255, "", USAGE_MONITOR)
        else:
            obj = next((o for o in _MONITOR_OBJECTS if matches(w, o)), None)
            if obj is None:
                return Result(255, "", f'Argument "{w}" is unknown, try "ip xfrm monitor help".\n')
            if obj in ("aevent", "report"):
                return unsupported(f"ip xfrm monitor {obj}", "netplex sends no replay/timer async events "
                                   "(XFRM_MSG_NEWAE) and no XFRM_MSG_REPORT")
            groups = (groups or set()) | {obj}
        a.i += 1
    if ctx is not None and ctx.background:
        return unsupported("ip xfrm monitor in a background job (&)",
                           "netplex's shell runs a job to completion before the next command, so it would "
                           "see none of what follows; run `timeout N ip xfrm monitor` while a daemon or a "
                           "lifetime changes the SAD")
    world = ns.world
    term = ctx.terminal if ctx is not None else None
    limit = ctx.deadline if ctx is not None else None
    unbounded = limit is None and term is None
    if unbounded:
        limit = world.now + MONITOR_LIMIT_NS
    lines: list[str] = []

    def on_event(event: str, obj: Any, hard: int) -> None:
        group = _GROUP_OF.get(event)
        if group is not None and (groups is None or group in groups):
            lines.append(_records([_event_text(ns, event, obj, hard, opts.stats, nokeys)], opts))

    xf = ns.xfrm
    xf.listen(on_event)
    shown = 0
    try:
        while True:
            if term is not None:
                term.write("".join(lines[shown:]))
                shown = len(lines)
                if term.interrupted():
                    return Result(EXIT_SIGINT, "", "")
            if limit is not None and world.now >= limit:
                break
            remaining = MONITOR_STEP_NS if limit is None else limit - world.now
            step = remaining if term is None else min(MONITOR_STEP_NS, remaining)
            world.run_until(lambda: False, step)
            if term is not None:
                term.tick(step)
    finally:
        xf.unlisten(on_event)
    out = "".join(lines[shown:])
    if unbounded:
        return Result(2, out, f"netplex: ip xfrm monitor stopped at netplex's limit "
                              f"({MONITOR_LIMIT_NS // NSEC_PER_SEC} s of simulated time): only an interactive "
                              "terminal monitors until Ctrl-C; bound it with `timeout`\n")
    return Result(EXIT_SIGTERM, out, "")


def do_ipxfrm(ns: Any, opts: Any, args: list[str]) -> Result:
    """do_xfrm: state (sa), policy, monitor."""
    if not args:
        return Result(255, "", USAGE_XFRM)
    obj, rest = args[0], args[1:]
    try:
        if matches(obj, "state") or matches(obj, "sa"):
            return do_xfrm_state(ns, opts, rest)
        if matches(obj, "policy"):
            return do_xfrm_policy(ns, opts, rest)
        if matches(obj, "monitor"):
            return do_xfrm_monitor(ns, opts, rest)
    except _Refused as e:
        return unsupported(e.what)
    return Result(255, "", USAGE_XFRM)
