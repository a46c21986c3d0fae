"""`nc` (netcat-openbsd) as a user types it, against the scenario's probe services and
against `nc -l` started as a background process."""
from __future__ import annotations

import pytest

from tests.conftest import run_ok


@pytest.fixture
def server(sim_pair):
    be, h, s = sim_pair
    be.start_services("s", [("tcp", 80), ("udp", 53)])
    return h, s


def test_client_talks_to_the_probe_services(server):
    h, _ = server
    out = run_ok(h, "echo hello | nc 10.0.0.2 80")
    assert out.startswith("peer 10.0.0.1:")
    out = run_ok(h, "echo hello | nc -u -w 1 10.0.0.2 53")
    assert out.startswith("peer 10.0.0.1:")


def test_port_check(server):
    h, _ = server
    r = h.run("nc -z -v 10.0.0.2 80")
    assert r.status == 0 and r.error == "Connection to 10.0.0.2 80 port [tcp/http] succeeded!\n"
    r = h.run("nc -zv 10.0.0.2 81")
    assert r.status == 1 and r.error == "nc: connect to 10.0.0.2 port 81 (tcp) failed: Connection refused\n"
    r = h.run("nc -zuv 10.0.0.2 53")
    assert r.status == 0 and r.error == "Connection to 10.0.0.2 53 port [udp/domain] succeeded!\n"
    # a closed UDP port answers with port unreachable: status 1 and nothing said (as on the twin)
    r = h.run("nc -w 1 -zv 10.0.0.9 80")
    assert (r.status, r.error) == (1, "nc: connect to 10.0.0.9 port 80 (tcp) timed out: Operation now in progress\n")
    r = h.run("nc -zuv 10.0.0.2 54")
    assert (r.status, r.output, r.error) == (1, "", "")


def test_a_failed_connect_is_quiet_without_v(server):
    """netcat-openbsd warns about a failed connect only under -v (checked on Debian 12's nc)."""
    h, _ = server
    for line in ("nc -z 10.0.0.2 81", "nc -w 1 10.0.0.2 81", "nc -w 1 -z 10.0.0.9 80",
                 "echo hi | nc -w 1 10.0.0.9 80"):
        r = h.run(line)
        assert (r.status, r.output, r.error) == (1, "", ""), line
    r = h.run("nc -v 10.0.0.2 81")
    assert (r.status, r.error) == (1, "nc: connect to 10.0.0.2 port 81 (tcp) failed: Connection refused\n")


def test_listener_is_a_process(server):
    h, s = server
    run_ok(s, "echo banner | nc -l -p 2222 &")
    assert "nc -l -p 2222" in run_ok(s, "ps -ef")
    assert run_ok(h, "echo hi | nc 10.0.0.2 2222") == "banner\n"
    # the client stopped after 60 simulated seconds (no -q: both ends would wait for ever)
    # and closed; the listener served its one connection and ended
    assert s.run("sleep 1; pidof nc").output == ""
    r = s.run("nc -l 2223 & kill $!")
    assert r.status == 0


def test_refusals(server):
    h, _ = server
    r = h.run("nc -x proxy:1080 10.0.0.2 80")
    assert r.status == 2 and "nc -x is not supported" in r.error
    r = h.run("nc -Y 10.0.0.2 80")
    assert r.status == 1 and r.error.startswith("nc: invalid option -- 'Y'\nusage: nc")
