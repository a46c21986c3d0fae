"""DNS messages (RFC 1035 section 4): exact bytes, name compression, malformed input, tshark's reading."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from netplex.apps.dnsmasq import parse_args
from netplex.apps.dnsmasq_dns import DnsData
from netplex.packet.addr import ip_to_int, mac_to_bytes
from netplex.packet.dns import (
    RCODE_NXDOMAIN,
    TYPE_A,
    TYPE_PTR,
    DnsError,
    DnsMessage,
    DnsQuestion,
    DnsRecord,
    a_record,
)
from netplex.packet.ethernet import ETH_P_IP, Ethernet
from netplex.packet.ipv4 import IPPROTO_UDP, IPv4
from netplex.packet.pcap import PcapWriter
from netplex.packet.udp import Udp

ROOT = Path(__file__).resolve().parents[2]
QUERY = bytes.fromhex("1234 0100 0001 0000 0000 0000" "02 6462 00 0001 0001".replace(" ", ""))


def test_query_bytes() -> None:
    q = DnsMessage(id=0x1234, rd=True, questions=[DnsQuestion("db", TYPE_A)])
    assert q.encode() == QUERY
    assert DnsMessage.decode(QUERY) == q


def test_answer_compresses_owner_names() -> None:
    q = DnsMessage.decode(QUERY)
    r = q.reply()
    r.ra = True
    r.answers = [a_record("db", "172.30.0.2", 600), a_record("DB", "172.30.0.3", 600)]
    raw = r.encode()
    # header: QR RD RA, 1 question, 2 answers; each answer's name is a pointer to offset 12 (c00c)
    assert raw[:12] == bytes.fromhex("1234 8180 0001 0002 0000 0000".replace(" ", ""))
    assert raw[20:] == bytes.fromhex("c00c 0001 0001 00000258 0004 ac1e0002"
                                     " c00c 0001 0001 00000258 0004 ac1e0003".replace(" ", ""))
    back = DnsMessage.decode(raw)
    assert [a.address() for a in back.answers] == ["172.30.0.2", "172.30.0.3"]
    assert back.answers[1].name == "db"      # the pointer's target, as written first


def test_suffix_compression_and_ptr_names() -> None:
    q = DnsMessage(id=7, questions=[DnsQuestion("2.0.30.172.in-addr.arpa", TYPE_PTR)])
    r = q.reply()
    r.answers = [DnsRecord("2.0.30.172.in-addr.arpa", TYPE_PTR, 1, 600, "db.backend"),
                 DnsRecord("3.0.30.172.in-addr.arpa", TYPE_PTR, 1, 600, "app.backend")]
    raw = r.encode()
    # the second owner name: label "3", then a pointer to "0.30.172.in-addr.arpa" inside the question
    second = raw.index(b"\x013\xc0")
    assert raw[second + 3] == 12 + 2
    # app.backend reuses "backend" from db.backend's data
    assert b"\x03app\xc0" in raw
    back = DnsMessage.decode(raw)
    assert [a.data for a in back.answers] == ["db.backend", "app.backend"]
    assert back.answers[1].name == "3.0.30.172.in-addr.arpa"


@pytest.mark.parametrize("raw, why", [
    (QUERY[:11], "shorter than its header"),
    (QUERY[:-3], "truncated"),
    (QUERY[:12] + b"\xc0\x0c\x00\x01\x00\x01", "does not point backwards"),      # a pointer to itself
    (QUERY[:12] + b"\x05ab", "runs past the end"),
    (QUERY[:12] + b"\x40ab\x00\x00\x01\x00\x01", "label type 0x40"),
])
def test_malformed_messages_raise(raw: bytes, why: str) -> None:
    with pytest.raises(DnsError, match=why):
        DnsMessage.decode(raw)


def test_names_too_long_refused() -> None:
    with pytest.raises(DnsError, match="longer than 63"):
        DnsMessage(questions=[DnsQuestion("x" * 64)]).encode()
    with pytest.raises(DnsError, match="longer than 255"):
        DnsMessage(questions=[DnsQuestion(".".join(["x" * 60] * 5))]).encode()


def test_tshark_reads_our_messages(tmp_path: Path) -> None:
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed")
    q = DnsMessage(id=0x4242, rd=True, questions=[DnsQuestion("cache.backend", TYPE_A)])
    ok = q.reply()
    ok.ra = True
    ok.answers = [a_record("cache.backend", "172.30.0.2", 600)]
    ptr_q = DnsMessage(id=9, rd=True, questions=[DnsQuestion("2.0.30.172.in-addr.arpa", TYPE_PTR)])
    ptr = ptr_q.reply()
    ptr.answers = [DnsRecord("2.0.30.172.in-addr.arpa", TYPE_PTR, 1, 600, "db.backend")]
    nx = DnsMessage(id=5, questions=[DnsQuestion("nosuch", TYPE_A)]).reply(RCODE_NXDOMAIN)
    a, b = ip_to_int("172.30.0.3"), ip_to_int("127.0.0.11")
    m1, m2 = mac_to_bytes("02:42:ac:1e:00:03"), mac_to_bytes("02:42:ac:1e:00:02")
    path = tmp_path / "dns.pcap"
    with PcapWriter(path) as w:
        for i, (msg, to_server) in enumerate([(q, True), (ok, False), (ptr_q, True), (ptr, False), (nx, False)]):
            src, dst = (a, b) if to_server else (b, a)
            sport, dport = (40000, 53) if to_server else (53, 40000)
            w.write(i * 1000, Ethernet(m2, m1, ETH_P_IP, IPv4(src, dst, IPPROTO_UDP, Udp(sport, dport, msg.encode()))))
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-E", "separator=|", "-e", "dns.qry.name",
                          "-e", "dns.a", "-e", "dns.ptr.domain_name", "-e", "dns.flags.rcode", "-e", "_ws.expert"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["cache.backend||||", "cache.backend|172.30.0.2||0|",
                   "2.0.30.172.in-addr.arpa||||", "2.0.30.172.in-addr.arpa||db.backend|0|", "nosuch|||3|"]


QUERIES = """
import socket, sys
from netplex.packet.dns import DnsMessage, DnsQuestion
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("127.0.0.1", 53))
for i, arg in enumerate(sys.argv[1:]):
    name, qtype = arg.split("/")
    s.send(DnsMessage(id=i + 1, rd=True, questions=[DnsQuestion(name, int(qtype))]).encode())
    sys.stdout.write(s.recv(4096).hex() + "\\n")
"""


@pytest.mark.linux
def test_real_dnsmasq_answers_our_queries(tmp_path: Path) -> None:
    """Our queries to Debian's dnsmasq in a namespace of our own, its answers through our decoder:
    an A record behind a compression pointer, NXDOMAIN in a local domain, a PTR, an empty AAAA
    answer, REFUSED for a name it has no server for."""
    if shutil.which("dnsmasq") is None:
        pytest.skip("dnsmasq is not installed (Debian package dnsmasq)")
    ns = f"npdns-{os.getpid()}"
    pid = tmp_path / "dnsmasq.pid"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", ns, "dnsmasq", "--conf-file=/dev/null", "--no-hosts", "--no-resolv",
                        "--listen-address=127.0.0.1", "--bind-interfaces", f"--pid-file={pid}",
                        f"--dhcp-leasefile={tmp_path / 'leases'}", "--host-record=db.lab.example,10.1.2.3",
                        "--local=/lab.example/"], check=True)
        out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", QUERIES, "db.lab.example/1",
                              "nosuch.lab.example/1", "3.2.1.10.in-addr.arpa/12", "db.lab.example/28",
                              "elsewhere.org/1"], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=str(ROOT))).stdout.split()
    finally:
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)
        subprocess.run(["ip", "netns", "del", ns], check=False)
    a, nx, ptr, aaaa, refused = (DnsMessage.decode(bytes.fromhex(h)) for h in out)
    assert (a.id, a.qr, a.aa, a.rcode, [r.address() for r in a.answers]) == (1, True, True, 0, ["10.1.2.3"])
    assert bytes.fromhex(out[0])[32:34] == b"\xc0\x0c"       # dnsmasq compresses the answer's name
    assert (nx.rcode, nx.answers) == (RCODE_NXDOMAIN, [])
    assert [(r.rtype, r.data) for r in ptr.answers] == [(TYPE_PTR, "db.lab.example")]
    assert (aaaa.rcode, aaaa.answers, aaaa.questions[0].qtype) == (0, [], 28)
    assert refused.rcode == 5
    # netplex's dnsmasq, given the same command line, answers the same bytes
    cfg, _ = parse_args(["--no-resolv", "--no-hosts", "--host-record=db.lab.example,10.1.2.3", "--local=/lab.example/"])
    ours = DnsData(cfg.host_records, cfg.local_domains, cfg.local_ttl)
    for i, (q, real) in enumerate(zip(["db.lab.example/1", "nosuch.lab.example/1", "3.2.1.10.in-addr.arpa/12",
                                        "db.lab.example/28", "elsewhere.org/1"], out, strict=True)):
        name, qtype = q.split("/")
        query = DnsMessage(id=i + 1, rd=True, questions=[DnsQuestion(name, int(qtype))])
        assert ours.answer(query).encode().hex() == real, q
