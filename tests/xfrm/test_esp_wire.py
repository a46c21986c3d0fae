"""ESP on the wire: tshark and scapy, given the keys, decrypt what netplex sent."""
from __future__ import annotations

import subprocess

import pytest

from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

from .conftest import CHACHA_KEY, GCM_KEY, ROOT, transport_sas

ESP_SA = ('uat:esp_sa:"IPv4","192.0.2.1","198.51.100.1","0x00001000","AES-GCM with 16 octet ICV [RFC4106]",'
          '"0x0102030405060708090a0b0c0d0e0f1011121314","NULL",""')
ESP_SA2 = ('uat:esp_sa:"IPv4","198.51.100.1","192.0.2.1","0x00002000","AES-CBC [RFC3602]",'
           '"0x00112233445566778899aabbccddeeff","HMAC-SHA-256-128 [RFC4868]",'
           '"0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"')


def _tshark(path, *opts: str, fields: tuple[str, ...] = ("frame.protocols", "esp.spi")) -> list[list[str]]:
    args = ["tshark", "-r", str(path), *opts, "-T", "fields"]
    for f in fields:
        args += ["-e", f]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [r.split("\t") for r in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def manual_pcaps(tmp_path_factory):
    d = tmp_path_factory.mktemp("esp")
    res = run_scenario(load_scenario(ROOT / "examples" / "ipsec-manual-xfrm.yaml"), SimBackend(pcap_dir=d))
    assert res.passed
    return d


@pytest.mark.tools("tshark")
def test_public_side_carries_only_esp_and_tshark_decrypts_it(manual_pcaps) -> None:
    pcap = manual_pcaps / "internet-eth0.pcap"
    plain = _tshark(pcap)
    between_offices = [r for r in plain if r[0].startswith("eth:ethertype:ip:esp")]
    assert len(between_offices) >= 12
    assert {r[1] for r in between_offices} == {"0x00001000", "0x00002000"}
    rows = _tshark(pcap, "-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE",
                   "-o", ESP_SA, "-o", ESP_SA2,
                   fields=("frame.protocols", "esp.spi", "ip.src", "ip.dst", "esp.icv_good"))
    decoded = {(r[0], r[1], r[2], r[3]) for r in rows if r[0].startswith("eth:ethertype:ip:esp")}
    assert ("eth:ethertype:ip:esp:ip:icmp:data", "0x00001000", "192.0.2.1,10.1.0.10",
            "198.51.100.1,10.2.0.10") in decoded
    assert ("eth:ethertype:ip:esp:ip:icmp:data", "0x00002000", "198.51.100.1,10.2.0.10",
            "192.0.2.1,10.1.0.10") in decoded
    assert any(r[0].startswith("eth:ethertype:ip:esp:ip:tcp") and r[1] == "0x00002000" for r in rows)
    # the CBC+HMAC direction's ICVs check out (tshark computes HMAC-SHA-256-128 itself)
    icv = [r[4] for r in rows if r[1] == "0x00002000"]
    assert icv and all(v == "1" for v in icv), icv


def test_scapy_ipsec_layer_decrypts_netplex_esp(manual_pcaps) -> None:
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.utils import rdpcap

    gcm = SecurityAssociation(ESP, spi=0x1000, crypt_algo="AES-GCM", crypt_key=bytes.fromhex(GCM_KEY[2:]),
                              auth_algo="NULL", tunnel_header=IP(src="192.0.2.1", dst="198.51.100.1"))
    cbc = SecurityAssociation(ESP, spi=0x2000, crypt_algo="AES-CBC",
                              crypt_key=bytes.fromhex("00112233445566778899aabbccddeeff"),
                              auth_algo="SHA2-256-128", auth_key=bytes.fromhex("00112233445566778899aabbccddeeff" * 2),
                              tunnel_header=IP(src="198.51.100.1", dst="192.0.2.1"))
    seen = {0x1000: 0, 0x2000: 0}
    for pkt in rdpcap(str(manual_pcaps / "internet-eth1.pcap")):
        if ESP not in pkt:
            continue
        ip = pkt[IP]
        spi = ip[ESP].spi
        inner = (gcm if spi == 0x1000 else cbc).decrypt(ip)   # raises on a bad ICV
        seen[spi] += 1
        if ICMP in inner:
            assert {inner.src, inner.dst} == {"10.1.0.10", "10.2.0.10"}
    assert seen[0x1000] >= 6 and seen[0x2000] >= 6


def test_chacha20_poly1305_transport_decrypts_in_scapy(tmp_path, pair) -> None:
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.utils import rdpcap

    net, a, b = pair
    transport_sas(a, b, enc=f"aead 'rfc7539esp(chacha20,poly1305)' {CHACHA_KEY} 128")
    net.start_pcap(tmp_path)
    assert "3 received" in a.cmd("ping -c 3 192.168.0.2")
    net.stop_pcap()
    sa = SecurityAssociation(ESP, spi=0x100, crypt_algo="CHACHA20-POLY1305", crypt_key=bytes.fromhex(CHACHA_KEY[2:]))
    n = 0
    for pkt in rdpcap(str(tmp_path / "a-eth0.pcap")):
        if ESP in pkt and pkt[ESP].spi == 0x100:
            inner = sa.decrypt(pkt[IP])
            assert ICMP in inner and inner[ICMP].type == 8
            n += 1
    assert n == 3


def test_transport_mode_keeps_the_addresses(tmp_path, pair) -> None:
    net, a, b = pair
    transport_sas(a, b)
    net.start_pcap(tmp_path)
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
    net.stop_pcap()
    rows = _tshark(tmp_path / "b-eth0.pcap", fields=("frame.protocols", "ip.src", "ip.dst", "esp.spi"))
    esp = [r for r in rows if "esp" in r[0]]
    assert [r[1:] for r in esp] == [["192.168.0.1", "192.168.0.2", "0x00000100"],
                                    ["192.168.0.2", "192.168.0.1", "0x00000200"]]
