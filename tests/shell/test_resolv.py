"""The stub resolver (netplex.shell.resolv) as glibc 2.36 behaves: /etc/hosts first, resolv.conf's
servers, search list and ndots, timeouts and attempts in simulated time, and the error texts
ping, nc, curl and getent print. The server is a test responder on a simulated node that
records what it was asked."""
from __future__ import annotations

import pytest

from netplex import Network
from netplex.packet.dns import RCODE_NXDOMAIN, RCODE_SERVFAIL, TYPE_A, DnsMessage, a_record
from netplex.shell.resolv import parse_resolv_conf

NSEC_PER_SEC = 1_000_000_000


class Lab:
    def __init__(self, zone: dict[str, str], servfail: set[str] = frozenset(), silent: bool = False) -> None:
        self.net = Network()
        self.c = self.net.add_node("c")
        self.s = self.net.add_node("s")
        self.net.add_link("c:eth0", "s:eth0")
        for node, ip in ((self.c, "10.0.0.1/24"), (self.s, "10.0.0.53/24")):
            assert node.run(f"ip addr add {ip} dev eth0 && ip link set eth0 up").status == 0
        self.asked: list[str] = []
        sk = self.s.ns.sockets.udp_socket()
        sk.bind(0, 53)

        def answer(data: bytes, src: int, sport: int) -> None:
            q = DnsMessage.decode(data)
            name = q.questions[0].name
            self.asked.append(name)
            if silent:
                return
            if name in servfail:
                r = q.reply(RCODE_SERVFAIL)
            elif name in zone and zone[name]:
                r = q.reply()
                if q.questions[0].qtype == TYPE_A:
                    r.answers = [a_record(name, zone[name], 60)]
            elif name in zone:          # known, no address: NOERROR, no answer
                r = q.reply()
            else:
                r = q.reply(RCODE_NXDOMAIN)
            sk.sendto(r.encode(), src, sport)

        sk.on_recv = answer

    def conf(self, text: str) -> None:
        self.c.machine.fs.write("/etc/resolv.conf", text.encode())


def test_parse_resolv_conf_as_res_init() -> None:
    rc = parse_resolv_conf("# c\n; c\nnameserver 10.0.0.1\nnameserver fd00::1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n"
                           "nameserver 10.0.0.4\ndomain a.example\nsearch b.example c.example.\n"
                           "options ndots:20 timeout:0 attempts:9 rotate edns0\n")
    assert rc.nameservers == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert (rc.search, rc.ndots, rc.timeout, rc.attempts, rc.rotate) == (["b.example", "c.example"], 15, 1, 5, True)
    empty = parse_resolv_conf(None, "host1.corp.example")
    assert (empty.nameservers, empty.search, empty.ndots, empty.timeout, empty.attempts) == \
        (["127.0.0.1"], ["corp.example"], 1, 5, 2)


def test_hosts_file_first_then_dns() -> None:
    lab = Lab({"db": "10.9.9.9"})
    lab.conf("nameserver 10.0.0.53\n")
    lab.c.machine.fs.write("/etc/hosts", b"127.0.0.1 localhost\n10.1.1.1 DB db.local # the database\n")
    assert lab.c.run("getent hosts db").output == "10.1.1.1        DB db.local\n"
    assert lab.asked == []
    assert lab.c.run("getent ahostsv4 db.local").output == (
        "10.1.1.1        STREAM DB\n10.1.1.1        DGRAM  \n10.1.1.1        RAW    \n")


def test_search_list_and_ndots_order() -> None:
    lab = Lab({"web.b.example": "10.2.0.1", "x.y": "10.3.0.1"})
    lab.conf("nameserver 10.0.0.53\nsearch a.example b.example\n")
    assert lab.c.run("getent hosts web").output == "10.2.0.1        web.b.example\n"
    assert lab.asked == ["web.a.example", "web.b.example"]
    lab.asked.clear()
    assert lab.c.run("getent hosts x.y").output == "10.3.0.1        x.y\n"    # 1 dot >= ndots 1: as is first
    assert lab.asked == ["x.y"]
    lab.asked.clear()
    lab.conf("nameserver 10.0.0.53\nsearch a.example\noptions ndots:2\n")
    assert lab.c.run("getent hosts x.y").status == 0
    assert lab.asked == ["x.y.a.example", "x.y"]
    lab.asked.clear()
    assert lab.c.run("getent hosts nope.").status == 2      # a trailing dot: no search
    assert lab.asked == ["nope"]


def test_errors_as_glibc_reports_them() -> None:
    lab = Lab({"empty": ""}, servfail={"broken"})
    lab.conf("nameserver 10.0.0.53\n")
    assert lab.c.run("ping -c 1 nosuch").error == "ping: nosuch: Name or service not known\n"
    assert lab.c.run("ping -c 1 empty").error == "ping: empty: No address associated with hostname\n"
    assert lab.c.run("ping -c 1 broken").error == "ping: broken: Temporary failure in name resolution\n"
    r = lab.c.run("curl -sS http://nosuch:8080/")
    assert (r.status, r.error) == (6, "curl: (6) Could not resolve host: nosuch\n")
    r = lab.c.run("nc -z nosuch 80")
    assert (r.status, r.error) == (1, 'nc: getaddrinfo for host "nosuch" port 80: Name or service not known\n')


def test_no_server_listening_fails_at_once() -> None:
    lab = Lab({})
    lab.conf("nameserver 10.0.0.1\n")      # the client itself: port 53 unreachable, ECONNREFUSED
    assert lab.c.run("ip link set lo up").status == 0
    t0 = lab.net.now
    assert lab.c.run("ping -c 1 db").error == "ping: db: Temporary failure in name resolution\n"
    assert lab.net.now - t0 < NSEC_PER_SEC


def test_timeouts_and_attempts_in_simulated_time() -> None:
    lab = Lab({}, silent=True)
    lab.conf("nameserver 10.0.0.53\noptions timeout:2 attempts:3\n")
    t0 = lab.net.now
    assert lab.c.run("ping -c 1 db").error == "ping: db: Temporary failure in name resolution\n"
    assert lab.asked == ["db"] * 3
    assert lab.net.now - t0 == pytest.approx(6 * NSEC_PER_SEC, abs=NSEC_PER_SEC // 100)


def test_ping_by_name_names_the_replies() -> None:
    lab = Lab({"s.lab": "10.0.0.53", "53.0.0.10.in-addr.arpa": ""})
    lab.conf("nameserver 10.0.0.53\n")
    out = lab.c.run("ping -c 1 s.lab").output.splitlines()
    assert out[0] == "PING s.lab (10.0.0.53) 56(84) bytes of data."
    assert out[1].startswith("64 bytes from 10.0.0.53 (10.0.0.53): icmp_seq=1 ")   # no PTR: the address again
    assert out[3] == "--- s.lab ping statistics ---"
    assert lab.c.run("ping -n -c 1 s.lab").output.splitlines()[1].startswith("64 bytes from 10.0.0.53: ")
