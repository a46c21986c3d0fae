"""IKEv2 with certificates in the simulator (swanctl.conf `auth = pubkey`, x509/, x509ca/, private/):
what a user sees when the certificates are right, and when they are not."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
NOT_BEFORE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CH"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "strongSwan"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key(kind: str):
    if kind == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP384R1() if kind == "p384" else ec.SECP256R1())


def make_ca(kind: str = "ecdsa", cn: str = "strongSwan Root CA", not_after: datetime.datetime = NOT_AFTER):
    key = _key(kind)
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(NOT_BEFORE).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    return key, b.sign(key, None if kind == "ed25519" else hashes.SHA256())


def make_cert(ca, cn: str, kind: str = "rsa", san: str = "", not_after: datetime.datetime = NOT_AFTER):
    ca_key, ca_cert = ca
    key = _key(kind)
    b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca_cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOT_BEFORE).not_valid_after(not_after))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return key, b.sign(ca_key, None if isinstance(ca_key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def pem(obj) -> str:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line + "\n" for line in text.splitlines())


def cert_scenario(tmp_path: Path, gw1, gw2, ca, gw1_conf=None, gw2_conf=None, gw2_ca=None) -> Path:
    """The site-to-site example with `auth = pubkey`: each gateway's certificate, key and the CA."""
    s = (ROOT / "examples" / "ipsec-site-to-site-psk.yaml").read_text()
    auth = {"gw1": gw1_conf or "auth = pubkey\n              certs = gw1.pem",
            "gw2": gw2_conf or "auth = pubkey\n              certs = gw2.pem"}
    for me in ("gw1", "gw2"):
        s = s.replace(f"""            local {{
              auth = psk
              id = {me}.example.org""", f"""            local {{
              {auth[me]}
              id = {me}.example.org""", 1)
    s = s.replace("auth = psk", "auth = pubkey")
    for me, (key, cert), cacert in (("gw1", gw1, ca[1]), ("gw2", gw2, (gw2_ca or ca)[1])):
        files = (f"      /etc/swanctl/x509/{me}.pem: |\n" + _indent(pem(cert), 8)
                 + f"      /etc/swanctl/private/{me}.key: |\n" + _indent(pem(key), 8)
                 + "      /etc/swanctl/x509ca/ca.pem: |\n" + _indent(pem(cacert), 8))
        s = s.replace(f"  {me}:\n    files:\n", f"  {me}:\n    files:\n" + files, 1)
    path = tmp_path / "certs.yaml"
    path.write_text(s)
    return path


def _run(path: Path):
    b = SimBackend()
    return run_scenario(load_scenario(path), b), b.net


@pytest.mark.parametrize("gw1_kind,gw2_kind", [("rsa", "rsa"), ("ecdsa", "p384"), ("ed25519", "rsa")])
def test_certificates_authenticate_both_gateways(tmp_path: Path, gw1_kind: str, gw2_kind: str) -> None:
    ca = make_ca()
    gw1 = make_cert(ca, "gw1.example.org", gw1_kind, san="gw1.example.org")
    gw2 = make_cert(ca, "gw2.example.org", gw2_kind, san="gw2.example.org")
    res, net = _run(cert_scenario(tmp_path, gw1, gw2, ca))
    assert res.passed, res
    g1 = net.nodes["gw1"]
    load = g1.run("swanctl --load-creds")
    assert load.output.startswith("loaded certificate from '/etc/swanctl/x509/gw1.pem'\n"
                                  "loaded certificate from '/etc/swanctl/x509ca/ca.pem'\n"
                                  f"loaded {'ED25519' if gw1_kind == 'ed25519' else gw1_kind.upper()[:5]} key "
                                  "from '/etc/swanctl/private/gw1.key'\n".replace("P384", "ECDSA"))
    sas = g1.cmd("swanctl --list-sas")
    assert "local  'gw1.example.org' @ 192.0.2.1[500]" in sas and "remote 'gw2.example.org'" in sas
    conns = g1.cmd("swanctl --list-conns")
    assert "  local public key authentication:\n    id: gw1.example.org\n    certs: C=CH, O=strongSwan, " \
           "CN=gw1.example.org\n" in conns


def test_the_subject_dn_is_the_identity_without_an_id(tmp_path: Path) -> None:
    ca = make_ca("rsa")
    gw1 = make_cert(ca, "gw1.example.org", "ecdsa")
    gw2 = make_cert(ca, "gw2.example.org", "ecdsa")
    path = cert_scenario(tmp_path, gw1, gw2, ca)
    s = path.read_text().replace("id = gw1.example.org", 'id = "C=CH, O=strongSwan, CN=gw1.example.org"')
    path.write_text(s.replace("id = gw2.example.org", "id = %any"))
    res, net = _run(path)
    assert res.passed, res
    assert "remote 'C=CH, O=strongSwan, CN=gw2.example.org' @ 198.51.100.1[500]" in net.nodes["gw1"].cmd(
        "swanctl --list-sas")
    assert "local  'C=CH, O=strongSwan, CN=gw1.example.org'" in net.nodes["gw1"].cmd("swanctl --list-sas")


def test_a_certificate_from_another_ca_fails_and_installs_nothing(tmp_path: Path) -> None:
    ca, rogue = make_ca(), make_ca(cn="Rogue CA")
    gw1 = make_cert(ca, "gw1.example.org", san="gw1.example.org")
    gw2 = make_cert(rogue, "gw2.example.org", san="gw2.example.org")
    # gw2 trusts the rogue CA, gw1 only the real one: gw1 refuses gw2's certificate
    res, net = _run(cert_scenario(tmp_path, gw1, gw2, ca, gw2_ca=rogue))
    assert not res.passed
    g2 = net.nodes["gw2"]
    r = g2.run("swanctl --initiate --child offices")
    assert r.status == 1 and "received AUTHENTICATION_FAILED notify error" in r.output
    assert g2.cmd("ip xfrm state count") == "\t SAD count 0\n"
    assert net.nodes["gw1"].cmd("ip xfrm state count") == "\t SAD count 0\n"


def test_the_initiator_refusing_the_responder_tells_it(tmp_path: Path) -> None:
    ca, rogue = make_ca(), make_ca(cn="Rogue CA")
    gw1 = make_cert(rogue, "gw1.example.org", san="gw1.example.org")
    gw2 = make_cert(ca, "gw2.example.org", san="gw2.example.org")
    # gw1 (the responder) trusts gw2's CA and installs its side; gw2 does not trust gw1's certificate
    path = cert_scenario(tmp_path, gw1, gw2, ca)
    res, net = _run(path)
    assert not res.passed
    g2 = net.nodes["gw2"]
    r = g2.run("swanctl --initiate --child offices")
    assert r.status == 1 and "[CFG] no issuer certificate found for \"C=CH, O=strongSwan, CN=gw1.example.org\"" in r.output
    g2.run("sleep 1")    # the INFORMATIONAL reaches gw1
    assert net.nodes["gw1"].cmd("ip xfrm state count; swanctl --list-sas") == "\t SAD count 0\n"
    assert g2.cmd("ip xfrm state count") == "\t SAD count 0\n"


def test_an_identity_the_certificate_does_not_hold_fails(tmp_path: Path) -> None:
    ca = make_ca()
    gw1 = make_cert(ca, "gw1.example.org", san="gw1.example.org")
    gw2 = make_cert(ca, "gw2.example.org", san="somewhere.else")
    res, net = _run(cert_scenario(tmp_path, gw1, gw2, ca))
    assert not res.passed
    assert net.nodes["gw1"].cmd("ip xfrm state count") == "\t SAD count 0\n"


def test_an_expired_certificate_fails(tmp_path: Path) -> None:
    ca = make_ca()
    gw1 = make_cert(ca, "gw1.example.org", san="gw1.example.org")
    gw2 = make_cert(ca, "gw2.example.org", san="gw2.example.org",
                    not_after=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC))
    res, _net = _run(cert_scenario(tmp_path, gw1, gw2, ca))
    assert not res.passed


def test_bad_credential_files_are_reported_and_skipped(tmp_path: Path) -> None:
    ca = make_ca()
    gw1 = make_cert(ca, "gw1.example.org", san="gw1.example.org")
    gw2 = make_cert(ca, "gw2.example.org", san="gw2.example.org")
    _res, net = _run(cert_scenario(tmp_path, gw1, gw2, ca))
    g1 = net.nodes["gw1"]
    g1.run("mkdir /etc/swanctl/rsa; echo garbage > /etc/swanctl/x509/bad.pem; echo garbage > /etc/swanctl/rsa/bad.pem")
    r = g1.run("swanctl --load-creds")
    assert r.status == 0
    assert r.error == ("loading '/etc/swanctl/x509/bad.pem' failed: parsing X509 certificate failed\n"
                       "loading '/etc/swanctl/rsa/bad.pem' failed: parsing RSA private key failed\n")
