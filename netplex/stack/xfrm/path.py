"""IPsec on the packet path: policy lookup on output and forward, ESP output,
ESP input by SPI with re-injection, the inbound policy check
(net/xfrm/xfrm_policy.c xfrm_lookup / __xfrm_policy_check, xfrm_output.c,
xfrm_input.c, net/ipv4/esp4.c, xfrm4_mode_tunnel; RFC 4301 §5, RFC 4303 §3).

The IPv4 path calls in only while the SPD or SAD is not empty (`Xfrm.spd_out`,
`Xfrm.active`), so a namespace without IPsec runs exactly as before:

- `xfrm_lookup` (ip_local_out, ip_forward): the out policy matching the flow;
  its templates resolved to SAs (the bundle). A template with no SA sends an
  ACQUIRE to the key managers and the packet goes to a blackhole (the
  kernel's larval drop); an out policy `action block` is EPERM.
- `xfrm_output` after POSTROUTING: each SA of the bundle wraps the packet in
  ESP (tunnel: a new outer header from the SA's addresses, TTL the default,
  DF and TOS from the inner; transport: the same header, protocol 50); the
  ESP packet is routed to its destination and sent through OUTPUT and
  POSTROUTING again, as xfrm_output_resume's local_out does. Netfilter thus
  sees the plain packet, then the ESP packet.
- `esp_input` (protocol 50): the SA by (destination, SPI), anti-replay,
  the lifetime, the ICV; the inner packet is received again on the same
  device (through PREROUTING, the route, INPUT or FORWARD) carrying the SA
  in its sec_path.
- `ah_input` (protocol 51, net/ipv4/ah4.c; RFC 4302 §3.3-3.4): as
  esp_input, the ICV the SA's HMAC over the packet with TOS, flags and
  fragment offset, TTL, checksum and the mutable options zeroed;
  `_ah_output` builds the same header after the (outer) IP header.
- `xfrm_policy_check` (INPUT for every protocol but ESP and AH, and the
  start of ip_forward for dir fwd): a packet a policy asks to have come
  through IPsec must have come through the SAs its templates name; a packet
  decrypted from a tunnel-mode SA with no policy at all is dropped.
"""
from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from netplex.packet.ah import AH_HDR_LEN, Ah
from netplex.packet.esp import IPPROTO_AH, IPPROTO_ESP, Esp
from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IP_DF, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPv4
from netplex.packet.udp import Udp
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.skb import SkbMeta
from netplex.stack.xfrm.state import (
    XFRM_MODE_TRANSPORT,
    XFRM_MODE_TUNNEL,
    XFRM_POLICY_BLOCK,
    XFRM_POLICY_OUT,
    XFRM_STATE_VALID,
    XfrmAcquire,
    XfrmPolicy,
    XfrmState,
    XfrmTmpl,
)

if TYPE_CHECKING:
    from netplex.stack.device import NetDevice

__all__ = ["EAGAIN", "EPERM", "IPSEC_PROTOS", "ah_input", "ah_mutable_zeroed", "esp_input", "esp_udp_encap_rcv", "flow_of", "xfrm_forward", "xfrm_lookup", "xfrm_mtu", "xfrm_output",
           "xfrm_policy_check"]

EPERM, EAGAIN = 1, 11
IPPROTO_IPIP = 4
ZERO_MAC = b"\x00" * 6
XFRM_ACQ_EXPIRES = 30      # seconds a larval (acquiring) SA holds back new ACQUIREs
IPSEC_PROTOS = (IPPROTO_ESP, IPPROTO_AH)


def flow_of(ip: IPv4) -> tuple[int, int, int]:
    """The upper-layer part of the flow a selector reads: (protocol, sport, dport); ICMP's
    type and code stand in the ports, as xfrm_selector keeps them."""
    proto = ip.proto
    p: Any = ip.payload
    if proto == IPPROTO_TCP or proto == IPPROTO_UDP:
        if isinstance(p, (bytes, bytearray)):
            if len(p) >= 4 and not ip.frag:
                return proto, int.from_bytes(p[0:2], "big"), int.from_bytes(p[2:4], "big")
            return proto, 0, 0
        return proto, p.sport, p.dport
    if proto == IPPROTO_ICMP:
        if isinstance(p, (bytes, bytearray)):
            return proto, (p[0] if p and not ip.frag else 0), (p[1] if len(p) > 1 and not ip.frag else 0)
        return proto, p.type, p.code
    return proto, 0, 0


def _tmpl_saddr(ns: Any, t: XfrmTmpl) -> int:
    """xfrm_get_saddr: a tunnel template without a source takes the route's."""
    if t.saddr:
        return t.saddr
    rt = ns.ip_route_output(t.daddr)
    return 0 if isinstance(rt, int) else rt.src


def xfrm_lookup(ns: Any, ip: IPv4, oif: int, dir: int = XFRM_POLICY_OUT) -> list[XfrmState] | int | None:
    """xfrm_lookup: None (no policy, or one without templates: send in the clear), the
    bundle of SAs, EPERM (action block) or EAGAIN (an SA is missing: blackhole).
    A route out of a device with disable_xfrm (all or its own) is DST_NOXFRM: never looked up."""
    if dir == XFRM_POLICY_OUT and in_dev_orconf(ns, oif, "disable_xfrm"):
        return None
    xf = ns.xfrm
    proto, sport, dport = flow_of(ip)
    pol = xf.policy_lookup(dir, ip.src, ip.dst, proto, sport, dport, oif)
    if pol is None:
        return None
    pol.use_time = xf.now_sec()
    if pol.action == XFRM_POLICY_BLOCK:
        xf.count("XfrmOutPolBlock")
        return EPERM
    if not pol.tmpls:
        return None
    bundle: list[XfrmState] = []
    src, dst = ip.src, ip.dst
    for t in pol.tmpls:
        if t.mode == XFRM_MODE_TUNNEL:
            daddr, saddr = t.daddr, _tmpl_saddr(ns, t)
        else:
            daddr, saddr = t.daddr or dst, t.saddr or src
        x = xf.state_find(daddr, saddr, t.proto, t.reqid, t.mode, t.spi, ip.src, ip.dst, proto, sport, dport)
        if x is None:
            if t.optional:
                continue
            xf.count("XfrmOutNoStates")
            _acquire(xf, pol, t, saddr, daddr, ip, proto, sport, dport, oif)
            return EAGAIN
        bundle.append(x)
        if t.mode == XFRM_MODE_TUNNEL:
            src, dst = x.saddr, x.daddr
    return bundle or None


def _acquire(xf: Any, pol: XfrmPolicy, t: XfrmTmpl, saddr: int, daddr: int, ip: IPv4, proto: int, sport: int,
             dport: int, oif: int) -> None:
    """km_query: one ACQUIRE per template while its larval SA lives (XFRM_ACQ_EXPIRES)."""
    key = (daddr, saddr, t.proto, t.reqid, t.mode)
    now = xf.now_sec()
    until = xf.larval.get(key)
    if until is not None and until > now:
        return
    xf.larval[key] = now + XFRM_ACQ_EXPIRES
    xf.acqseq = xf.acqseq % 0xFFFFFFFF + 1
    xf.notify("acquire", XfrmAcquire(pol, t, saddr, daddr, ip.src, ip.dst, proto, sport, dport, oif, xf.acqseq))


def _esp_route(ns: Any, x: XfrmState, src: int, dst: int) -> Any:
    """The route of the ESP packet an SA sends (its dst_entry in the bundle), cached until
    the namespace's configuration changes."""
    gen, rt = x.out_route
    if gen != ns.generation:
        rt = ns.ip_route_output(dst, None, src if ns.is_local_addr(src) else None)
        x.out_route = (ns.generation, rt)
    return rt


def xfrm_mtu(ns: Any, bundle: list[XfrmState]) -> int:
    """The MTU left to the inner packet: the route's to the last SA's destination, less
    each SA's ESP overhead (esp4_get_mtu, innermost last)."""
    last = bundle[-1]
    rt = _esp_route(ns, last, last.saddr, last.daddr) if last.mode == XFRM_MODE_TUNNEL else \
        ns.ip_route_output(last.daddr, None, last.saddr or None)
    mtu = 1500 if isinstance(rt, int) else rt.mtu
    for x in reversed(bundle):
        ah = x.ah
        if ah is not None:
            # xfrm_state_mtu for a type without get_mtu: less props.header_len, rounded to 4
            mtu = (mtu - AH_HDR_LEN - ah.field_len - (20 if x.mode == XFRM_MODE_TUNNEL else 0)) & ~3
            continue
        tr = x.transform
        if tr is None:
            continue
        header = 8 + tr.iv_len + (20 if x.mode == XFRM_MODE_TUNNEL else 0) + (8 if x.encap is not None else 0)
        net_adj = 0 if x.mode == XFRM_MODE_TUNNEL else 20
        mtu = ((mtu - header - tr.icv_len - net_adj) & ~(tr.block - 1)) + net_adj - 2
    return mtu


def xfrm_forward(ns: Any, dev: NetDevice, frame: Ethernet, out: NetDevice) -> list[XfrmState] | bool:
    """The xfrm part of ip_forward: the fwd policy check, then xfrm4_route_forward's
    lookup of an out policy. False: dropped; True: forward in the clear; else the bundle."""
    ip: IPv4 = frame.payload  # type: ignore[assignment]  # an ETH_P_IP frame carries IPv4
    meta = frame.meta
    from_dev = dev.ifindex
    if not xfrm_policy_check(ns, 2, ip, meta, from_dev):
        ns.drop(frame, dev, SkbDropReason.XFRM_POLICY)
        return False
    if not ns.xfrm.spd_out:
        return True
    res = xfrm_lookup(ns, ip, out.ifindex)
    if res is None:
        return True
    if isinstance(res, int):
        ns.drop(frame, dev, SkbDropReason.XFRM_OUT_POL_BLOCK if res == EPERM else SkbDropReason.XFRM_OUT_NO_STATES)
        return False
    return res


def in_dev_orconf(ns: Any, ifindex: int, key: str) -> bool:
    """IN_DEV_ORCONF: net.ipv4.conf.all.KEY or the device's is set."""
    values = ns.sysctl.values
    dev = ns.by_index.get(ifindex)
    return (values.get(f"net.ipv4.conf.all.{key}", "0") != "0"
            or (dev is not None and values.get(f"net.ipv4.conf.{dev.name}.{key}", "0") != "0"))


def xfrm_policy_check(ns: Any, dir: int, ip: IPv4, meta: SkbMeta | None, ifindex: int) -> bool:
    """__xfrm_policy_check for dir in (local delivery) or fwd. A packet received on a device with
    disable_policy (all or its own: IPSKB_NOPOLICY, __xfrm_check_dev_nopolicy) passes unchecked."""
    if in_dev_orconf(ns, ifindex, "disable_policy"):
        return True
    xf = ns.xfrm
    sp: tuple[XfrmState, ...] = meta.sp if meta is not None else ()
    proto, sport, dport = flow_of(ip)
    pol = xf.policy_lookup(dir, ip.src, ip.dst, proto, sport, dport, ifindex)
    if pol is None:
        if any(x.mode != XFRM_MODE_TRANSPORT for x in sp):
            xf.count("XfrmInNoPols")
            return False
        return True
    pol.use_time = xf.now_sec()
    if pol.action == XFRM_POLICY_BLOCK:
        xf.count("XfrmInPolBlock")
        return False
    k = 0
    for t in reversed(pol.tmpls):
        k = _policy_ok(t, sp, k)
        if k < 0:
            xf.count("XfrmInTmplMismatch")
            return False
    if any(x.mode != XFRM_MODE_TRANSPORT for x in sp[k:]):
        xf.count("XfrmInTmplMismatch")
        return False
    return True


def _state_ok(t: XfrmTmpl, x: XfrmState) -> bool:
    """xfrm_state_ok."""
    return (x.proto == t.proto and (not t.spi or x.spi == t.spi) and (not t.reqid or x.reqid == t.reqid)
            and x.mode == t.mode
            and (x.mode == XFRM_MODE_TRANSPORT or (x.daddr == t.daddr and (not t.saddr or x.saddr == t.saddr))))


def _policy_ok(t: XfrmTmpl, sp: tuple[XfrmState, ...], start: int) -> int:
    """xfrm_policy_ok: the index after the SA that satisfies `t`, or < 0."""
    idx = start
    if t.optional:
        if t.mode == XFRM_MODE_TRANSPORT:
            return start
    else:
        start = -1
    while idx < len(sp):
        x = sp[idx]
        if _state_ok(t, x):
            return idx + 1
        if x.mode != XFRM_MODE_TRANSPORT:
            break
        idx += 1
    return start


def xfrm_output(ns: Any, frame: Ethernet, bundle: list[XfrmState], out: NetDevice) -> int:
    """xfrm4_output: POSTROUTING for the plain packet, then each SA's ESP, then the ESP
    packet's own route, OUTPUT and POSTROUTING (xfrm_output_resume)."""
    post = ns.hooks.get("POSTROUTING")
    if post is not None and not post(ns, frame, None, out):
        return 0
    ip: IPv4 = frame.payload  # type: ignore[assignment]  # an ETH_P_IP frame carries IPv4
    xf = ns.xfrm
    tracing = ns.world.tracer.on
    for x in bundle:
        tr = x.transform
        if not xf.check_expire(x) or (tr is None and x.ah is None):
            xf.count("XfrmOutStateExpired")
            ns.drop(frame, out, SkbDropReason.XFRM_OUT_EXPIRED)
            return 0
        if x.oseq >= 0xFFFFFFFF:
            xf.count("XfrmOutStateSeqError")
            ns.drop(frame, out, SkbDropReason.XFRM_OUT_SEQ)
            return 0
        x.oseq += 1
        seq = x.oseq
        if x.ah is not None:
            ip = _ah_output(ns, x, ip, seq)
            x.packets += 1
            x.lastused = xf.now_sec()
            if tracing:
                ns.trace("xfrm_output", f"AH spi 0x{x.spi:08x} seq {seq} {'tunnel' if x.mode else 'transport'} "
                         f"{ns.fmt_ip(ip.src)} > {ns.fmt_ip(ip.dst)}", out_dev=out.name)
            continue
        assert tr is not None
        if x.mode == XFRM_MODE_TUNNEL:
            inner = ip.encode()
            sealed = tr.seal(x.spi, seq, inner, IPPROTO_IPIP)
            outer = IPv4(x.saddr, x.daddr, *_esp_or_udp(x, Esp(x.spi, seq, sealed)), ttl=ns.default_ttl(),
                         tos=ip.tos, flags=ip.flags & IP_DF)
            x.bytes += len(inner) + 20 + 8 + tr.iv_len
        else:
            whole = ip.encode()
            hlen = (whole[0] & 0xF) * 4
            payload = whole[hlen:]
            sealed = tr.seal(x.spi, seq, payload, ip.proto)
            outer = IPv4(ip.src, ip.dst, *_esp_or_udp(x, Esp(x.spi, seq, sealed)), ttl=ip.ttl, tos=ip.tos,
                         id=ip.id, flags=ip.flags & IP_DF, options=ip.options)
            x.bytes += len(payload) + hlen + 8 + tr.iv_len
        x.packets += 1
        x.lastused = xf.now_sec()
        if tracing:
            ns.trace("xfrm_output", f"ESP spi 0x{x.spi:08x} seq {seq} {'tunnel' if x.mode else 'transport'} "
                     f"{ns.fmt_ip(outer.src)} > {ns.fmt_ip(outer.dst)}", out_dev=out.name)
        ip = outer
    last = bundle[-1]
    if last.mode == XFRM_MODE_TUNNEL:
        rt = _esp_route(ns, last, ip.src, ip.dst)
    else:
        rt = ns.ip_route_output(ip.dst, None, ip.src if ns.is_local_addr(ip.src) else None)
    if isinstance(rt, int):
        ns.drop(frame, out, SkbDropReason.IP_INNOROUTES)
        return 0
    old = frame.meta
    meta = SkbMeta()
    meta.xfrm_transformed = True
    if old is not None:
        meta.mark = old.mark
    r: int = ns.ip_local_out(ip, rt, meta)
    return r


def _esp_or_udp(x: XfrmState, esp: Esp) -> tuple[int, Esp | Udp]:
    """The ESP packet's protocol and payload: ESP, or ESP in UDP for an SA with encap (esp_output_udp_encap:
    the SA's ports, checksum left to the UDP layer)."""
    e = x.encap
    if e is None:
        return IPPROTO_ESP, esp
    return IPPROTO_UDP, Udp(e.sport, e.dport, esp)


def esp_udp_encap_rcv(ns: Any, dev: NetDevice, ip: IPv4) -> bool:
    """xfrm4_udp_encap_rcv for a UDP_ENCAP_ESPINUDP socket (RFC 3948 §2.2): a NAT-keepalive (one 0xFF
    byte) is dropped, a datagram starting with the non-ESP marker (four zero bytes: IKE) goes to the
    socket (False), anything else is ESP without its UDP header, to esp_input."""
    udp: Any = ip.payload
    p = udp.payload
    if isinstance(p, Esp):
        esp = p
    else:
        data = bytes(p)
        if len(data) == 1 and data[0] == 0xFF:
            return True
        if len(data) <= 8 or data[:4] == b"\0\0\0\0":
            return False
        esp = Esp.decode(data)
    inner = IPv4(ip.src, ip.dst, IPPROTO_ESP, esp, ip.ttl, ip.tos, ip.id, ip.flags, 0, ip.options)
    esp_input(ns, dev, inner, "local", encap=(udp.sport, udp.dport))
    return True


def esp_input(ns: Any, dev: NetDevice, ip: IPv4, rtype: str, encap: tuple[int, int] | None = None) -> bool | None:
    """esp4_rcv → xfrm_input: find the SA, check replay and lifetime, open, re-inject. `encap`: the
    UDP ports the ESP came in (NAT traversal), which the SA must expect."""
    xf = ns.xfrm
    esp: Any = ip.payload
    if isinstance(esp, (bytes, bytearray)):
        try:
            esp = Esp.decode(bytes(esp))
        except ValueError:
            xf.count("XfrmInHdrError")
            ns.drop(None, dev, SkbDropReason.XFRM_IN_HDR)
            return True
    x = _input_state(ns, dev, ip.dst, esp.spi, IPPROTO_ESP)
    if x is None or x.transform is None:
        return True
    if (x.encap is None) != (encap is None):
        xf.count("XfrmInStateMismatch")
        ns.drop(None, dev, SkbDropReason.XFRM_IN_MISMATCH)
        return True
    seq = esp.seq
    if not _input_checks(ns, dev, x, seq, esp.wire_len()):
        return True
    opened = x.transform.open(esp.spi, seq, esp.data)
    if opened is None:
        _integrity_failed(ns, dev, x)
        return True
    payload, nh = opened
    _decap(ns, dev, x, ip, seq, nh, payload, "ESP")
    return True


def _input_state(ns: Any, dev: NetDevice, daddr: int, spi: int, proto: int) -> XfrmState | None:
    """xfrm_state_lookup for input: the valid SA by (destination, SPI, protocol), not one for output
    only; else XfrmInNoStates and a drop (None)."""
    x: XfrmState | None = ns.xfrm.by_id.get((daddr, spi, proto))
    if x is not None and x.km_state == XFRM_STATE_VALID and x.dir != 2 and (x.transform or x.ah) is not None:
        return x
    ns.xfrm.count("XfrmInNoStates")
    if ns.world.tracer.on:
        name = "AH" if proto == IPPROTO_AH else "ESP"
        ns.trace("xfrm_input", f"no SA for {name} spi 0x{spi:08x} to {ns.fmt_ip(daddr)}", dev=dev.name)
    ns.drop(None, dev, SkbDropReason.XFRM_IN_NO_STATES)
    return None


def _input_checks(ns: Any, dev: NetDevice, x: XfrmState, seq: int, nbytes: int) -> bool:
    """xfrm_input before the type's input: anti-replay, the lifetime, then the SA's counters."""
    xf = ns.xfrm
    if not _replay_check(x, seq):
        xf.count("XfrmInStateSeqError")
        ns.drop(None, dev, SkbDropReason.XFRM_IN_REPLAY)
        return False
    if not xf.check_expire(x):
        xf.count("XfrmInStateExpired")
        ns.drop(None, dev, SkbDropReason.XFRM_IN_EXPIRED)
        return False
    x.bytes += nbytes
    x.packets += 1
    return True


def _integrity_failed(ns: Any, dev: NetDevice, x: XfrmState) -> None:
    """xfrm_input on -EBADMSG: the SA's integrity_failed and XfrmInStateProtoError."""
    x.st_integrity_failed += 1
    ns.xfrm.count("XfrmInStateProtoError")
    ns.drop(None, dev, SkbDropReason.XFRM_IN_AUTH)


def _decap(ns: Any, dev: NetDevice, x: XfrmState, ip: IPv4, seq: int, nh: int, payload: bytes, what: str) -> None:
    """After the ICV: advance the replay window, then the mode's input (tunnel: the inner packet;
    transport: the header carrying `nh`) received again on `dev` with the SA in its sec_path."""
    xf = ns.xfrm
    _replay_advance(x, seq)
    x.lastused = xf.now_sec()
    if x.mode == XFRM_MODE_TUNNEL:
        try:
            if nh != IPPROTO_IPIP:
                raise ValueError("not IP in IP")
            inner = IPv4.decode(payload)
        except ValueError:
            xf.count("XfrmInStateModeError")
            ns.drop(None, dev, SkbDropReason.XFRM_IN_MODE)
            return
    else:
        inner = IPv4.decode(IPv4(ip.src, ip.dst, nh, payload, ip.ttl, ip.tos, ip.id, ip.flags & IP_DF, 0,
                                 ip.options).encode())
    if ns.world.tracer.on:
        ns.trace("xfrm_input", f"{what} spi 0x{x.spi:08x} seq {seq}: {ns.describe(inner)}", dev=dev.name)
    meta = SkbMeta()
    meta.sp = (x,)
    ns.ip_rcv(dev, Ethernet(ZERO_MAC, ZERO_MAC, ETH_P_IP, inner, (), meta), inner.wire_len())


def _replay_check(x: XfrmState, seq: int) -> bool:
    """xfrm_replay_check_legacy."""
    win = x.replay_window
    if not win:
        return True
    if seq == 0:
        return False
    if seq > x.replay_seq:
        return True
    diff = x.replay_seq - seq
    if diff >= win:
        x.st_replay_window += 1
        return False
    if x.bitmap & (1 << diff):
        x.st_replay += 1
        return False
    return True


def _replay_advance(x: XfrmState, seq: int) -> None:
    """xfrm_replay_advance: slide the window to the newest sequence number."""
    if not x.replay_window:
        return
    if seq > x.replay_seq:
        diff = seq - x.replay_seq
        x.bitmap = ((x.bitmap << diff) | 1) & 0xFFFFFFFF if diff < x.replay_window else 1
        x.replay_seq = seq
    else:
        x.bitmap |= 1 << (x.replay_seq - seq)



def ah_mutable_zeroed(whole: bytes) -> bytes:
    """The IPv4 header of `whole` as AH authenticates it (ah_output/ah_input): TOS, flags and fragment
    offset, TTL and checksum zeroed, and the mutable options cleared (ip_clear_mutable_options:
    security, CIPSO, router alert and RFC 1770's option stay; a source route's last hop becomes
    the destination; every other option is zeroed)."""
    hlen = (whole[0] & 0xF) * 4
    hdr = bytearray(whole[:hlen])
    hdr[1] = 0
    hdr[6:9] = b"\0\0\0"        # frag_off, ttl
    hdr[10:12] = b"\0\0"         # check
    i = 20
    while i < hlen:
        kind = hdr[i]
        if kind == 0:           # IPOPT_END
            break
        if kind == 1:           # IPOPT_NOOP
            i += 1
            continue
        olen = hdr[i + 1] if i + 1 < hlen else 0
        if olen < 2 or i + olen > hlen:
            break
        if kind not in (130, 133, 134, 148, 149):     # SEC, 0x85, CIPSO, RA, 0x80|21
            if kind in (131, 137) and olen >= 6:     # LSRR, SSRR
                hdr[16:20] = hdr[i + olen - 4:i + olen]
            hdr[i:i + olen] = bytes(olen)
        i += olen
    return bytes(hdr) + whole[hlen:]


def _ah_output(ns: Any, x: XfrmState, ip: IPv4, seq: int) -> IPv4:
    """xfrm4_{tunnel,transport}_output then ah_output: the AH header after the (outer) IP header,
    its ICV the SA's HMAC over the packet with the mutable fields and the ICV zeroed."""
    ah = x.ah
    assert ah is not None
    if x.mode == XFRM_MODE_TUNNEL:
        inner = ip.encode()
        outer = IPv4(x.saddr, x.daddr, IPPROTO_AH, b"", ttl=ns.default_ttl(), tos=ip.tos, flags=ip.flags & IP_DF)
        if not outer.flags & IP_DF:
            # xfrm4_mode_tunnel: ip_select_ident before AH sees the header (the ICV covers the ID)
            ns.ip_id = (ns.ip_id + 1) & 0xFFFF
            outer.id = ns.ip_id
        nexthdr, payload = IPPROTO_IPIP, inner
    else:
        whole = ip.encode()
        payload = whole[(whole[0] & 0xF) * 4:]
        outer = IPv4(ip.src, ip.dst, IPPROTO_AH, b"", ttl=ip.ttl, tos=ip.tos, id=ip.id, flags=ip.flags & IP_DF,
                     options=ip.options)
        nexthdr = ip.proto
    hdr = Ah(nexthdr, x.spi, seq, bytes(ah.field_len), payload)
    outer.payload = hdr.encode()
    icv = ah.icv(ah_mutable_zeroed(outer.encode()))
    hdr.icv = icv + bytes(ah.field_len - len(icv))
    outer.payload = hdr.encode()
    x.bytes += outer.wire_len()
    return outer


def ah_input(ns: Any, dev: NetDevice, ip: IPv4, rtype: str) -> bool | None:
    """ah_rcv → xfrm_input → ah_input: the SA by (destination, SPI), anti-replay, the lifetime, the
    header length and the ICV over the packet with its mutable fields zeroed; then the payload is
    received again as ESP's is (tunnel: the inner packet; transport: the header without AH)."""
    xf = ns.xfrm
    raw = ip.payload
    data = bytes(raw) if isinstance(raw, (bytes, bytearray)) else b""     # AH stays bytes (no IP_PROTOS entry)
    try:
        ah = Ah.decode(data)
    except ValueError:
        xf.count("XfrmInHdrError")
        ns.drop(None, dev, SkbDropReason.XFRM_IN_HDR)
        return True
    x = _input_state(ns, dev, ip.dst, ah.spi, IPPROTO_AH)
    if x is None or x.ah is None:
        return True
    seq = ah.seq
    if not _input_checks(ns, dev, x, seq, len(data)):
        return True
    t = x.ah
    if len(ah.icv) not in (t.field_len, t.full_field_len):
        ok = False                                       # ah_input: a header of neither ICV length
    else:
        zeroed = Ah(ah.nexthdr, ah.spi, seq, bytes(t.icv_len) + ah.icv[t.icv_len:], ah.payload)
        whole = IPv4(ip.src, ip.dst, IPPROTO_AH, zeroed.encode(), ip.ttl, ip.tos, ip.id, ip.flags, ip.frag,
                     ip.options).encode()
        ok = hmac.compare_digest(t.icv(ah_mutable_zeroed(whole)), ah.icv[:t.icv_len])
    if not ok:
        if ns.world.tracer.on:
            ns.trace("xfrm_input", f"AH spi 0x{x.spi:08x} seq {seq}: ICV mismatch", dev=dev.name)
        _integrity_failed(ns, dev, x)
        return True
    _decap(ns, dev, x, ip, seq, ah.nexthdr, ah.payload, "AH")
    return True
