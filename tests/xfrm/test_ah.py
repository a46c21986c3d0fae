"""AH (RFC 4302) in the simulator's xfrm: `ip xfrm` as iproute2 and the kernel's ah4 answer it, and
packets that scapy's AH layer verifies given the key and tshark decodes without a warning."""
from __future__ import annotations

import subprocess

import pytest

from netplex.packet.ipv4 import IPv4
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

from .conftest import ROOT, SHA_KEY, run_ok

SHA512_KEY = "0x" + bytes(range(64)).hex()
AH_SA = "ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto ah spi 0x100 reqid 1 mode transport"


def ah_transport(a, b, auth: str = f"auth-trunc 'hmac(sha256)' {SHA_KEY} 128", extra: str = "") -> None:
    for n in (a, b):
        run_ok(n, f"{AH_SA} {auth} {extra}",
               f"ip xfrm state add src 192.168.0.2 dst 192.168.0.1 proto ah spi 0x200 reqid 2 mode transport {auth} {extra}")
    run_ok(a, "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir out tmpl proto ah reqid 1 mode transport",
           "ip xfrm policy add src 192.168.0.2 dst 192.168.0.1 dir in tmpl proto ah reqid 2 mode transport")
    run_ok(b, "ip xfrm policy add src 192.168.0.2 dst 192.168.0.1 dir out tmpl proto ah reqid 2 mode transport",
           "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir in tmpl proto ah reqid 1 mode transport")


@pytest.mark.parametrize(("algo", "trunc"), [("sha1", 96), ("sha256", 96), ("sha384", 192), ("sha512", 256),
                                             ("md5", 96)])
def test_auth_takes_the_kernels_default_truncation(pair, algo: str, trunc: int) -> None:
    _, a, _ = pair
    run_ok(a, f"{AH_SA} auth {algo} 0x0011")
    out = a.cmd("ip xfrm state")
    assert out == ("src 192.168.0.1 dst 192.168.0.2\n\tproto ah spi 0x00000100 reqid 1 mode transport\n"
                   f"\treplay-window 0 \n\tauth-trunc hmac({algo}) 0x0011 {trunc}\n"
                   "\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000\n"
                   "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n"), out


@pytest.mark.parametrize(("line", "status", "error"), [
    (f"{AH_SA} enc aes 0x00112233445566778899aabbccddeeff auth sha1 0x00", 1,
     'ALGO-TYPE values "enc", "aead", and "comp" are invalid with XFRM-PROTO value "ah"\n'),
    (f"{AH_SA}", 1, 'ALGO-TYPE value "auth" or "auth-trunc" is required with XFRM-PROTO value "ah"\n'),
    (f"{AH_SA} auth-trunc sha256 0x00 257", 2, "Error: Invalid length requested for truncated ICV.\n"),
    (f"{AH_SA} auth sha3 0x00", 2, "Error: Requested AUTH algorithm not found.\n"),
    (f"{AH_SA} auth sha1 0x00 encap espinudp 4500 4500 0.0.0.0", 2, "Error: AH is not compatible with encapsulation.\n"),
    (f"{AH_SA} mode beet auth sha1 0x00", 1, 'MODE value is invalid with XFRM-PROTO value "ah"\n'),
])
def test_bad_ah_states_as_iproute2_and_the_kernel(pair, line: str, status: int, error: str) -> None:
    _, a, _ = pair
    r = a.run(line)
    assert (r.status, r.error) == (status, error)
    assert a.cmd("ip xfrm state count").strip() == "SAD count 0"


def test_transport_mode_ping_replay_and_tampering(pair) -> None:
    net, a, b = pair
    ah_transport(a, b, extra="replay-window 32")
    frames = []
    net.world.capture = lambda dev, frame: frames.append(frame.copy()) if dev.name == "eth0" and \
        dev.ns is b.ns and isinstance(frame.payload, IPv4) and frame.payload.proto == 51 \
        and frame.payload.src == 0xC0A80001 else None
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
    net.world.capture = None
    ah_frame = frames[0]
    raw = bytes(ah_frame.payload.payload)
    assert raw[0] == 1 and raw[1] == (12 + 16 + 4) // 4 - 2     # ICMP inside; ICV 16 bytes padded to 8 (ah4)
    x = b.ns.xfrm.by_id[(0xC0A80002, 0x100, 51)]
    assert x.packets == 1 and x.replay_seq == 1
    b.ns.devices["eth0"].rx(ah_frame.copy())                     # the same packet again: replayed
    net.run_for(10**8)
    assert x.st_replay == 1
    forged = ah_frame.copy()
    forged.payload = forged.payload.copy()
    body = bytearray(raw)
    body[8:12] = (7).to_bytes(4, "big")                          # a fresh sequence number, the old ICV
    forged.payload.payload = bytes(body)
    b.ns.devices["eth0"].rx(forged)
    net.run_for(10**8)
    assert x.st_integrity_failed == 1
    mutable = ah_frame.copy()                                    # TTL and TOS are not covered: accepted
    mutable.payload = mutable.payload.copy()
    mutable.payload.ttl, mutable.payload.tos = 3, 0x10
    body[8:12] = raw[8:12]
    b.ns.devices["eth0"].rx(mutable)
    net.run_for(10**8)
    assert (x.st_replay, x.st_integrity_failed) == (2, 1)        # only the replay check stopped it
    assert "replay-window 0 replay 2 failed 1" in b.cmd("ip -s xfrm state list spi 0x100")


def test_plain_packet_where_ah_is_required_is_dropped(pair) -> None:
    _, a, b = pair
    ah_transport(a, b)
    run_ok(a, "ip xfrm policy flush", "ip xfrm state flush")
    assert "100% packet loss" in a.cmd("ping -c 1 192.168.0.2")
    assert b.ns.xfrm.stats["XfrmInTmplMismatch"] >= 1


@pytest.fixture(scope="module")
def ah_pcaps(tmp_path_factory):
    d = tmp_path_factory.mktemp("ah")
    res = run_scenario(load_scenario(ROOT / "examples" / "ipsec-manual-ah.yaml"), SimBackend(pcap_dir=d))
    assert res.passed, res
    return d


def _scapy_sas():
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import AH, AUTH_ALGOS, AuthAlgo, SecurityAssociation

    hmac_sha256_96 = AuthAlgo("HMAC-SHA256-96", mac=AUTH_ALGOS["SHA2-256-128"].mac,
                              digestmod=AUTH_ALGOS["SHA2-256-128"].digestmod, icv_size=12)
    AUTH_ALGOS["HMAC-SHA256-96"] = hmac_sha256_96
    return {
        0x3000: SecurityAssociation(AH, spi=0x3000, auth_algo="HMAC-SHA256-96", auth_key=bytes.fromhex(SHA_KEY[2:]),
                                    tunnel_header=IP(src="192.0.2.1", dst="198.51.100.1")),
        0x4000: SecurityAssociation(AH, spi=0x4000, auth_algo="SHA2-512-256", auth_key=bytes.fromhex(SHA512_KEY[2:]),
                                    tunnel_header=IP(src="198.51.100.1", dst="192.0.2.1")),
        0x5000: SecurityAssociation(AH, spi=0x5000, auth_algo="HMAC-SHA1-96",
                                    auth_key=bytes.fromhex("0102030405060708090a0b0c0d0e0f10111213ff")),
    }


def test_scapy_ah_layer_verifies_netplex_icvs(ah_pcaps) -> None:
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.ipsec import AH, IPSecIntegrityError
    from scapy.utils import rdpcap

    sas = _scapy_sas()
    seen = {0x3000: 0, 0x4000: 0, 0x5000: 0}
    for pcap in ("internet-eth0.pcap", "internet-eth1.pcap", "internet-eth2.pcap"):   # TTLs differ on each side
        for pkt in rdpcap(str(ah_pcaps / pcap)):
            if AH not in pkt:
                continue
            ip = pkt[IP]
            spi = ip[AH].spi
            tampered = IP(bytes(ip))
            inner = sas[spi].decrypt(ip)            # raises IPSecIntegrityError on a bad ICV
            seen[spi] += 1
            if spi != 0x5000 and ICMP in inner:
                assert {inner.src, inner.dst} == {"10.1.0.10", "10.2.0.10"}
            tampered[AH].seq += 1
            with pytest.raises(IPSecIntegrityError):
                sas[spi].decrypt(IP(bytes(tampered)))
    assert seen[0x3000] >= 10 and seen[0x4000] >= 10 and seen[0x5000] >= 2, seen


@pytest.mark.tools("tshark")
def test_tshark_decodes_ah_without_warnings(ah_pcaps) -> None:
    pcap = ah_pcaps / "internet-eth1.pcap"
    proc = subprocess.run(["tshark", "-r", str(pcap), "-V", "--disable-protocol", "http"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Authentication Header" in proc.stdout
    assert "Malformed" not in proc.stdout and "Expert Info (Warning" not in proc.stdout
    proc = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "frame.protocols", "-e", "ah.spi"],
                          capture_output=True, text=True, timeout=60)
    rows = {tuple(r.split("\t")) for r in proc.stdout.splitlines() if ":ah:" in r}
    assert ("eth:ethertype:ip:ah:ip:icmp:data", "0x00003000") in rows
    assert ("eth:ethertype:ip:ah:ip:tcp", "0x00004000") in rows


@pytest.mark.linux
def test_example_agrees_with_the_kernels_ah(differential) -> None:
    """Where the kernel has xfrm and ah4 (not this machine's: the test skips naming the module)."""
    differential.assert_agree(ROOT / "examples" / "ipsec-manual-ah.yaml")
