"""`curl` (7.88.1) as a user types it against the scenario's probe services and an HTTP answer
from `nc -l`; the same lines agree with the real curl on the twin (corpus curl-probe-services)."""
from __future__ import annotations

import pytest

from netplex.stack.tcp import TcpSocket
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


def test_data_makes_a_post(server):
    """-d as curl sends it: POST, Content-Length, the form Content-Type (unless -H gives one), `@file`
    read without its newlines, several joined with `&`; --data-binary keeps the newlines; -X wins."""
    h, s = server
    h.machine.fs.write("/tmp/body.json", b'{"a":\r\n 1}\n')
    cases = [
        ("-d 'x=1' -d y=2", "POST", "Content-Length: 7\r\nContent-Type: application/x-www-form-urlencoded\r\n",
         "x=1&y=2"),
        ("--data @/tmp/body.json", "POST", "Content-Length: 8\r\nContent-Type: application/x-www-form-urlencoded\r\n",
         '{"a": 1}'),
        ("--data-binary @/tmp/body.json -H 'Content-Type: application/json'", "POST",
         "Content-Length: 11\r\nContent-Type: application/json\r\n", '{"a":\r\n 1}\n'),
        ("--data-raw @/tmp/body.json -X PUT", "PUT",
         "Content-Length: 15\r\nContent-Type: application/x-www-form-urlencoded\r\n", "@/tmp/body.json"),
    ]
    seen: list[bytes] = []

    def accepted(sk: TcpSocket) -> None:      # an HTTP server that keeps what it was sent
        def data(sk: TcpSocket, chunk: bytes) -> None:
            seen.append(chunk)
            if b"\r\n\r\n" in b"".join(seen):
                sk.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        sk.on_data = data
    lst = TcpSocket(s.ns.sockets)
    lst.listen(8080)
    lst.on_accept = accepted
    for args, method, headers, body in cases:
        seen.clear()
        r = h.run(f"curl -s {args} http://10.0.0.2:8080/p")
        assert (r.status, r.output) == (0, "ok"), args
        got = b"".join(seen).decode()
        assert got == (f"{method} /p HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
                       f"{headers}\r\n{body}"), args
    r = h.run("curl -s -d @/tmp/none http://10.0.0.2:9/")
    assert r.error.startswith('Warning: Couldn\'t read data from file "/tmp/none", this makes an empty \n'
                              "Warning: POST.\n")
    r = h.run("curl -I -d x http://10.0.0.2/")
    assert (r.status, r.error) == (2, "Warning: You can only select one HTTP request method! You asked for both "
                                      "POST \nWarning: (-d, --data) and HEAD (-I, --head).\n")
    r = h.run("curl -d")
    assert r.status == 2 and r.error.startswith("curl: option -d: requires parameter\n")
