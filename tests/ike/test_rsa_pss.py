"""RSASSA-PSS signatures in IKE_AUTH (RFC 7427, RFC 4055 parameters) between two simulated charons,
configured as swanctl.conf(5) says: `auth = rsa/pss[-HASH]` signs with PSS; a peer whose
`remote.auth` is `pubkey` or `rsa` takes PSS only with strongswan.conf's `charon.rsa_pss = yes`.
(Against the real charon, both ways: tests/twin/test_ike_charon.py.)"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from netplex.ike.config import ConfigError, parse_swanctl
from netplex.ike.x509 import HASH_SHA256, HASH_SHA384, generate_key, pss_alg_id, pss_hash, sign, verify
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
RSA_PSS_CONF = """\
      /etc/strongswan.conf: |
        charon {
          rsa_pss = yes
        }
"""


def _run(tmp_path: Path, gw1_local: str, gw2_remote: str, gw2_rsa_pss: bool = False):
    text = (ROOT / "examples" / "ipsec-certificates.yaml").read_text()
    parts = text.split("              auth = pubkey\n")
    assert len(parts) == 5      # gw1 local, gw1 remote, gw2 local, gw2 remote
    text = (parts[0] + f"              auth = {gw1_local}\n" + parts[1] + "              auth = pubkey\n" + parts[2]
            + "              auth = pubkey\n" + parts[3] + f"              auth = {gw2_remote}\n" + parts[4])
    if gw2_rsa_pss:
        i = text.index("  gw2:\n    files:\n") + len("  gw2:\n    files:\n")
        text = text[:i] + RSA_PSS_CONF + text[i:]
    path = tmp_path / "pss.yaml"
    path.write_text(text)
    b = SimBackend()
    return run_scenario(load_scenario(path), b), b.net


@pytest.mark.parametrize("local, remote, rsa_pss, ok", [
    ("rsa/pss-sha256", "rsa/pss", False, True),
    ("rsa/pss", "rsa", True, True),
    ("rsa/pss-sha384", "pubkey", False, False),     # PSS under pubkey needs charon.rsa_pss
    ("pubkey", "rsa/pss", False, True),             # charon 5.9 takes PKCS#1 under rsa/pss too (twin)
])
def test_pss_between_two_charons(tmp_path: Path, local: str, remote: str, rsa_pss: bool, ok: bool) -> None:
    res, net = _run(tmp_path, local, remote, rsa_pss)
    assert res.passed is ok, [p.to_json() for p in res.probes if not p.passed]
    sas = net.nodes["gw2"].cmd("swanctl --list-sas")
    assert ("ESTABLISHED" in sas) is ok, sas


def test_pss_signature_and_its_algorithm_identifier() -> None:
    key = generate_key("rsa", 2048, random.Random(1).getrandbits)
    method, data = sign(key, b"octets", {HASH_SHA256, HASH_SHA384}, pss=True, want_hash=HASH_SHA384)
    assert method == 14 and data[1:1 + data[0]] == pss_alg_id(HASH_SHA384) and pss_hash(data) == HASH_SHA384
    assert verify(key.public_key(), method, data, b"octets")
    assert not verify(key.public_key(), method, data, b"other octets")
    # RFC 7427 Appendix A.4.3's RSASSA-PSS/SHA-256 identifier, with its explicit trailerField, reads the same
    a43 = bytes.fromhex("304606092a864886f70d01010a3039a00f300d06096086480165030402010500a11c301a06092a864886f7"
                        "0d010108300d06096086480165030402010500a203020120a303020101")
    assert pss_hash(bytes((len(a43),)) + a43 + b"sig") == HASH_SHA256


def test_pss_hash_constraint_on_remote_is_refused_by_name() -> None:
    conf = "connections { c { remote { auth = rsa/pss-sha256 } } }"
    with pytest.raises(ConfigError, match="remote.auth = rsa/pss-sha256 is not supported"):
        parse_swanctl(conf)
