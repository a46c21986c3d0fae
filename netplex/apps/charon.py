"""charon, strongSwan's IKE daemon (strongSwan 5.9, charon(8), swanctl(8)), in the simulator.

The daemon owns UDP port 500 of its namespace and runs netplex's IKEv2
(`netplex.ike`) for the connections `swanctl --load-all` gave it. As charon
with its kernel-netlink backend does, it installs each CHILD SA in the
namespace's xfrm: two SAs (inbound and outbound ESP, replay window 32, soft
time limit at the rekey time less a jitter, hard at the life time) and the
policies out, in and fwd for the traffic selectors, with the SA's reqid.
It listens to the SAD's events as charon listens to XFRM_MSG_EXPIRE and
XFRM_MSG_ACQUIRE: a soft expiry starts CREATE_CHILD_SA (rekeying), a hard
one removes the CHILD SA, an ACQUIRE on a `start_action = trap` policy
starts the connection. Requests are retransmitted (4 s, ×1.8, 5 times, as
charon's defaults) and `dpd_delay` sends liveness checks. Its control socket
is /run/charon.vici, which `swanctl` finds; its pid file /run/charon.pid.

Authentication by pre-shared key or certificate (`netplex.ike.x509`: the
credentials `swanctl --load-creds` gave it, checked against the simulator's
CLOCK_REALTIME). Not modelled (refused by swanctl.conf's parser or swanctl): EAP, IKE SA rekeying and reauthentication, virtual
IPs and pools, MOBIKE, NAT-T in the simulator (the twin's interop runs it).
"""
from __future__ import annotations

import datetime
from typing import Any

from netplex.apps.process import ProcessTable, Program, ProgramExit, RunFile
from netplex.ike import message as m
from netplex.ike.config import ChildConfig, ConfigError, IkeConfig, SwanctlConf, charon_settings
from netplex.ike.cookie import CookieGuard, DosSettings
from netplex.ike.message import IkeDecodeError, IkeHeader, TrafficSelector
from netplex.ike.sa import ChildSa, IkeSa, id_text
from netplex.ike.x509 import Credentials, dn_text
from netplex.stack.xfrm.algo import AlgoKey, find_algo
from netplex.stack.xfrm.state import (
    UDP_ENCAP_ESPINUDP,
    XFRM_MODE_TRANSPORT,
    XFRM_MODE_TUNNEL,
    XfrmEncapTmpl,
    XfrmLifetime,
    XfrmPolicy,
    XfrmSelector,
    XfrmState,
    XfrmTmpl,
)

__all__ = ["Charon", "find_charon"]

NSEC = 1_000_000_000
VICI = "/run/charon.vici"
STRONGSWAN_CONF = "/etc/strongswan.conf"
PIDFILE = "/run/charon.pid"
RETRANSMIT_TIMEOUT, RETRANSMIT_BASE, RETRANSMIT_TRIES = 4.0, 1.8, 5
AUTH_WORDS = {"psk": "pre-shared key", "pubkey": "public key", "rsa": "RSA signature", "ecdsa": "ECDSA signature"}
NON_ESP_MARKER = b"\0\0\0\0"
HALF_OPEN_TIMEOUT = 30   # charon.half_open_timeout: seconds an IKE SA may stay CONNECTING as responder
KEEPALIVE = 20        # charon.keep_alive: seconds between NAT-keepalives
PRIO_BASE = 384       # kernel_netlink_ipsec.c get_priority: a smaller selector wins (higher priority)


def _ip(a: int) -> str:
    return f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def ts_text(t: TrafficSelector) -> str:
    p = t.prefix()
    return f"{_ip(p[0])}/{p[1]}" if p is not None else f"{_ip(t.start)}..{_ip(t.end)}"


def _addr(text: str) -> int | None:
    parts = text.split(".")
    if len(parts) == 4 and all(x.isdigit() and int(x) < 256 for x in parts):
        return sum(int(x) << (24 - 8 * i) for i, x in enumerate(parts))
    return None


class Charon(Program):
    """The IKE daemon: connections, IKE SAs, and what it installed in xfrm."""

    comm = "charon"
    vsz_kib, rss_kib = 1298748, 17832

    def __init__(self) -> None:
        super().__init__()
        self.conf = SwanctlConf()
        self.ike_sas: list[IkeSa] = []
        self.ike_unique = 0
        self.child_unique = 0
        self.creds = Credentials()
        self.reqids: dict[tuple[str, str], int] = {}
        self.log: list[str] = []
        self.installed: dict[int, list[XfrmState]] = {}     # id(child) → its two SAs
        self.traps: dict[int, tuple[IkeConfig, ChildConfig]] = {}   # reqid → trap policy's connection
        self.ike_rekey_at: dict[int, int] = {}    # id(IKE SA) → when (seconds) its rekeying is due
        self.sock: Any = None          # UDP 500
        self.sock_natt: Any = None     # UDP 4500, UDP_ENCAP_ESPINUDP: IKE after the non-ESP marker, ESP to xfrm
        self.cookies: CookieGuard | None = None   # the receiver's IKE_SA_INIT checks (RFC 7296 §2.6)
        self.rsa_pss = False           # strongswan.conf charon.rsa_pss

    # -- life ------------------------------------------------------------------
    def start(self) -> None:
        fs = self.fs
        if fs is not None and fs.exists(PIDFILE):
            raise ProgramExit(1, f"charon already running ('{PIDFILE}' exists)\n")
        settings: dict[str, object] = {}
        text = fs.read(STRONGSWAN_CONF) if fs is not None else None
        if text is not None:
            try:
                settings = charon_settings(text.decode(errors="replace"), STRONGSWAN_CONF)
            except ConfigError as e:
                self.log.append(f"[LIB] loading config file '{STRONGSWAN_CONF}' failed: {e}")
        self.cookies = CookieGuard(DosSettings.from_settings(settings), self.rand)
        self.rsa_pss = str(settings.get("rsa_pss", "no")).lower() in ("yes", "true", "1", "enabled")
        sk = self.own(self.ns.sockets.udp_socket())
        if sk.bind(0, 500):
            raise ProgramExit(1, "unable to bind socket: Address already in use\n")
        sk.on_recv = self._recv
        self.sock = sk
        natt = self.own(self.ns.sockets.udp_socket())
        if natt.bind(0, 4500):
            raise ProgramExit(1, "unable to bind socket: Address already in use\n")
        natt.set_encap(UDP_ENCAP_ESPINUDP)
        natt.on_recv = self._recv_natt
        self.sock_natt = natt
        if fs is not None:
            self.own(RunFile(fs, PIDFILE, f"{self.proc.pid if self.proc else 0}\n".encode()))
            self.own(RunFile(fs, VICI))
        self.ns.xfrm.listen(self._km)

    def stop(self) -> None:
        self.ns.xfrm.unlisten(self._km)
        for sa in list(self.ike_sas):
            self._destroy(sa)
        for reqid in list(self.traps):
            self._remove_policies(reqid)

    def now_s(self) -> int:
        return self.ns.sched.now // NSEC

    def wallclock(self) -> datetime.datetime:
        """The time certificates are checked against: the simulator's CLOCK_REALTIME."""
        return datetime.datetime.fromtimestamp(self.ns.world.realtime_ns() // NSEC, datetime.UTC)

    def rand(self, n: int) -> bytes:
        return self.ns.world.rng.getrandbits(8 * n).to_bytes(n, "big")

    # -- configuration (swanctl --load-all) ---------------------------------------
    def load(self, conf: SwanctlConf) -> None:
        self.conf = conf
        for cfg in conf.connections.values():
            for child in cfg.children.values():
                if child.start_action == "trap":
                    self._trap(cfg, child)
                elif child.start_action == "start":
                    self.initiate(cfg, child)

    def _psk(self, cfg: IkeConfig) -> bytes | None:
        ids = {cfg.local_id, cfg.remote_id}
        for s in self.conf.secrets:
            if not s.ids or ids & set(s.ids):
                return s.secret
        return None

    def _reqid(self, cfg: ChildConfig, conn: str = "") -> int:
        key = (conn, cfg.name)
        if key not in self.reqids:
            self.reqids[key] = len(self.reqids) + 1
        return self.reqids[key]

    def _new_sa(self, cfg: IkeConfig, local: int, remote: int, initiator: bool) -> IkeSa:
        self.ike_unique += 1
        sa = IkeSa(cfg, local, remote, initiator, self.rand, self._psk(cfg), self.now_s, self.ike_unique,
                   nat_t=cfg.encap, creds=self.creds, wallclock=self.wallclock)
        name = cfg.name

        def next_reqid(c: ChildConfig) -> int:
            return self._reqid(c, name)
        sa.next_reqid = next_reqid
        sa.rsa_pss = self.rsa_pss
        self.ike_sas.append(sa)
        return sa

    def find_child_cfg(self, name: str, ike: str = "") -> tuple[IkeConfig, ChildConfig] | None:
        for cfg in self.conf.connections.values():
            if ike and cfg.name != ike:
                continue
            if name in cfg.children:
                return cfg, cfg.children[name]
        return None

    # -- initiating -------------------------------------------------------------
    def initiate(self, cfg: IkeConfig, child: ChildConfig) -> IkeSa | None:
        remote = next((a for a in map(_addr, cfg.remote_addrs) if a is not None), None)
        if remote is None:
            self.log.append("[IKE] unable to initiate to %any")
            return None
        local = next((a for a in map(_addr, cfg.local_addrs) if a is not None), None)
        if local is None:
            rt = self.ns.ip_route_output(remote)
            local = 0 if isinstance(rt, int) else rt.src
        existing = next((s for s in self.ike_sas if s.cfg is cfg and s.state == "ESTABLISHED"), None)
        if existing is not None:
            self.log.append(f"[IKE] establishing CHILD_SA {child.name}{{{self.child_unique + 1}}}")
            return existing   # (a second CHILD SA on an IKE SA: CREATE_CHILD_SA, not modelled)
        sa = self._new_sa(cfg, local, remote, True)
        self.log.append(f"[IKE] initiating IKE_SA {cfg.name}[{sa.unique}] to {_ip(remote)}")
        self._send(sa, sa.initiate(child))
        return sa

    def terminate_ike(self, sa: IkeSa) -> None:
        """swanctl --terminate --ike: INFORMATIONAL with a Delete of the IKE SA."""
        self.log.append(f"[IKE] deleting IKE_SA {sa.cfg.name}[{sa.unique}] between {_ip(sa.local)}"
                        f"[{sa.cfg.local_id or _ip(sa.local)}]...{_ip(sa.remote)}[{sa.remote_id}]")
        before = len(sa.events)
        req = sa.delete()
        self._events(sa, sa.events[before:])
        if req is not None:
            self._send(sa, req, request=False)
        self._destroy(sa)

    def terminate_child(self, sa: IkeSa, c: ChildSa) -> None:
        req = sa.delete_child(c)
        if req is not None:
            self._send(sa, req)
        self._uninstall(sa, c)

    def _ike_timers(self, sa: IkeSa) -> None:
        """DPD, NAT-keepalives and the IKE SA's rekeying (rekey_time less up to 10 % at random, charon's
        rand_time; only the SA's initiator schedules it, so both ends do not rekey at once)."""
        if sa.cfg.dpd_delay:
            self.after(sa.cfg.dpd_delay * NSEC, self._dpd, sa)
        if sa.nat_here:
            self.after(KEEPALIVE * NSEC, self._keepalive, sa)
        if sa.cfg.rekey_time and sa.initiator:
            at = sa.cfg.rekey_time - self.ns.world.rng.randrange(max(1, sa.cfg.rekey_time // 10))
            self.ike_rekey_at[id(sa)] = sa.established + at
            self.after(at * NSEC, self._ike_rekey_due, sa)

    def _ike_rekey_due(self, sa: IkeSa) -> None:
        if sa in self.ike_sas and sa.state == "ESTABLISHED":
            if not self.rekey_ike(sa):
                self.after(NSEC, self._ike_rekey_due, sa)   # an exchange is under way: try again shortly

    def rekey_ike(self, sa: IkeSa) -> bool:
        """CREATE_CHILD_SA rekeying the IKE SA (swanctl --rekey --ike, or its rekey_time)."""
        req = sa.rekey_ike()
        if req is None:
            return False
        self.log.append(f"[IKE] rekeying IKE_SA {sa.cfg.name}[{sa.unique}]")
        self._send(sa, req)
        return True

    def _child_rekey_due(self, c: ChildSa) -> None:
        """A CHILD SA's soft lifetime ran out: rekey it on the IKE SA that now holds it, or try again in a
        second while another exchange (an IKE rekeying) is under way."""
        sa = next((s for s in self.ike_sas if c in s.children), None)
        if sa is None or any(o.rekeying is c for o in sa.children) or \
                (sa.pending_child is not None and sa.pending_child.rekeying is c):
            return
        if not self.rekey(sa, c):
            # charon's retry_interval is 30 s less a random jitter; shorter here so soft and hard expiry stay
            # apart, random so that both ends do not retry in the same instant
            self.after(self.ns.world.rng.randrange(NSEC // 10, NSEC), self._child_rekey_due, c)

    def rekey(self, sa: IkeSa, c: ChildSa) -> bool:
        req = sa.rekey_child(c)
        if req is None:
            return False
        self.log.append(f"[IKE] rekeying CHILD_SA {c.cfg.name}{{{c.unique}}}")
        self._send(sa, req)
        return True

    # -- the wire ---------------------------------------------------------------
    def _xmit(self, sa: IkeSa, data: bytes) -> None:
        """From port 500, or from 4500 with the non-ESP marker once a NAT was detected (RFC 3948 §2.2)."""
        if sa.local_port == 4500:
            self.sock_natt.sendto(NON_ESP_MARKER + data, sa.remote, sa.remote_port)
        else:
            self.sock.sendto(data, sa.remote, sa.remote_port)

    def _send(self, sa: IkeSa, data: bytes, request: bool = True) -> None:
        self._xmit(sa, data)
        self.log.append(f"[NET] sending packet: from {_ip(sa.local)}[{sa.local_port}] to {_ip(sa.remote)}"
                        f"[{sa.remote_port}] ({len(data)} bytes)")
        if request and sa.outstanding is data:
            self.after(int(RETRANSMIT_TIMEOUT * NSEC), self._retransmit, sa, data, 1)

    def _retransmit(self, sa: IkeSa, data: bytes, n: int) -> None:
        if sa.outstanding is not data or sa not in self.ike_sas:
            return
        if n > RETRANSMIT_TRIES:
            self.log.append(f"[IKE] giving up after {RETRANSMIT_TRIES} retransmits")
            self._destroy(sa)
            return
        self.log.append(f"[IKE] retransmit {n} of request with message ID {sa.my_mid}")
        self._xmit(sa, data)
        self.after(int(RETRANSMIT_TIMEOUT * RETRANSMIT_BASE ** n * NSEC), self._retransmit, sa, data, n + 1)

    def _recv_natt(self, data: bytes, src: int, sport: int) -> None:
        """IKE on 4500 (what the encap socket did not take as ESP or a keepalive): the marker, then IKE."""
        if data[:4] != NON_ESP_MARKER:
            return
        self._recv(data[4:], src, sport, natt=True)

    def _recv(self, data: bytes, src: int, sport: int, natt: bool = False) -> None:
        try:
            h = IkeHeader.unpack(data)
        except IkeDecodeError:
            return
        sa = next((s for s in self.ike_sas if s.spii == h.spii and s.remote == src
                   and (s.spir == h.spir or s.state in ("CONNECTING", "CREATED"))), None)
        if sa is None:
            if h.exch != m.IKE_SA_INIT or h.flags & m.FLAG_R or h.mid != 0:
                return
            if not self._admit_ike_sa_init(data, h, src, sport, natt):
                return
            cfg = self._match_conn(src)
            if cfg is None:
                self.log.append(f"[IKE] no IKE config found for {_ip(src)}, sending NO_PROPOSAL_CHOSEN")
                return
            rt = self.ns.ip_route_output(src)
            local = 0 if isinstance(rt, int) else rt.src
            sa = self._new_sa(cfg, local, src, False)
            sa.remote_port = sport
            sa.local_port = 4500 if natt else 500
            self.log.append(f"[IKE] {_ip(src)} is initiating an IKE_SA")
            # ike_sa.c set_state(CONNECTING): a half-open IKE SA goes after charon.half_open_timeout
            self.after(HALF_OPEN_TIMEOUT * NSEC, self._half_open_timeout, sa)
        if natt and (sa.local_port != 4500 or sa.remote_port != sport):
            # the peer floated to 4500, or its NAT mapped it anew: answer where it came from
            sa.local_port, sa.remote_port = 4500, sport
        before = len(sa.events)
        for out in sa.receive(data):
            self._send(sa, out, request=sa.outstanding is out)
        self._events(sa, sa.events[before:])

    def _half_open_timeout(self, sa: IkeSa) -> None:
        if sa in self.ike_sas and sa.state in ("CREATED", "CONNECTING"):
            self.log.append(f"[JOB] deleting half open IKE_SA with {_ip(sa.remote)} after timeout")
            self._destroy(sa)

    def _admit_ike_sa_init(self, data: bytes, h: IkeHeader, src: int, sport: int, natt: bool) -> bool:
        """receiver.c drop_ike_sa_init: while too many IKE SAs are half open (we answered IKE_SA_INIT, the
        initiator has not authenticated), answer with N(COOKIE) and keep nothing, or ignore the initiator."""
        if self.cookies is None:
            return True
        half = [s for s in self.ike_sas if not s.initiator and s.state == "CONNECTING"]
        try:
            verdict, resp = self.cookies.check(data, h, src, len(half), sum(s.remote == src for s in half),
                                               self.now_s())
        except (IkeDecodeError, IndexError):
            return False
        if verdict == "cookie":
            self.log.append("[ENC] generating IKE_SA_INIT response 0 [ N(COOKIE) ]")
            if natt:
                self.sock_natt.sendto(NON_ESP_MARKER + resp, src, sport)
            else:
                self.sock.sendto(resp, src, sport)
            return False
        if verdict == "block":
            self.log.append(f"[NET] ignoring IKE_SA setup from {_ip(src)}, per-IP half-open IKE_SA limit of "
                            f"{self.cookies.settings.block_threshold} reached")
            return False
        return True

    def _match_conn(self, src: int) -> IkeConfig | None:
        for cfg in self.conf.connections.values():
            if "%any" in cfg.remote_addrs or src in [a for a in map(_addr, cfg.remote_addrs) if a is not None]:
                return cfg
        return None

    # -- what the exchanges did ---------------------------------------------------
    def _events(self, sa: IkeSa, events: list[tuple[str, Any]]) -> None:
        for ev, arg in events:
            if ev == "ike_up":
                self.log.append(f"[IKE] IKE_SA {sa.cfg.name}[{sa.unique}] established between "
                                f"{_ip(sa.local)}[{sa.cfg.local_id or _ip(sa.local)}]..."
                                f"{_ip(sa.remote)}[{sa.remote_id}]")
                self._ike_timers(sa)
            elif ev in ("child_up", "child_rekeyed"):
                self._install(sa, arg)
            elif ev == "ike_rekeyed":
                new: IkeSa = arg
                self.ike_unique += 1
                new.unique = self.ike_unique
                self.ike_sas.append(new)
                self.log.append(f"[IKE] IKE_SA {sa.cfg.name}[{sa.unique}] rekeyed, new IKE_SA {sa.cfg.name}"
                                f"[{new.unique}] with SPIs {new.spii.hex()}_i {new.spir.hex()}_r")
                self._ike_timers(new)
            elif ev == "cookie":
                self.log.append("[ENC] parsed IKE_SA_INIT response 0 [ N(COOKIE) ]")
            elif ev == "cookie_retries":
                self.log.append("[IKE] giving up after 5 retries")
                self._destroy(sa)
            elif ev == "ike_rekey_failed":
                self.log.append(f"[IKE] rekeying IKE_SA {sa.cfg.name}[{sa.unique}] failed")
            elif ev == "child_down":
                self._uninstall(sa, arg)
            elif ev in ("ike_down", "auth_failed", "no_proposal"):
                if ev == "auth_failed":
                    if arg in ("AUTHENTICATION_FAILED", "received AUTHENTICATION_FAILED notify error"):
                        self.log.append("[IKE] received AUTHENTICATION_FAILED notify error")
                    else:
                        self.log.append(f"[CFG] {arg}")
                        self.log.append("[IKE] verification of AUTH payload failed")
                elif ev == "no_proposal":
                    self.log.append("[IKE] received NO_PROPOSAL_CHOSEN notify error")
                self._destroy(sa)
            elif ev == "child_failed":
                self.log.append("[IKE] failed to establish CHILD_SA, keeping IKE_SA")

    def _destroy(self, sa: IkeSa) -> None:
        self.ike_rekey_at.pop(id(sa), None)
        for c in list(sa.children):
            self._uninstall(sa, c)
        sa.children.clear()
        sa.state = "DESTROYED"
        if sa in self.ike_sas:
            self.ike_sas.remove(sa)

    def _keepalive(self, sa: IkeSa) -> None:
        """A NAT-keepalive (one 0xFF byte to 4500, RFC 3948 §2.3) every 20 s while we are behind a NAT."""
        if sa not in self.ike_sas or sa.state != "ESTABLISHED":
            return
        self.sock_natt.sendto(b"\xff", sa.remote, sa.remote_port)
        self.after(KEEPALIVE * NSEC, self._keepalive, sa)

    def _dpd(self, sa: IkeSa) -> None:
        if sa not in self.ike_sas or sa.state != "ESTABLISHED":
            return
        req = sa.dpd()
        if req is not None:
            self._send(sa, req)
        self.after(sa.cfg.dpd_delay * NSEC, self._dpd, sa)

    # -- xfrm (kernel_netlink_ipsec's add_sa / add_policy) -------------------------------
    def _algos(self, c: ChildSa, outbound: bool) -> tuple[AlgoKey | None, AlgoKey | None, AlgoKey | None]:
        ch = c.chosen
        assert ch is not None
        enc = c.enc_out if outbound else c.enc_in
        integ = c.int_out if outbound else c.int_in
        if ch.encr.aead:
            a = find_algo("aead", "rfc4106(gcm(aes))" if ch.encr.id == 20 else "rfc7539esp(chacha20,poly1305)")
            assert a is not None
            return AlgoKey(a, enc, 128), None, None
        e = find_algo("enc", "cbc(aes)")
        assert e is not None and ch.integ is not None
        au = find_algo("auth", f"hmac({ch.integ.digest})")
        assert au is not None
        return None, AlgoKey(e, enc), AlgoKey(au, integ, ch.integ.icv * 8)

    def _install(self, sa: IkeSa, c: ChildSa) -> None:
        self.child_unique += 1
        c.unique = self.child_unique
        xf = self.ns.xfrm
        mode = XFRM_MODE_TRANSPORT if c.transport else XFRM_MODE_TUNNEL
        jitter = self.ns.world.rng.randrange(max(1, c.cfg.hard_time() - c.cfg.rekey_time))
        states = []
        for outbound in (False, True):
            aead, enc, auth = self._algos(c, outbound)
            src, dst = (sa.local, sa.remote) if outbound else (sa.remote, sa.local)
            encap = None
            if sa.natd:
                sport, dport = (sa.local_port, sa.remote_port) if outbound else (sa.remote_port, sa.local_port)
                encap = XfrmEncapTmpl(UDP_ENCAP_ESPINUDP, sport, dport, 0)
            x = XfrmState(dst, c.spi_out if outbound else c.spi_in, 50, saddr=src, mode=mode, reqid=c.reqid,
                          replay_window=32, flags=32, aead=aead, enc=enc, auth=auth, encap=encap,
                          lft=XfrmLifetime(soft_add=c.cfg.rekey_time - jitter, hard_add=c.cfg.hard_time()))
            xf.state_add(x)
            states.append(x)
        self.installed[id(c)] = states
        self._policies(sa, c, mode)
        self.log.append(f"[IKE] CHILD_SA {c.cfg.name}{{{c.unique}}} established with SPIs {c.spi_in:08x}_i "
                        f"{c.spi_out:08x}_o and TS {' '.join(ts_text(t) for t in c.ts_local)} === "
                        f"{' '.join(ts_text(t) for t in c.ts_remote)}")

    def _policies(self, sa: IkeSa, c: ChildSa, mode: int) -> None:
        xf = self.ns.xfrm
        self.traps.pop(c.reqid, None)
        for lts in c.ts_local:
            for rts in c.ts_remote:
                lp, rp = lts.prefix() or (lts.start, 32), rts.prefix() or (rts.start, 32)
                for dir, (s, d) in ((1, (lp, rp)), (0, (rp, lp)), (2, (rp, lp))):
                    if dir == 2 and mode == XFRM_MODE_TRANSPORT:
                        continue
                    sel = XfrmSelector(s[0], s[1], d[0], d[1], family=2)
                    tsrc, tdst = (sa.local, sa.remote) if dir == 1 else (sa.remote, sa.local)
                    prio = (((PRIO_BASE << 1) - s[1] - d[1]) << 2) + 3
                    p = XfrmPolicy(sel, dir, priority=prio,
                                   tmpls=[XfrmTmpl(tdst, tsrc, 50, 0, c.reqid, mode)])
                    xf.policy_add(p, update=True)    # XFRM_MSG_UPDPOLICY: replaces, or adds

    def _uninstall(self, sa: IkeSa, c: ChildSa) -> None:
        xf = self.ns.xfrm
        for x in self.installed.pop(id(c), []):
            xf.state_del(x)
        others = any(o is not c and o.reqid == c.reqid for s in self.ike_sas for o in s.children)
        if not others and not (c.rekeying is None and any(o.rekeying is c for s in self.ike_sas for o in s.children)):
            if not any(id(o) in self.installed and o.reqid == c.reqid for s in self.ike_sas for o in s.children):
                self._remove_policies(c.reqid)
                trap = self.find_child_cfg(c.cfg.name)
                if trap is not None and trap[1].start_action == "trap" and self.alive:
                    self._trap(*trap)
        self.log.append(f"[IKE] closing CHILD_SA {c.cfg.name}{{{c.unique}}} with SPIs {c.spi_in:08x}_i "
                        f"{c.spi_out:08x}_o")

    def _remove_policies(self, reqid: int) -> None:
        xf = self.ns.xfrm
        for p in [p for p in xf.policies if any(t.reqid == reqid for t in p.tmpls)]:
            xf.policy_del(p)
        self.traps.pop(reqid, None)

    def _trap(self, cfg: IkeConfig, child: ChildConfig) -> None:
        """start_action = trap: the out policy alone, whose ACQUIRE starts the connection."""
        remote = next((a for a in map(_addr, cfg.remote_addrs) if a is not None), 0)
        rt = self.ns.ip_route_output(remote)
        local = next((a for a in map(_addr, cfg.local_addrs) if a is not None), None) or \
            (0 if isinstance(rt, int) else rt.src)
        reqid = self._reqid(child, cfg.name)
        mode = XFRM_MODE_TRANSPORT if child.mode == "transport" else XFRM_MODE_TUNNEL
        xf = self.ns.xfrm
        lts = child.local_ts or [TrafficSelector(local, local)]
        rts = child.remote_ts or [TrafficSelector(remote, remote)]
        for a in lts:
            for b in rts:
                lp, rp = a.prefix() or (a.start, 32), b.prefix() or (b.start, 32)
                p = XfrmPolicy(XfrmSelector(lp[0], lp[1], rp[0], rp[1], family=2), 1,
                               priority=((((PRIO_BASE << 1) << 1) - lp[1] - rp[1]) << 2) + 3,
                               tmpls=[XfrmTmpl(remote, local, 50, 0, reqid, mode)])
                xf.policy_add(p, update=True)
        self.traps[reqid] = (cfg, child)

    def _km(self, event: str, obj: Any, hard: int) -> None:
        """XFRM_MSG_EXPIRE and XFRM_MSG_ACQUIRE, as kernel-netlink delivers them."""
        if event == "acquire":
            t = obj.tmpl
            trap = self.traps.get(t.reqid)
            if trap is not None and not any(s.cfg is trap[0] for s in self.ike_sas):
                self.initiate(*trap)
            return
        if event != "expire" or not isinstance(obj, XfrmState):
            return
        for sa in list(self.ike_sas):
            for c in list(sa.children):
                if obj in self.installed.get(id(c), []):
                    if hard:
                        sa.children.remove(c)
                        self._uninstall(sa, c)
                    else:
                        self._child_rekey_due(c)
                    return

    # -- swanctl --list-sas -----------------------------------------------------------
    def list_sas(self) -> str:
        out = []
        now = self.now_s()
        for sa in self.ike_sas:
            if sa.state not in ("ESTABLISHED", "CONNECTING", "REKEYING"):
                continue
            mark_i, mark_r = ("*", "") if sa.initiator else ("", "*")
            out.append(f"{sa.cfg.name}: #{sa.unique}, {sa.state}, IKEv2, {sa.spii.hex()}_i{mark_i} "
                       f"{sa.spir.hex()}_r{mark_r}")
            out.append(f"  local  '{id_text(sa.local_id())}' @ {_ip(sa.local)}[{sa.local_port}]")
            out.append(f"  remote '{sa.remote_id or sa.cfg.remote_id}' @ {_ip(sa.remote)}[{sa.remote_port}]")
            if sa.chosen is not None and sa.state == "ESTABLISHED":
                out.append(f"  {sa.chosen.text()}")
                due = self.ike_rekey_at.get(id(sa))
                out.append(f"  established {now - sa.established}s ago"
                           + (f", rekeying in {max(due - now, 0)}s" if due is not None else ""))
            for c in sa.children:
                ch = c.chosen
                esp = ch.text() if ch is not None else ""
                out.append(f"  {c.cfg.name}: #{c.unique}, reqid {c.reqid}, INSTALLED, "
                           f"{'TRANSPORT' if c.transport else 'TUNNEL'}{'-in-UDP' if sa.natd else ''}, ESP:{esp}")
                states = self.installed.get(id(c), [])
                xin, xout = (states + [None, None])[:2]
                if xin is not None:
                    real = self.ns.xfrm.now_sec()      # the SAD's times are CLOCK_REALTIME seconds
                    left = xin.add_time + xin.lft.soft_add - real
                    out.append(f"    installed {now - c.established}s ago, rekeying in {max(left, 0)}s, "
                               f"expires in {max(xin.add_time + xin.lft.hard_add - real, 0)}s")
                for tag, x, spi in (("in ", xin, c.spi_in), ("out", xout, c.spi_out)):
                    line = f"    {tag} {spi:08x}, {x.bytes if x else 0:6d} bytes, {x.packets if x else 0:5d} packets"
                    if x is not None and x.lastused:
                        line += f", {self.ns.xfrm.now_sec() - x.lastused:5d}s ago"
                    out.append(line)
                out.append(f"    local  {' '.join(ts_text(t) for t in c.ts_local)}")
                out.append(f"    remote {' '.join(ts_text(t) for t in c.ts_remote)}")
        return "".join(line + "\n" for line in out)

    def list_conns(self) -> str:
        out = []
        for cfg in self.conf.connections.values():
            out.append(f"{cfg.name}: {'IKEv2' if cfg.version == 2 else 'IKEv1/2'}, no reauthentication, "
                       f"rekeying every {cfg.rekey_time}s" + (f", dpd delay {cfg.dpd_delay}s" if cfg.dpd_delay else ""))
            out.append(f"  local:  {' '.join(cfg.local_addrs)}")
            out.append(f"  remote: {' '.join(cfg.remote_addrs)}")
            for side, auth, ident in (("local", cfg.local_auth, cfg.local_id), ("remote", cfg.remote_auth,
                                                                                 cfg.remote_id)):
                out.append(f"  {side} {AUTH_WORDS.get(auth, 'public key')} authentication:")
                if ident:
                    out.append(f"    id: {ident}")
                files = cfg.local_certs if side == "local" else cfg.remote_cacerts
                for f in files:
                    cert = self.creds.by_file(f)
                    if cert is not None:
                        out.append(f"    {'certs' if side == 'local' else 'cacerts'}: {dn_text(cert.subject)}")
            for ch in cfg.children.values():
                out.append(f"  {ch.name}: {ch.mode.upper()}, rekeying every {ch.rekey_time}s")
                out.append(f"    local:  {' '.join(ts_text(t) for t in ch.local_ts) or 'dynamic'}")
                out.append(f"    remote: {' '.join(ts_text(t) for t in ch.remote_ts) or 'dynamic'}")
        return "".join(line + "\n" for line in out)


def find_charon(procs: ProcessTable) -> Charon | None:
    """The running charon whose vici socket is there (swanctl connects by path)."""
    if procs.fs is not None and not procs.fs.exists(VICI):
        return None
    for p in procs.by_program(Charon):
        if isinstance(p.program, Charon) and p.program.alive:
            return p.program
    return None
