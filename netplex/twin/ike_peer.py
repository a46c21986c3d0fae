"""netplex's IKEv2 (netplex.ike) as a real UDP speaker, for interoperability checks
against strongSwan's charon on the kernel twin.

Run inside a namespace of the twin (`ip netns exec NS python -m netplex.twin.ike_peer
--conf swanctl.conf --conn NAME --local A --remote B [--initiate CHILD]`): it
answers (or starts) IKE on UDP 500 and 4500 (with the non-ESP marker), and
treats ESP in UDP on 4500 (RFC 3948) with the CHILD SA's keys and netplex's
ESP transform: it decrypts what charon's kernel-libipsec sends and answers
ICMP echo requests through the tunnel. It prints one JSON object when done:
the IKE and CHILD SAs (SPIs, proposals, keys) and the ESP it saw.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import socket
import sys
import time

from netplex.ike.config import parse_swanctl
from netplex.ike.cookie import CookieGuard, DosSettings
from netplex.ike.message import IkeDecodeError, IkeHeader
from netplex.ike.sa import ChildSa, IkeSa
from netplex.ike.x509 import load_swanctl_creds
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.icmp import ICMP_ECHO, ICMP_ECHOREPLY, Icmp
from netplex.packet.ipv4 import IPv4
from netplex.stack.xfrm.algo import AlgoKey, EspTransform, find_algo

__all__ = ["main"]


def _transform(c: ChildSa, outbound: bool) -> EspTransform:
    ch = c.chosen
    assert ch is not None
    enc = c.enc_out if outbound else c.enc_in
    integ = c.int_out if outbound else c.int_in
    if ch.encr.id == 20:
        a = find_algo("aead", "rfc4106(gcm(aes))")
        assert a is not None
        return EspTransform(AlgoKey(a, enc, 128), None, None)
    if ch.encr.id == 28:
        a = find_algo("aead", "rfc7539esp(chacha20,poly1305)")
        assert a is not None
        return EspTransform(AlgoKey(a, enc, 128), None, None)
    e = find_algo("enc", "cbc(aes)")
    assert e is not None and ch.integ is not None
    au = find_algo("auth", f"hmac({ch.integ.digest})")
    assert au is not None
    return EspTransform(None, AlgoKey(e, enc), AlgoKey(au, integ, ch.integ.icv * 8))


def _listdir(path: str) -> list[str] | None:
    try:
        return [n for n in os.listdir(path) if os.path.isfile(os.path.join(path, n))]
    except OSError:
        return None


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ike_peer")
    ap.add_argument("--conf", required=True)
    ap.add_argument("--conn", required=True)
    ap.add_argument("--local", required=True)
    ap.add_argument("--remote", required=True)
    ap.add_argument("--initiate", default="")
    ap.add_argument("--creds", default="", help="a swanctl directory whose x509/, x509ca/, private/ ... to load")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rekey-ike-after", type=float, default=0.0,
                    help="rekey the IKE SA (CREATE_CHILD_SA) this many seconds after it is up")
    ap.add_argument("--until-esp", type=int, default=0, help="stop after this many ESP packets were answered")
    ap.add_argument("--require-cookie", action="store_true",
                    help="as a responder under load: answer IKE_SA_INIT without a valid cookie with N(COOKIE)")
    ap.add_argument("--half-open-first", action="store_true",
                    help="before initiating, leave one IKE SA half open at the peer (an IKE_SA_INIT never followed)")
    a = ap.parse_args(argv)
    with open(a.conf) as f:
        conf = parse_swanctl(f.read(), a.conf)
    cfg = conf.connections[a.conn]
    psk = next((s.secret for s in conf.secrets), None)
    creds = None
    if a.creds:
        creds, loaded, errors = load_swanctl_creds(a.creds, _listdir, _read)
        if errors:
            sys.stderr.write("".join(e + "\n" for e in errors))
            return 1
    local, remote = ip_to_int(a.local), ip_to_int(a.remote)
    socks = {}
    for port in (500, 4500):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a.local, port))
        socks[port] = s
    start = time.monotonic()
    sa = IkeSa(cfg, local, remote, bool(a.initiate), os.urandom, psk, lambda: int(time.monotonic() - start),
               creds=creds)
    report: dict[str, object] = {"events": [], "esp_in": 0, "esp_out": 0, "icmp_echo": 0, "esp_bad": 0}

    sas = [sa]          # the IKE SA, then each one that rekeyed it

    def send(data: bytes, sa: IkeSa = sa) -> None:
        # from 500, or from 4500 after the non-ESP marker once IKE moved there; to where the peer is seen
        if sa.local_port == 4500:
            socks[4500].sendto(b"\0\0\0\0" + data, (int_to_ip(sa.remote), sa.remote_port))
        else:
            socks[500].sendto(data, (int_to_ip(sa.remote), sa.remote_port))

    guard = CookieGuard(DosSettings(1, 0, 0), os.urandom) if a.require_cookie else None
    stray = b""
    if a.initiate and a.half_open_first:
        half = IkeSa(cfg, local, remote, True, os.urandom, psk, lambda: 0, creds=creds)
        send(half.initiate(None))
        stray = half.spii
        select.select([socks[500]], [], [], 1.0)      # its answer: the peer holds it half open now
    if a.initiate:
        send(sa.initiate(cfg.children[a.initiate]))
    seq_out = 0
    answered = 0
    rekeyed_at = 0.0
    while time.monotonic() - start < a.seconds:
        cur = sas[-1]
        if a.rekey_ike_after and not rekeyed_at and cur.state == "ESTABLISHED" and \
                time.monotonic() - start >= a.rekey_ike_after:
            req = cur.rekey_ike()
            if req is not None:
                rekeyed_at = time.monotonic()
                send(req, cur)
        r, _w, _x = select.select(list(socks.values()), [], [], 0.2)
        for s in r:
            data, (src, sport) = s.recvfrom(65535)
            if s is socks[4500]:
                if data[:4] != b"\0\0\0\0":
                    child = sas[-1].children[-1] if sas[-1].children else None
                    if child is None:
                        continue
                    spi, seq = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
                    opened = _transform(child, False).open(spi, seq, data[8:]) if spi == child.spi_in else None
                    if opened is None:
                        report["esp_bad"] = int(report["esp_bad"]) + 1   # type: ignore[call-overload]
                        continue
                    report["esp_in"] = int(report["esp_in"]) + 1   # type: ignore[call-overload]
                    inner = IPv4.decode(opened[0])
                    icmp = inner.payload
                    if isinstance(icmp, Icmp) and icmp.type == ICMP_ECHO:
                        report["icmp_echo"] = int(report["icmp_echo"]) + 1   # type: ignore[call-overload]
                        reply = IPv4(inner.dst, inner.src, 1, Icmp(ICMP_ECHOREPLY, 0, icmp.id, icmp.seq, icmp.payload))
                        seq_out += 1
                        sealed = _transform(child, True).seal(child.spi_out, seq_out, reply.encode(), 4)
                        s.sendto(child.spi_out.to_bytes(4, "big") + seq_out.to_bytes(4, "big") + sealed,
                                 (src, sport))
                        report["esp_out"] = int(report["esp_out"]) + 1   # type: ignore[call-overload]
                        answered += 1
                    continue
                data = data[4:]
            spii = data[:8]
            if spii == stray:
                continue
            if guard is not None and sa.state == "CREATED":
                try:
                    h = IkeHeader.unpack(data)
                    verdict, resp = guard.check(data, h, ip_to_int(src), 1, 1, int(time.monotonic() - start))
                except (IkeDecodeError, IndexError):
                    continue
                if verdict != "ok":
                    report["cookies_sent"] = guard.sent
                    (socks[4500] if s is socks[4500] else socks[500]).sendto(
                        (b"\0\0\0\0" if s is socks[4500] else b"") + resp, (src, sport))
                    continue
            to = next((x for x in reversed(sas) if x.spii == spii), sa)
            if not to.initiator and to.state == "CREATED":
                to.remote, to.remote_port = ip_to_int(src), sport     # a NAT's address, as the peer is seen
            if s is socks[4500]:
                to.local_port, to.remote_port = 4500, sport           # the peer floated (or its NAT remapped)
            before = len(to.events)
            for out in to.receive(data):
                send(out, to)
            sas += [x for e, x in to.events[before:] if e == "ike_rekeyed"]
        if a.until_esp and answered >= a.until_esp:
            break
    report["events"] = [e for x in sas for e, _y in x.events]
    report["ike_sas"] = [f"{x.spii.hex()}_{x.spir.hex()}:{x.state}" for x in sas]
    sa = sas[-1]
    report["state"] = sa.state
    report["spii"] = sa.spii.hex()
    report["spir"] = sa.spir.hex()
    report["natd"] = sa.natd
    report["nat_here"] = sa.nat_here
    report["remote"] = f"{int_to_ip(sa.remote)}[{sa.remote_port}]"
    report["ike_proposal"] = sa.chosen.text() if sa.chosen else ""
    report["remote_id"] = sa.remote_id
    report["auth_failed"] = [str(x) for e, x in sa.events if e == "auth_failed"]
    report["children"] = [{"name": c.cfg.name, "spi_in": f"{c.spi_in:08x}", "spi_out": f"{c.spi_out:08x}",
                           "proposal": c.chosen.text() if c.chosen else "", "enc_in": c.enc_in.hex(),
                           "enc_out": c.enc_out.hex(), "int_in": c.int_in.hex(), "int_out": c.int_out.hex(),
                           "ts_local": [f"{int_to_ip(t.start)}-{int_to_ip(t.end)}" for t in c.ts_local],
                           "ts_remote": [f"{int_to_ip(t.start)}-{int_to_ip(t.end)}" for t in c.ts_remote]}
                          for c in sa.children]
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
