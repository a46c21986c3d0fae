"""netplex's IKEv2 against strongSwan's charon (Debian's 5.9) on the kernel twin.

This kernel has no xfrm, so charon runs with kernel-libipsec (ESP in
userspace over a TUN device, ESP in UDP on 4500: `encap = yes`) in a
namespace of ours, its own strongswan.conf, vici socket and a private /run;
netplex's IKE (`netplex.twin.ike_peer`) is the peer in a second namespace,
over a veth. The checks: both sides report the IKE SA and the CHILD SA with
the same SPIs and proposals; a ping from charon's side through its TUN
device is decrypted by netplex's ESP with the keys netplex derived, and the
echo reply netplex encrypts comes back through charon (so both directions'
keys agree); a wrong PSK fails with AUTHENTICATION_FAILED and installs
nothing; `swanctl --rekey` runs CREATE_CHILD_SA against netplex.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netplex.twin import state
from netplex.twin.cleanup import teardown

pytestmark = pytest.mark.linux

ROOT = Path(__file__).resolve().parents[2]
CHARON = "/usr/lib/ipsec/charon"
LIBIPSEC = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"

STRONGSWAN_CONF = """charon {{
{extra}  load = random nonce openssl aes sha1 sha2 hmac gcm kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
  plugins {{
    vici {{
      socket = unix://{d}/charon.vici
    }}
  }}
  filelog {{
    log {{
      path = {d}/charon.log
      flush_line = yes
      default = 1
      ike = 2
    }}
  }}
}}
"""

CONN = """connections {{
  np {{
    local_addrs = {local}
    remote_addrs = {remote}
    proposals = {ike}
{extra}    local {{
      auth = psk
      id = {lid}
    }}
    remote {{
      auth = psk
      id = {rid}
    }}
    children {{
      net {{
        local_ts = {lts}
        remote_ts = {rts}
        esp_proposals = {esp}
      }}
    }}
  }}
}}
secrets {{
  ike-1 {{
    id-1 = moon
    id-2 = sun
    secret = "{psk}"
  }}
}}
"""


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


class Lab:
    """Two namespaces on a veth: charon in A (192.0.2.1, 10.1.0.1 on lo), netplex's IKE in B (192.0.2.2)."""

    def __init__(self, d: Path, nat: str = "", charon_extra: str = "") -> None:
        """`nat`: a router namespace between A (192.168.1.2) and B (192.0.2.2) that masquerades what
        leaves towards B ("charon" is behind it) or towards A ("netplex" is)."""
        tag = secrets.token_hex(3)
        # a run's state file, so that `netplex clean` removes the namespaces (and charon in them) if we die
        self.run = state.RunState(state.new_prefix())
        self.a, self.b, self.d = f"{self.run.prefix}-ikea", f"{self.run.prefix}-ikeb", d
        self.r = f"{self.run.prefix}-iker"
        self.run.add_namespaces([self.a, self.b] + ([self.r] if nat else []))
        self.charon: subprocess.Popen[str] | None = None
        self.nat = nat
        for ns in [self.a, self.b] + ([self.r] if nat else []):
            _run("ip", "netns", "add", ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        if not nat:
            self.veth(f"npxi{tag}a", self.a, "192.0.2.1/24", f"npxi{tag}b", self.b, "192.0.2.2/24")
        else:
            self.veth(f"npxi{tag}a", self.a, "192.168.1.2/24", f"npxi{tag}ra", self.r, "192.168.1.1/24")
            self.veth(f"npxi{tag}rb", self.r, "192.0.2.254/24", f"npxi{tag}b", self.b, "192.0.2.2/24")
            _run("ip", "-n", self.a, "route", "add", "default", "via", "192.168.1.1")
            _run("ip", "-n", self.b, "route", "add", "default", "via", "192.0.2.254")
            _run("ip", "netns", "exec", self.r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            out = f"npxi{tag}rb" if nat == "charon" else f"npxi{tag}ra"
            _run("ip", "netns", "exec", self.r, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", out, "-j",
                 "MASQUERADE")
        _run("ip", "-n", self.a, "addr", "add", "10.1.0.1/32", "dev", "lo")
        (d / "strongswan.conf").write_text(STRONGSWAN_CONF.format(d=d, extra=charon_extra))
        env = dict(os.environ, STRONGSWAN_CONF=str(d / "strongswan.conf"))
        # a private /run: charon's pid file and nothing else of the host's
        self.charon = subprocess.Popen(
            ["ip", "netns", "exec", self.a, "unshare", "-m", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs none /run && exec {CHARON}"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True)
        for _ in range(100):
            if (d / "charon.vici").exists():
                break
            time.sleep(0.05)

    @staticmethod
    def veth(a: str, ns_a: str, addr_a: str, b: str, ns_b: str, addr_b: str) -> None:
        _run("ip", "link", "add", a, "netns", ns_a, "type", "veth", "peer", "name", b, "netns", ns_b)
        for ns, dev, addr in ((ns_a, a, addr_a), (ns_b, b, addr_b)):
            _run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            _run("ip", "-n", ns, "link", "set", dev, "up")

    def swanctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run("swanctl", *args, "--uri", f"unix://{self.d}/charon.vici", check=False)

    def load(self, ike: str, esp: str, psk: str = "interop-secret") -> None:
        conf = CONN.format(local="192.0.2.1", remote="192.0.2.2", ike=ike, esp=esp, lid="moon", rid="sun",
                           lts="10.1.0.0/24", rts="10.2.0.0/24", psk=psk, extra="    encap = yes\n")
        (self.d / "swanctl.conf").write_text(conf)
        r = self.swanctl("--load-all", "--file", str(self.d / "swanctl.conf"))
        assert r.returncode == 0, r.stdout + r.stderr

    def peer(self, ike: str, esp: str, initiate: bool, seconds: float, until_esp: int,
             extra: tuple[str, ...] = ()) -> subprocess.Popen[str]:
        conf = CONN.format(local="192.0.2.2", remote="192.0.2.1", ike=ike, esp=esp, lid="sun", rid="moon",
                           lts="10.2.0.0/24", rts="10.1.0.0/24", psk="interop-secret", extra="")
        (self.d / "np.conf").write_text(conf)
        args = ["ip", "netns", "exec", self.b, sys.executable, "-m", "netplex.twin.ike_peer", "--conf",
                str(self.d / "np.conf"), "--conn", "np", "--local", "192.0.2.2", "--remote", "192.0.2.1",
                "--seconds", str(seconds), "--until-esp", str(until_esp), *extra]
        if initiate:
            args += ["--initiate", "net"]
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))

    def ping(self, count: int) -> str:
        return _run("ip", "netns", "exec", self.a, "ping", "-c", str(count), "-W", "1", "-i", "0.2", "-I",
                    "10.1.0.1", "10.2.0.1", check=False).stdout

    def close(self) -> None:
        if self.charon is not None:
            self.charon.terminate()
            try:
                self.charon.wait(5)
            except subprocess.TimeoutExpired:
                self.charon.kill()
                self.charon.wait(5)
        teardown([self.a, self.b] + ([self.r] if self.nat else []))
        self.run.remove()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    for need, pkg in ((CHARON, "strongswan-charon"), (LIBIPSEC, "libcharon-extra-plugins")):
        if not os.path.exists(need):
            pytest.skip(f"no {need} on this machine (apt-get install {pkg})")
    if not os.path.exists("/usr/sbin/swanctl"):
        pytest.skip("no `swanctl` on this machine (apt-get install strongswan-swanctl)")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("no /dev/net/tun: charon's kernel-libipsec needs a TUN device")
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()


def _bring_up(lab: Lab, initiator: str) -> str:
    """charon initiates (`swanctl --initiate`), or netplex does and this waits for charon's CHILD SA;
    the SAs `swanctl --list-sas` lists then."""
    if initiator == "charon":
        time.sleep(0.5)
        r = lab.swanctl("--initiate", "--child", "net")
        assert "initiate completed successfully" in r.stdout, r.stdout
    else:
        for _ in range(60):
            if "INSTALLED" in lab.swanctl("--list-sas").stdout:
                break
            time.sleep(0.1)
    return lab.swanctl("--list-sas").stdout


def _report(p: subprocess.Popen[str]) -> dict:
    out, err = p.communicate(timeout=40)
    assert p.returncode == 0, err
    return json.loads(out)


CASES = [
    ("aes128-sha256-x25519", "aes128gcm16", "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519",
     "ESP:AES_GCM_16-128"),
    ("aes256-sha384-ecp256", "aes256-sha256", "AES_CBC-256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/ECP_256",
     "ESP:AES_CBC-256/HMAC_SHA2_256_128"),
    ("aes128gcm16-prfsha256-modp2048", "chacha20poly1305", "AES_GCM_16-128/PRF_HMAC_SHA2_256/MODP_2048",
     "ESP:CHACHA20_POLY1305\n"),
]


@pytest.mark.parametrize("initiator", ["charon", "netplex"])
@pytest.mark.parametrize("ike,esp,ike_text,esp_text", CASES, ids=[c[1] for c in CASES])
def test_ike_and_esp_with_charon(lab: Lab, initiator: str, ike: str, esp: str, ike_text: str,
                                 esp_text: str) -> None:
    if initiator == "netplex" and ike.startswith("aes128gcm16"):
        pytest.skip("one AEAD IKE case each way is enough: charon initiates it")
    lab.load(ike, esp)
    peer = lab.peer(ike, esp, initiate=initiator == "netplex", seconds=12, until_esp=3)
    sas = _bring_up(lab, initiator)
    ping = lab.ping(3)
    rep = _report(peer)
    assert "3 received" in ping, ping + sas
    assert rep["state"] == "ESTABLISHED" and rep["natd"] and rep["esp_bad"] == 0
    assert rep["esp_in"] == 3 and rep["esp_out"] == 3
    child = rep["children"][0]
    # the same IKE SA and CHILD SA on both sides
    assert f"{rep['spii']}_i" in sas and f"{rep['spir']}_r" in sas, sas
    assert ike_text in sas and esp_text in sas, sas
    assert rep["ike_proposal"] == ike_text and "ESP:" + child["proposal"] in esp_text
    assert f"in  {child['spi_out']}" in sas and f"out {child['spi_in']}" in sas, sas
    assert "10.1.0.0/24" in sas and child["ts_local"] == ["10.2.0.0-10.2.0.255"]


def test_wrong_psk_fails_authentication(lab: Lab) -> None:
    lab.load("aes128-sha256-x25519", "aes128gcm16", psk="not-the-secret")
    peer = lab.peer("aes128-sha256-x25519", "aes128gcm16", initiate=False, seconds=4, until_esp=0)
    time.sleep(0.5)
    r = lab.swanctl("--initiate", "--child", "net")
    rep = _report(peer)
    assert r.returncode != 0
    assert "received AUTHENTICATION_FAILED notify error" in r.stdout, r.stdout
    assert rep["events"] == ["auth_failed"] and rep["children"] == []
    assert "INSTALLED" not in lab.swanctl("--list-sas").stdout


def test_charon_rekeys_the_child_sa_with_netplex(lab: Lab) -> None:
    lab.load("aes128-sha256-x25519", "aes128gcm16-x25519")
    peer = lab.peer("aes128-sha256-x25519", "aes128gcm16-x25519", initiate=False, seconds=10, until_esp=4)
    time.sleep(0.5)
    assert "completed successfully" in lab.swanctl("--initiate", "--child", "net").stdout
    assert "1 received" in lab.ping(1)
    before = lab.swanctl("--list-sas").stdout
    r = lab.swanctl("--rekey", "--child", "net")
    assert r.returncode == 0, r.stdout + r.stderr
    for _ in range(40):
        after = lab.swanctl("--list-sas").stdout
        if "net: #2" in after and "net: #1" not in after:
            break
        time.sleep(0.1)
    assert "3 received" in lab.ping(3), after
    rep = _report(peer)
    assert rep["events"][:3] == ["ike_up", "child_up", "child_rekeyed"] and "child_down" in rep["events"]
    child = rep["children"][-1]
    assert f"in  {child['spi_out']}" in after and f"in  {child['spi_out']}" not in before


# ---- certificates (made with strongSwan's own `pki`) ---------------------------------------------

CERT_CONN = """connections {{
  np {{
    local_addrs = {local}
    remote_addrs = {remote}
    proposals = aes128-sha256-x25519
{extra}    local {{
      auth = {auth}
      certs = {me}Cert.pem
      id = {me}.strongswan.org
    }}
    remote {{
      auth = {rauth}
      id = {peer}.strongswan.org
    }}
    children {{
      net {{
        local_ts = {lts}
        remote_ts = {rts}
        esp_proposals = aes128gcm16
      }}
    }}
  }}
}}
"""


def _pki(*args: str, stdin: bytes = b"") -> bytes:
    r = subprocess.run(["pki", *args], input=stdin, capture_output=True, timeout=30, check=True)
    return r.stdout


def _make_creds(base: Path, me: str, kind: str, ca_key: bytes, ca_cert: bytes) -> None:
    """base/x509/<me>Cert.pem issued by the CA, base/private/<me>Key.pem, base/x509ca/caCert.pem."""
    for sub in ("x509", "x509ca", "private"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    size = "2048" if kind == "rsa" else "384"
    key = _pki("--gen", "--type", kind, "--size", size, "--outform", "pem")
    (base / "private" / f"{me}Key.pem").write_bytes(key)
    (base / "x509ca" / "caCert.pem").write_bytes(ca_cert)
    (base / "caKey.pem").write_bytes(ca_key)
    pub = _pki("--pub", "--in", str(base / "private" / f"{me}Key.pem"))
    cert = _pki("--issue", "--cacert", str(base / "x509ca" / "caCert.pem"), "--cakey", str(base / "caKey.pem"),
                "--dn", f"C=CH, O=strongSwan, CN={me}.strongswan.org", "--san", f"{me}.strongswan.org",
                "--outform", "pem", stdin=pub)
    (base / "caKey.pem").unlink()
    (base / "x509" / f"{me}Cert.pem").write_bytes(cert)


def _ca(d: Path, cn: str) -> tuple[bytes, bytes]:
    key = _pki("--gen", "--type", "ecdsa", "--size", "256", "--outform", "pem")
    (d / f"{cn}.key").write_bytes(key)
    cert = _pki("--self", "--ca", "--in", str(d / f"{cn}.key"), "--dn", f"C=CH, O=strongSwan, CN={cn}",
                "--outform", "pem")
    return key, cert


def _cert_lab(lab: Lab, kind: str, rogue: bool = False, auth: str = "pubkey", rauth: str = "pubkey") -> None:
    """charon (moon) and netplex (sun) each with a certificate of `kind` from one CA (or, rogue, sun's
    from a CA charon does not trust)."""
    if not os.path.exists("/usr/bin/pki"):
        pytest.skip("no `pki` on this machine (apt-get install strongswan-pki)")
    ca = _ca(lab.d, "Root CA")
    _make_creds(lab.d, "moon", kind, *ca)
    _make_creds(lab.d / "np", "sun", kind, *(_ca(lab.d, "Rogue CA") if rogue else ca))
    if rogue:
        (lab.d / "np" / "x509ca" / "caCert.pem").write_bytes(ca[1])   # sun trusts charon's CA
    (lab.d / "swanctl.conf").write_text(CERT_CONN.format(
        local="192.0.2.1", remote="192.0.2.2", me="moon", peer="sun", lts="10.1.0.0/24", rts="10.2.0.0/24",
        extra="    encap = yes\n", auth=auth, rauth=rauth))
    r = lab.swanctl("--load-all", "--file", str(lab.d / "swanctl.conf"))
    assert r.returncode == 0 and "loaded certificate from" in r.stdout, r.stdout + r.stderr
    (lab.d / "np" / "swanctl.conf").write_text(CERT_CONN.format(
        local="192.0.2.2", remote="192.0.2.1", me="sun", peer="moon", lts="10.2.0.0/24", rts="10.1.0.0/24",
        extra="", auth=auth, rauth=rauth))


def _cert_peer(lab: Lab, initiate: bool, seconds: float, until_esp: int) -> subprocess.Popen[str]:
    args = ["ip", "netns", "exec", lab.b, sys.executable, "-m", "netplex.twin.ike_peer", "--conf",
            str(lab.d / "np" / "swanctl.conf"), "--creds", str(lab.d / "np"), "--conn", "np", "--local",
            "192.0.2.2", "--remote", "192.0.2.1", "--seconds", str(seconds), "--until-esp", str(until_esp)]
    if initiate:
        args += ["--initiate", "net"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.mark.parametrize("initiator,kind", [("charon", "rsa"), ("netplex", "ecdsa")])
def test_certificates_with_charon(lab: Lab, initiator: str, kind: str) -> None:
    _cert_lab(lab, kind)
    peer = _cert_peer(lab, initiate=initiator == "netplex", seconds=12, until_esp=3)
    sas = _bring_up(lab, initiator)
    ping = lab.ping(3)
    rep = _report(peer)
    assert "3 received" in ping, ping + sas
    assert rep["state"] == "ESTABLISHED" and rep["esp_in"] == 3 and rep["esp_out"] == 3, rep
    # each side proved its identity with its certificate's key and the other believed it
    assert rep["remote_id"] == "moon.strongswan.org"
    assert "remote 'sun.strongswan.org' @ 192.0.2.2[4500]" in sas, sas
    log = (lab.d / "charon.log").read_text()
    assert "authentication of 'sun.strongswan.org' with " + ("RSA_EMSA_PKCS1_SHA2_256" if kind == "rsa"
                                                            else "ECDSA_WITH_SHA384_DER") + " successful" in log, log


@pytest.mark.parametrize("initiator", ["charon", "netplex"])
def test_rsa_pss_with_charon(lab: Lab, initiator: str) -> None:
    """Both sides sign RSASSA-PSS (RFC 7427, `auth = rsa/pss-sha256`) and demand it of the other
    (`remote.auth = rsa/pss`): each verifies the other's PSS signature."""
    _cert_lab(lab, "rsa", auth="rsa/pss-sha256", rauth="rsa/pss")
    peer = _cert_peer(lab, initiate=initiator == "netplex", seconds=12, until_esp=3)
    sas = _bring_up(lab, initiator)
    ping = lab.ping(3)
    rep = _report(peer)
    log = _charon_log(lab)
    assert "3 received" in ping, ping + sas + log
    assert rep["state"] == "ESTABLISHED" and rep["remote_id"] == "moon.strongswan.org", rep
    assert "authentication of 'sun.strongswan.org' with RSA_EMSA_PSS_SHA2_256_SALT_32 successful" in log, log
    assert "authentication of 'moon.strongswan.org' (myself) with RSA_EMSA_PSS_SHA2_256_SALT_32 successful" in log, log


def test_netplex_refuses_pss_under_pubkey_without_rsa_pss(lab: Lab) -> None:
    """charon signs RSASSA-PSS; netplex's `remote.auth = pubkey` without charon.rsa_pss takes only PKCS#1
    (swanctl.conf(5)): netplex does not believe charon and installs nothing."""
    _cert_lab(lab, "rsa", auth="rsa/pss-sha256", rauth="pubkey")
    conf = (lab.d / "np" / "swanctl.conf").read_text()
    (lab.d / "np" / "swanctl.conf").write_text(conf.replace("auth = rsa/pss-sha256", "auth = pubkey"))
    peer = _cert_peer(lab, initiate=True, seconds=4, until_esp=0)
    rep = _report(peer)
    log = _charon_log(lab)
    assert "authentication of 'sun.strongswan.org' with RSA_EMSA_PKCS1_SHA2_256 successful" in log, log
    assert "authentication of 'moon.strongswan.org' (myself) with RSA_EMSA_PSS_SHA2_256_SALT_32" in log, log
    assert rep["state"] != "ESTABLISHED" and rep["children"] == [], rep
    assert rep["auth_failed"] == ["no trusted ANY public key found for 'moon.strongswan.org'"], rep


def test_a_certificate_charon_does_not_trust(lab: Lab) -> None:
    _cert_lab(lab, "ecdsa", rogue=True)
    peer = _cert_peer(lab, initiate=False, seconds=4, until_esp=0)
    time.sleep(0.5)
    r = lab.swanctl("--initiate", "--child", "net")
    rep = _report(peer)
    assert r.returncode != 0 and "INSTALLED" not in lab.swanctl("--list-sas").stdout
    # netplex believed charon and answered; charon did not believe netplex and said so (RFC 7296 §2.21.2)
    assert rep["auth_failed"] == ["received AUTHENTICATION_FAILED notify error"] and rep["children"] == []
    assert "no trusted ECDSA public key found for 'sun.strongswan.org'" in (lab.d / "charon.log").read_text()


# ---- NAT traversal through a real NAT (iptables MASQUERADE in a router namespace) -----------------

@pytest.fixture(params=["charon", "netplex"])
def nat_lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lab]:
    for need, pkg in ((CHARON, "strongswan-charon"), (LIBIPSEC, "libcharon-extra-plugins")):
        if not os.path.exists(need):
            pytest.skip(f"no {need} on this machine (apt-get install {pkg})")
    if not os.path.exists("/usr/sbin/swanctl") or not os.path.exists("/dev/net/tun"):
        pytest.skip("no swanctl or /dev/net/tun on this machine (apt-get install strongswan-swanctl)")
    lab = Lab(tmp_path, nat=request.param)
    try:
        yield lab
    finally:
        lab.close()


def test_nat_traversal_with_charon(nat_lab: Lab) -> None:
    """No `encap = yes`: each side finds the NAT from the other's NAT_DETECTION hashes. Whoever is behind
    the router initiates (nobody can reach it from outside)."""
    lab = nat_lab
    behind = lab.nat
    conf = CONN.format(local="192.168.1.2", remote="192.0.2.2" if behind == "charon" else "%any",
                       ike="aes256-sha256-ecp256", esp="aes256gcm16", lid="moon", rid="sun", lts="10.1.0.0/24",
                       rts="10.2.0.0/24", psk="interop-secret", extra="")
    (lab.d / "swanctl.conf").write_text(conf)
    assert lab.swanctl("--load-all", "--file", str(lab.d / "swanctl.conf")).returncode == 0
    np_conf = CONN.format(local="192.0.2.2", remote="192.168.1.2", ike="aes256-sha256-ecp256", esp="aes256gcm16",
                          lid="sun", rid="moon", lts="10.2.0.0/24", rts="10.1.0.0/24", psk="interop-secret",
                          extra="")
    (lab.d / "np.conf").write_text(np_conf)
    args = ["ip", "netns", "exec", lab.b, sys.executable, "-m", "netplex.twin.ike_peer", "--conf",
            str(lab.d / "np.conf"), "--conn", "np", "--local", "192.0.2.2", "--remote", "192.168.1.2",
            "--seconds", "12", "--until-esp", "3"] + (["--initiate", "net"] if behind == "netplex" else [])
    peer = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if behind == "charon":
        time.sleep(0.5)
        r = lab.swanctl("--initiate", "--child", "net")
        assert "initiate completed successfully" in r.stdout, r.stdout
    else:
        for _ in range(60):
            if "INSTALLED" in lab.swanctl("--list-sas").stdout:
                break
            time.sleep(0.1)
    sas = lab.swanctl("--list-sas").stdout
    ping = lab.ping(3)
    conntrack = _run("ip", "netns", "exec", lab.r, "conntrack", "-L", "-p", "udp", check=False).stdout
    rep = _report(peer)
    assert "3 received" in ping, ping + sas
    assert rep["state"] == "ESTABLISHED" and rep["natd"] and rep["esp_in"] == 3 and rep["esp_out"] == 3, rep
    log = (lab.d / "charon.log").read_text()
    if behind == "charon":
        # netplex sees the router's address and found the NAT from charon's hashes; charon knows it is behind
        assert rep["remote"].startswith("192.0.2.254[") and not rep["nat_here"], rep
        assert "local host is behind NAT, sending keep alives" in log, log
        assert "remote 'sun' @ 192.0.2.2[4500]" in sas, sas
    else:
        assert rep["nat_here"] and rep["remote"] == "192.168.1.2[4500]", rep
        assert "remote host is behind NAT" in log, log
        assert "remote 'sun' @ 192.168.1.1[4500]" in sas, sas
    assert "TUNNEL-in-UDP" in sas, sas
    # the router carried IKE and ESP as UDP 4500, rewritten
    assert "dport=4500" in conntrack and ("src=192.168.1.2" in conntrack or "src=192.0.2.2" in conntrack), conntrack


# ---- rekeying the IKE SA (CREATE_CHILD_SA with an IKE proposal, RFC 7296 1.3.2 and 2.18) ----------

def _ike_line(sas: str) -> str:
    return next(line for line in sas.splitlines() if line.startswith("np: #"))


@pytest.mark.parametrize("rekeyer", ["charon", "netplex"])
def test_ike_sa_rekey_with_charon(lab: Lab, rekeyer: str) -> None:
    lab.load("aes128-sha256-x25519", "aes128gcm16-x25519")
    # netplex rekeys 2.5 s after its IKE SA is up: time for the listing and a ping first on a loaded machine
    extra = ("--rekey-ike-after", "2.5") if rekeyer == "netplex" else ()
    peer = lab.peer("aes128-sha256-x25519", "aes128gcm16-x25519", initiate=False, seconds=11, until_esp=6,
                    extra=extra)
    time.sleep(0.5)
    assert "completed successfully" in lab.swanctl("--initiate", "--child", "net").stdout
    before = _ike_line(lab.swanctl("--list-sas").stdout)
    assert "2 received" in lab.ping(2)
    if rekeyer == "charon":
        r = lab.swanctl("--rekey", "--ike", "np")
        assert r.returncode == 0, r.stdout + r.stderr
    for _ in range(40):
        after = lab.swanctl("--list-sas").stdout
        if "np: #2, ESTABLISHED" in after and "np: #1," not in after:
            break
        time.sleep(0.1)
    # the CHILD SA moved to the new IKE SA; a CHILD SA rekey over it uses the new SK_d and SK_e/SK_a
    assert "3 received" in lab.ping(3), after
    r = lab.swanctl("--rekey", "--child", "net")
    assert r.returncode == 0, r.stdout + r.stderr
    time.sleep(0.3)
    ping = lab.ping(1)
    rep = _report(peer)
    assert "1 received" in ping, ping
    assert "ike_rekeyed" in rep["events"] and rep["state"] == "ESTABLISHED", rep
    head = _ike_line(after)
    assert head != before and f"{rep['spii']}_i" in head and f"{rep['spir']}_r" in head, (head, rep)
    # whoever asked is the new IKE SA's initiator (charon marks its own side with *)
    assert (f"{rep['spii']}_i*" in head) == (rekeyer == "charon"), head
    assert rep["ike_sas"][0].endswith(":DESTROYED") and "child_rekeyed" in rep["events"]


# ---- cookies (RFC 7296 §2.6) ---------------------------------------------------------------------

@pytest.fixture
def cookie_lab(tmp_path: Path) -> Iterator[Lab]:
    """charon asks for cookies as soon as one IKE SA from an address is half open (net logging at 2)."""
    for need, pkg in ((CHARON, "strongswan-charon"), (LIBIPSEC, "libcharon-extra-plugins")):
        if not os.path.exists(need):
            pytest.skip(f"no {need} on this machine (apt-get install {pkg})")
    if not os.path.exists("/usr/sbin/swanctl") or not os.path.exists("/dev/net/tun"):
        pytest.skip("no swanctl or /dev/net/tun on this machine (apt-get install strongswan-swanctl)")
    lab = Lab(tmp_path, charon_extra="  cookie_threshold_ip = 1\n")
    try:
        yield lab
    finally:
        lab.close()


def _charon_log(lab: Lab) -> str:
    return (lab.d / "charon.log").read_text(errors="replace")


def _cookie_run(lab: Lab, initiator: str, flag: str) -> tuple[dict, str, str]:
    """Up with netplex's `flag`, ping 3/3 through the tunnel: netplex's report, charon's SAs and log."""
    lab.load("aes128-sha256-x25519", "aes128gcm16")
    peer = lab.peer("aes128-sha256-x25519", "aes128gcm16", initiate=initiator == "netplex", seconds=10,
                    until_esp=3, extra=(flag,))
    sas = _bring_up(lab, initiator)
    ping = lab.ping(3)
    rep = _report(peer)
    log = _charon_log(lab)
    assert "3 received" in ping, ping + sas + log
    return rep, sas, log


def test_charon_asks_netplex_for_a_cookie(cookie_lab: Lab) -> None:
    """netplex leaves one IKE SA half open at charon, then initiates: charon answers N(COOKIE) and
    netplex's second IKE_SA_INIT, the cookie first, gets the IKE SA (whose AUTH covers that request)."""
    rep, sas, log = _cookie_run(cookie_lab, "netplex", "--half-open-first")
    assert rep["events"][:3] == ["cookie", "ike_up", "child_up"], rep["events"]
    assert "parsed IKE_SA_INIT request 0 [ N(COOKIE) SA KE No N(NATD_S_IP) N(NATD_D_IP)" in log, log
    assert f"{rep['spii']}_i" in sas and rep["esp_in"] == 3


def test_netplex_asks_charon_for_a_cookie(lab: Lab) -> None:
    """netplex as a responder under load: charon's first IKE_SA_INIT gets N(COOKIE) and nothing else;
    charon sends it again with the cookie first and the SA comes up."""
    rep, _sas, log = _cookie_run(lab, "charon", "--require-cookie")
    assert rep["cookies_sent"] == 1 and rep["state"] == "ESTABLISHED"
    assert "parsed IKE_SA_INIT response 0 [ N(COOKIE) ]" in log, log
