"""netplex's BGP messages against the real bgpd (FRR 8.4.4): a peer built on netplex.packet.bgp
opens a session to bgpd over a veth pair between two namespaces made for the test, learns
bgpd's route and gives it one, which bgpd must accept and show in `show ip bgp`.

bgpd runs alone (-Z: no zebra, -S: no user switch), its pid file, vty socket, log and
configuration in a temporary folder, its namespaces under a unique `npbgp<pid>-` prefix; the
test kills it and deletes them, whatever happens.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netplex.packet import bgp
from tests.frr.test_bgp_sim import FRR_ANSWERS

ROOT = Path(__file__).resolve().parents[2]
BGPD = "/usr/lib/frr/bgpd"

CONF = """frr defaults traditional
router bgp 65001
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 10.0.0.2 remote-as 65002
 address-family ipv4 unicast
  network 192.0.2.0/24
 exit-address-family
"""

# The netplex side, run in the second namespace: OPEN, KEEPALIVE, learn, announce, report.
PEER = textwrap.dedent("""
    import json, socket, sys, time
    from netplex.packet import bgp
    from netplex.packet.bgp import Attributes, Open, Update
    s = socket.create_connection(("10.0.0.1", 179), timeout=10)
    s.sendall(bgp.encode_open(Open(asn=65002, hold_time=9, router_id=0x0A000002, hostname="np")))
    buf, seen, learned, deadline = bytearray(), [], {}, time.monotonic() + 10
    sent_update = False
    while time.monotonic() < deadline and not (sent_update and learned):
        data = s.recv(65535)
        if not data:
            break
        buf += data
        for mtype, body in bgp.split_messages(buf):
            msg = bgp.decode(mtype, body)
            seen.append(mtype)
            if mtype == bgp.OPEN:
                seen_open = {"asn": msg.asn, "as4": msg.as4, "hold": msg.hold_time, "id": msg.router_id}
                s.sendall(bgp.encode_keepalive())
            elif mtype == bgp.KEEPALIVE and not sent_update:
                a = Attributes(origin=bgp.ORIGIN_IGP, as_path=((bgp.AS_SEQUENCE, (65002,)),),
                               next_hop=0x0A000002)
                s.sendall(bgp.encode_update(Update(attrs=a, nlri=[(0xC6336400, 24)])))
                sent_update = True
            elif mtype == bgp.UPDATE and msg.nlri:
                for p, n in msg.nlri:
                    learned[f"{p >> 24}.{p >> 16 & 255}.{p >> 8 & 255}.{p & 255}/{n}"] = {
                        "as_path": [list(seg) for _, seg in msg.attrs.as_path], "next_hop": msg.attrs.next_hop,
                        "origin": msg.attrs.origin}
    print(json.dumps({"open": seen_open, "types": seen, "learned": learned}))
    sys.stdout.flush()
    time.sleep(float(sys.argv[1]))       # keep the session while the test asks bgpd
    s.sendall(bgp.encode_notification(bgp.ERR_CEASE, bgp.CEASE_ADMIN_SHUTDOWN))
    s.close()
""")


def _sh(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=30)


@pytest.fixture
def lab() -> Iterator[tuple[str, str, Path]]:
    if os.geteuid() != 0:
        pytest.skip("the real bgpd needs root (network namespaces)")
    if not Path(BGPD).exists() or shutil.which("vtysh") is None:
        pytest.skip("no FRR on this machine (apt-get install frr)")
    prefix = f"npbgp{os.getpid()}-"
    a, b = prefix + "frr", prefix + "np"
    tmp = Path(tempfile.mkdtemp(prefix="netplex-bgp-"))
    made: list[str] = []
    try:
        for ns in (a, b):
            _sh("ip", "netns", "add", ns)
            made.append(ns)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        _sh("ip", "-n", a, "link", "add", "e0", "type", "veth", "peer", "name", "e0", "netns", b)
        _sh("ip", "-n", a, "addr", "add", "10.0.0.1/30", "dev", "e0")
        _sh("ip", "-n", b, "addr", "add", "10.0.0.2/30", "dev", "e0")
        _sh("ip", "-n", a, "link", "set", "e0", "up")
        _sh("ip", "-n", b, "link", "set", "e0", "up")
        (tmp / "bgpd.conf").write_text(CONF)
        _sh("ip", "netns", "exec", a, BGPD, "-d", "-Z", "-S", "-f", str(tmp / "bgpd.conf"), "-i",
            str(tmp / "bgpd.pid"), "--vty_socket", str(tmp), "-P", "0", "--log", f"file:{tmp}/bgpd.log")
        yield a, b, tmp
    finally:
        pid_file = tmp / "bgpd.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.linux
def test_real_bgpd_and_netplexs_messages_exchange_routes(lab: tuple[str, str, Path]) -> None:
    a, b, tmp = lab
    peer = subprocess.Popen(["ip", "netns", "exec", b, sys.executable, "-c", PEER, "3"], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert peer.stdout is not None
        report = json.loads(peer.stdout.readline())
        assert report["open"] == {"asn": 65001, "as4": True, "hold": 180, "id": 0x0A000001}
        assert report["types"][:2] == [bgp.OPEN, bgp.KEEPALIVE]
        assert report["learned"]["192.0.2.0/24"] == {"as_path": [[65001]], "next_hop": 0x0A000001,
                                                     "origin": bgp.ORIGIN_IGP}
        table = ""
        for _ in range(20):      # bgpd's best-path run follows our UPDATE by a moment
            table = _sh("ip", "netns", "exec", a, "vtysh", "--vty_socket", str(tmp), "-c", "show ip bgp").stdout
            if "198.51.100.0/24" in table:
                break
            time.sleep(0.1)
        assert "*> 198.51.100.0/24  10.0.0.2                               0 65002 i" in table
        summary = _sh("ip", "netns", "exec", a, "vtysh", "--vty_socket", str(tmp), "-c", "show ip bgp summary").stdout
        row = next(line for line in summary.splitlines() if line.startswith("10.0.0.2"))
        # Established; bgpd sends our prefix back to us too (no sender split horizon), as netplex does
        assert row.split()[-3:] == ["1", "2", "N/A"]
    finally:
        peer.wait(timeout=20)
        if peer.stdout is not None:
            peer.stdout.close()
    assert peer.returncode == 0


@pytest.mark.linux
def test_real_vtysh_answers_bad_lines_as_the_simulator_does(lab: tuple[str, str, Path]) -> None:
    a, _b, tmp = lab
    for lines, answer in FRR_ANSWERS:
        argv = [x for line in lines for x in ("-c", line)]
        r = subprocess.run(["ip", "netns", "exec", a, "vtysh", "--vty_socket", str(tmp), *argv],
                           capture_output=True, text=True, timeout=30)
        assert (r.returncode, r.stdout + r.stderr) == (1, answer), lines
