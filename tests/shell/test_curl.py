"""`curl` (7.88.1) as a user types it against the scenario's probe services and an HTTP answer
from `nc -l`; the same lines agree with the real curl on the twin (corpus curl-probe-services)."""
from __future__ import annotations

import pytest

from tests.conftest import run_ok


@pytest.fixture
def server(sim_pair):
    be, h, s = sim_pair
    be.start_services("s", [("tcp", 80)])
    return h, s


def test_probe_service_is_http_0_9(server):
    h, _ = server
    r = h.run("curl -s -o /dev/null -w '%{http_code} %{exitcode} %{remote_ip}:%{remote_port}\\n' http://10.0.0.2/")
    assert (r.status, r.output, r.error) == (1, "000 1 10.0.0.2:80\n", "")
    r = h.run("curl -sS http://10.0.0.2/")
    assert (r.status, r.error) == (1, "curl: (1) Received HTTP/0.9 when not allowed\n")
    r = h.run("curl -s --http0.9 http://10.0.0.2/")
    assert r.status == 0 and r.output.startswith("peer 10.0.0.1:")


def test_verbose_request(server):
    h, _ = server
    r = h.run("curl -sv -I http://10.0.0.2/x?y=1")
    assert r.error.startswith("*   Trying 10.0.0.2:80...\n* Connected to 10.0.0.2 (10.0.0.2) port 80 (#0)\n"
                              "> HEAD /x?y=1 HTTP/1.1\r\n> Host: 10.0.0.2\r\n> User-Agent: curl/7.88.1\r\n"
                              "> Accept: */*\r\n> \r\n")


def test_http_answer_and_failures(server):
    h, s = server
    run_ok(s, "printf 'HTTP/1.1 201 Created\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n' | nc -l 8080 &")
    r = h.run("curl -s -i -w '%{http_code}' http://10.0.0.2:8080/")
    assert (r.status, r.output) == (0, "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nok\n201")
    r = h.run("curl -sS http://10.0.0.2:81/")
    assert r.status == 7 and r.error == ("curl: (7) Failed to connect to 10.0.0.2 port 81 after 0 ms: "
                                         "Couldn't connect to server\n")
    assert h.run("curl -sS http://nosuch/").error == "curl: (6) Could not resolve host: nosuch\n"
    run_ok(s, "iptables -A INPUT -p tcp --dport 82 -j DROP")
    r = h.run("curl -sS -m 2 http://10.0.0.2:82/")
    assert (r.status, r.error) == (28, "curl: (28) Connection timed out after 2000 milliseconds\n")


def test_refusals(server):
    h, _ = server
    assert h.run("curl -sS https://10.0.0.2/").error == \
        "netplex: curl https:// URLs is not supported (netplex's curl speaks http only)\n"
    assert h.run("curl -L http://10.0.0.2/").error == "netplex: curl -L is not supported\n"
    r = h.run("curl --bogus http://10.0.0.2/")
    assert r.status == 2 and r.error.startswith("curl: option --bogus: is unknown\n")
    assert h.run("curl").error == "curl: try 'curl --help' or 'curl --manual' for more information\n"
    r = h.run("curl -s")
    assert r.status == 2 and r.error.startswith("curl: no URL specified!\n")
    assert h.run("curl -m abc http://x/").error.startswith("curl: option -m: expected a proper numerical parameter\n")
