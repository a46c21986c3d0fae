"""strongSwan's `pki` in the simulator: keys and certificates a user makes for `auth = pubkey`,
the same on every run, and read by the real tools (openssl, pki) as what they claim to be."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netplex.network import Network

CA = ["mkdir -p /etc/swanctl/x509 /etc/swanctl/x509ca /etc/swanctl/private",
      "pki --gen --type ecdsa --size 256 --outform pem > /etc/swanctl/private/caKey.pem",
      'pki --self --ca --lifetime 3652 --in /etc/swanctl/private/caKey.pem --dn "C=CH, O=strongSwan, CN=Root CA"'
      " > /etc/swanctl/x509ca/caCert.der",
      "pki --gen --type rsa --size 2048 > /etc/swanctl/private/moonKey.der",
      "pki --pub --in /etc/swanctl/private/moonKey.der | pki --issue --cacert /etc/swanctl/x509ca/caCert.der"
      ' --cakey /etc/swanctl/private/caKey.pem --dn "C=CH, O=strongSwan, CN=moon.strongswan.org"'
      " --san moon.strongswan.org --outform pem > /etc/swanctl/x509/moonCert.pem"]
FILES = ["/etc/swanctl/x509ca/caCert.der", "/etc/swanctl/x509/moonCert.pem", "/etc/swanctl/private/moonKey.der",
         "/etc/swanctl/private/caKey.pem"]


def _make(seed: int = 0) -> dict[str, bytes]:
    net = Network(seed=seed)
    h = net.add_node("h1")
    for line in CA:
        r = h.run(line)
        assert r.status == 0, (line, r.error)
    return {f: h.machine.fs.read(f) for f in FILES}


def test_the_same_scenario_makes_the_same_keys_and_certificates() -> None:
    a, b = _make(), _make()
    assert a == b
    assert a["/etc/swanctl/x509ca/caCert.der"][:1] == b"\x30"            # DER, pki's default
    assert a["/etc/swanctl/x509/moonCert.pem"].startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert _make(seed=1)["/etc/swanctl/private/moonKey.der"] != a["/etc/swanctl/private/moonKey.der"]


def test_swanctl_loads_what_pki_made() -> None:
    net = Network()
    h = net.add_node("h1")
    for line in CA:
        h.run(line)
    h.run("charon &")
    h.run("echo 'connections {\n}' > /etc/swanctl/swanctl.conf")
    r = h.run("swanctl --load-creds")
    assert r.output == ("loaded certificate from '/etc/swanctl/x509/moonCert.pem'\n"
                        "loaded certificate from '/etc/swanctl/x509ca/caCert.der'\n"
                        "loaded ECDSA key from '/etc/swanctl/private/caKey.pem'\n"
                        "loaded RSA key from '/etc/swanctl/private/moonKey.der'\n"), r.error


@pytest.mark.parametrize("line,status,error", [
    ("pki --self --dn foo", 1, "Error: supplied --dn is not a distinguished name\n"),
    ("pki --gen --type foo", 1, "Error: invalid key type\n"),
    ("pki --issue --in x --dn CN=x", 1, "Error: --cacert is required\n"),
    ("pki --self --in /nonexistent --dn CN=x", 1, "loading private key failed\n"),
    ("pki --frob", 1, "pki: unrecognized option '--frob'\nError: invalid operation\n"),
    ("pki --print --in x", 2, "netplex: pki --print is not supported\n"),
    ("pki --gen --safe-primes", 2, "netplex: pki --gen --safe-primes is not supported\n"),
])
def test_bad_input_gets_pkis_errors(line: str, status: int, error: str) -> None:
    r = Network().add_node("h1").run(line)
    assert r.status == status and r.error.startswith(error) and r.output == ""


@pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl on this machine (apt-get install openssl)")
def test_openssl_verifies_the_chain(tmp_path: Path) -> None:
    files = _make()
    (tmp_path / "ca.der").write_bytes(files["/etc/swanctl/x509ca/caCert.der"])
    (tmp_path / "moon.pem").write_bytes(files["/etc/swanctl/x509/moonCert.pem"])
    ca_pem = subprocess.run(["openssl", "x509", "-inform", "der", "-in", str(tmp_path / "ca.der")],
                            capture_output=True, check=True).stdout
    (tmp_path / "ca.pem").write_bytes(ca_pem)
    # the simulator's clock starts on 2027-01-01: verify at that time
    r = subprocess.run(["openssl", "verify", "-attime", "1798761600", "-CAfile", str(tmp_path / "ca.pem"),
                        str(tmp_path / "moon.pem")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.endswith("moon.pem: OK\n"), r.stdout + r.stderr
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(tmp_path / "moon.pem")],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:moon.strongswan.org" in text and "Subject: C = CH, O = strongSwan, CN = moon.strongswan.org" in text
    key = subprocess.run(["openssl", "rsa", "-inform", "der", "-check", "-noout"],
                         input=files["/etc/swanctl/private/moonKey.der"], capture_output=True)
    assert b"RSA key ok" in key.stdout, key.stderr
