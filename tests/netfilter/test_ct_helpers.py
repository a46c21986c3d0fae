"""Conntrack helpers through the commands users type: `-j CT --helper ftp|tftp`, RELATED data
connections, expectations in `conntrack -L expect`, FTP NAT with sequence adjustment, CT event masks.

The FTP and TFTP exchanges are small scripted dialogues over the stack's own sockets; expected
texts were checked against Linux 6.18 with iptables 1.8.9 (nf_tables) and conntrack-tools 1.4.7.
"""
from __future__ import annotations

import pytest

from netplex.network import Network
from netplex.packet.addr import ip_to_int
from netplex.stack.tcp import ESTABLISHED, TcpSocket

SEC = 1_000_000_000
FW_RULES = [
    "iptables -P FORWARD DROP",
    "iptables -A FORWARD -m conntrack --ctstate RELATED -j ACCEPT",
    "iptables -A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT",
    "iptables -A FORWARD -p tcp --dport 21 -j ACCEPT",
    "iptables -A FORWARD -p udp --dport 69 -j ACCEPT",
]
HELPERS = ["iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp",
           "iptables -t raw -A PREROUTING -p udp --dport 69 -j CT --helper tftp"]


def routed(rules: list[str], outside: str = "10.0.1.1") -> Network:
    """client 10.0.0.2 — fw 10.0.0.1 | `outside`/24 — server (10.0.1.2, or .2 of `outside`'s /24)."""
    net = Network(seed=7)
    for n in ("client", "fw", "server"):
        net.add_node(n)
    net.add_link("client:eth0", "fw:eth0")
    net.add_link("fw:eth1", "server:eth0")
    server = outside.rsplit(".", 1)[0] + ".2"
    net["client"].cmd("ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.0.1")
    net["fw"].cmd(f"ip addr add 10.0.0.1/24 dev eth0 && ip addr add {outside}/24 dev eth1 && "
                  "ip link set eth0 up && ip link set eth1 up && sysctl -w net.ipv4.ip_forward=1")
    net["server"].cmd(f"ip addr add {server}/24 dev eth0 && ip link set eth0 up && ip route add default via {outside}")
    for line in rules:
        r = net["fw"].run(line)
        assert r.status == 0, (line, r.error)
    return net


class FtpServer:
    """Answers USER, PORT/EPRT (then opens the data connection), PASV/EPSV (then accepts one)."""

    def __init__(self, net: Network, addr: str) -> None:
        self.ns = net["server"].ns
        self.addr = ip_to_int(addr)
        self.heard = bytearray()
        self.data_sent = False
        lst = TcpSocket(self.ns.sockets)
        lst.listen(21)
        lst.on_accept = self._accept

    def _accept(self, sk: TcpSocket) -> None:
        sk.on_data = self._line
        sk.send(b"220 netplex ftp\r\n")

    def _open_data(self, addr: str, port: int) -> None:
        data_sk = TcpSocket(self.ns.sockets)
        data_sk.on_connect = lambda s: s.send(b"data\n")
        data_sk.connect(ip_to_int(addr), port)

    def _line(self, sk: TcpSocket, data: bytes) -> None:
        self.heard += data
        for line in data.split(b"\r\n"):
            if line.startswith(b"USER"):
                sk.send(b"331 password please\r\n")
            elif line.startswith((b"PORT", b"EPRT")):
                if line.startswith(b"PORT"):
                    n = [int(x) for x in line[5:].split(b",")]
                    addr, port = ".".join(map(str, n[:4])), n[4] << 8 | n[5]
                else:
                    parts = line[5:].split(b"|")
                    addr, port = parts[2].decode(), int(parts[3])
                sk.send(b"200 PORT command successful\r\n")
                self.ns.sched.after(SEC * 3 // 10, self._open_data, addr, port)   # as ftpd, a moment later
            elif line in (b"PASV", b"EPSV"):
                lst = TcpSocket(self.ns.sockets)
                lst.listen(50000)
                lst.on_accept = lambda s: s.send(b"data\n")
                a = self.addr.to_bytes(4, "big")
                if line == b"PASV":
                    sk.send(b"227 Entering Passive Mode (%d,%d,%d,%d,195,80).\r\n" % tuple(a))
                else:
                    sk.send(b"229 Entering Extended Passive Mode (|||50000|)\r\n")
            elif line == b"NOOP":
                sk.send(b"200 NOOP ok\r\n")


class FtpClient:
    """The client side: a control connection, and a data listener for active mode."""

    def __init__(self, net: Network, server: str) -> None:
        self.net = net
        self.ns = net["client"].ns
        self.replies = bytearray()
        self.data = bytearray()
        self.ctl = TcpSocket(self.ns.sockets)
        self.ctl.on_data = lambda s, d: self.replies.extend(d)
        self.ctl.connect(ip_to_int(server), 21)
        net.run_for(SEC // 10)
        assert self.ctl.state == ESTABLISHED

    def say(self, line: bytes) -> None:
        self.ctl.send(line + b"\r\n")
        self.net.run_for(SEC // 10)

    def listen_data(self, port: int) -> None:
        lst = TcpSocket(self.ns.sockets)
        lst.listen(port)
        lst.on_accept = lambda s: setattr(s, "on_data", lambda _s, d: self.data.extend(d))

    def connect_data(self, addr: str, port: int) -> None:
        sk = TcpSocket(self.ns.sockets)
        sk.on_data = lambda _s, d: self.data.extend(d)
        sk.connect(ip_to_int(addr), port)
        self.net.run_for(SEC // 2)


def fw(net: Network, line: str) -> str:
    r = net["fw"].run(line)
    assert r.status == 0, (line, r.error)
    return r.output


def active_ftp(net: Network, server: str, port_cmd: bytes) -> tuple[FtpServer, FtpClient]:
    srv = FtpServer(net, server)
    cli = FtpClient(net, server)
    cli.say(b"USER anonymous")
    cli.listen_data(40000)
    cli.say(port_cmd)
    net.run_for(SEC)
    return srv, cli


def test_active_ftp_needs_the_helper() -> None:
    net = routed(FW_RULES)
    _, cli = active_ftp(net, "10.0.1.2", b"PORT 10,0,0,2,156,64")
    assert b"200 PORT command successful" in cli.replies
    assert cli.data == b""                      # the data connection is NEW: dropped
    assert "helper=" not in fw(net, "conntrack -L")


def test_active_ftp_related_and_listed() -> None:
    net = routed(FW_RULES + HELPERS)
    srv = FtpServer(net, "10.0.1.2")
    cli = FtpClient(net, "10.0.1.2")
    cli.say(b"USER anonymous")
    cli.listen_data(40000)
    # the server opens the data connection after it answered: the expectation is listed meanwhile
    cli.ctl.send(b"PORT 10,0,0,2,156,64\r\n")
    net.run_for(SEC // 10)
    lport = cli.ctl.lport
    assert fw(net, "conntrack -L expect") == (
        "299 proto=6 src=10.0.1.2 dst=10.0.0.2 sport=0 dport=40000 mask-src=255.255.255.255 "
        "mask-dst=255.255.255.255 sport=0 dport=65535 master-src=10.0.0.2 master-dst=10.0.1.2 "
        f"sport={lport} dport=21 class=0 helper=ftp\n")
    net.run_for(SEC)
    assert cli.data == b"data\n" and srv.heard.startswith(b"USER")
    assert fw(net, "conntrack -L expect") == ""
    entries = fw(net, "conntrack -L").splitlines()
    master = [e.split(None, 3)[3] for e in entries if "dport=21 " in e]   # after the timeout
    assert master == [(f"ESTABLISHED src=10.0.0.2 dst=10.0.1.2 sport={lport} dport=21 "
                       f"src=10.0.1.2 dst=10.0.0.2 sport=21 dport={lport} [ASSURED] mark=0 helper=ftp use=2")]
    data = [e for e in entries if "dport=40000 " in e]
    assert len(data) == 1 and "src=10.0.1.2 dst=10.0.0.2 sport=" in data[0] and "helper" not in data[0]
    listing = fw(net, "iptables -L FORWARD -v -n -x").splitlines()
    related = [ln for ln in listing if "ctstate RELATED" in ln]
    assert related[0].split()[:2] == ["1", "60"]   # only the data SYN is RELATED


def test_eprt_and_epsv() -> None:
    net = routed(FW_RULES + HELPERS)
    _, cli = active_ftp(net, "10.0.1.2", b"EPRT |1|10.0.0.2|40000|")
    assert cli.data == b"data\n"
    cli.data.clear()
    cli.say(b"EPSV")
    assert b"(|||50000|)" in cli.replies
    cli.connect_data("10.0.1.2", 50000)
    assert cli.data == b"data\n"


def test_port_for_another_address_opens_nothing() -> None:
    """loose=0: a PORT naming an address that is not the client's own makes no expectation."""
    net = routed(FW_RULES + HELPERS)
    _, cli = active_ftp(net, "10.0.1.2", b"PORT 10,0,0,9,156,64")
    assert fw(net, "conntrack -L expect") == "" and cli.data == b""


def test_passive_ftp_behind_dnat() -> None:
    """227 from a server behind DNAT: the address in the reply becomes the firewall's."""
    net = routed(FW_RULES + HELPERS + [
        "iptables -t nat -A PREROUTING -d 10.0.0.1 -p tcp --dport 21 -j DNAT --to-destination 10.0.1.2"])
    FtpServer(net, "10.0.1.2")
    cli = FtpClient(net, "10.0.0.1")
    cli.say(b"USER anonymous")
    cli.say(b"PASV")
    assert b"227 Entering Passive Mode (10,0,0,1,195,80).\r\n" in cli.replies
    cli.connect_data("10.0.0.1", 50000)
    assert cli.data == b"data\n"
    data = [e for e in fw(net, "conntrack -L").splitlines() if "dport=50000 " in e]
    assert len(data) == 1 and "dst=10.0.0.1 " in data[0] and "src=10.0.1.2 dst=10.0.0.2 sport=50000" in data[0]


def test_active_ftp_through_masquerade_rewrites_and_adjusts_sequence() -> None:
    """PORT 10,0,0,2 becomes PORT 10,0,100,1: two bytes longer, so every later segment of the
    client is shifted by two and the server's ACKs back by two — the dialogue goes on."""
    net = routed(FW_RULES + HELPERS + ["iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE"],
                 outside="10.0.100.1")
    srv, cli = active_ftp(net, "10.0.100.2", b"PORT 10,0,0,2,156,64")
    assert b"PORT 10,0,100,1,156,64\r\n" in srv.heard
    assert cli.data == b"data\n"
    cli.say(b"NOOP")
    net.run_for(SEC)
    assert srv.heard.endswith(b"PORT 10,0,100,1,156,64\r\nNOOP\r\n")
    assert cli.replies.endswith(b"200 NOOP ok\r\n")
    assert cli.ctl.snd_una == cli.ctl.snd_nxt and not cli.ctl.sndbuf   # all acknowledged
    data = [e for e in fw(net, "conntrack -L").splitlines() if "dport=40000 " in e]
    assert len(data) == 1 and data[0].split()[4:8] == [
        "src=10.0.100.2", "dst=10.0.100.1", data[0].split()[6], "dport=40000"]
    assert "src=10.0.0.2 dst=10.0.100.2 sport=40000" in data[0]
    master = next(e for e in fw(net, "conntrack -L").splitlines() if "dport=21 " in e)
    # ESTABLISHED's 5 days, not the 300 s of unacknowledged data: the shifted ACKs were understood
    assert master.startswith("tcp      6 4319") and master.endswith("helper=ftp use=2")


def _tftp(net: Network, server: str) -> bytearray:
    got = bytearray()
    srv = net["server"].ns.sockets.udp_socket()
    srv.bind(0, 69)

    def request(data: bytes, addr: int, port: int) -> None:
        answer = net["server"].ns.sockets.udp_socket()    # a new port for the transfer (RFC 1350)
        answer.sendto(b"\x00\x03\x00\x01hello", addr, port)

    srv.on_recv = request
    cli = net["client"].ns.sockets.udp_socket()
    cli.bind(0, 5000)
    cli.on_recv = lambda data, addr, port: got.extend(data)
    cli.sendto(b"\x00\x01file\x00octet\x00", ip_to_int(server), 69)
    net.run_for(SEC)
    return got


@pytest.mark.parametrize("nat", [False, True])
def test_tftp_answer_from_a_new_port(nat: bool) -> None:
    masq = ["iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE"] if nat else []
    assert _tftp(routed(FW_RULES + masq), "10.0.1.2") == b""
    net = routed(FW_RULES + HELPERS + masq)
    assert _tftp(net, "10.0.1.2") == b"\x00\x03\x00\x01hello"
    entries = fw(net, "conntrack -L").splitlines()
    assert any("dport=69 " in e and e.endswith("helper=tftp use=2") for e in entries)
    answer = [e for e in entries if "dport=69 " not in e]
    assert len(answer) == 1 and answer[0].startswith("udp      17 ")
    client_side = "dst=10.0.1.1 " if nat else "dst=10.0.0.2 "
    assert f"src=10.0.1.2 {client_side}" in answer[0] and "dport=5000 " in answer[0]


def test_helper_flush_and_count_of_expectations() -> None:
    net = routed(FW_RULES + HELPERS)
    FtpServer(net, "10.0.1.2")
    cli = FtpClient(net, "10.0.1.2")
    cli.say(b"USER anonymous")
    cli.ctl.send(b"PORT 10,0,0,2,156,64\r\n")
    net.run_for(SEC // 10)
    assert fw(net, "conntrack -C expect") == "1\n"
    r = net["fw"].run("conntrack -F expect")
    assert r.error == "conntrack v1.4.7 (conntrack-tools): expectation table has been emptied.\n"
    net.run_for(SEC)
    assert cli.data == b""


def test_ctevents_mask_filters_trace_events() -> None:
    net = routed(FW_RULES + ["iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --ctevents destroy"])
    net.tracer.on = True
    FtpServer(net, "10.0.1.2")
    FtpClient(net, "10.0.1.2")
    fw(net, "conntrack -F")
    events = [e for e in net.tracer.events if e.node == "fw" and e.stage == "conntrack"]
    assert events and all(e.verdict == "DESTROY" and e.table is None for e in events), events
    net = routed(FW_RULES + ["iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --expevents new"])
    net.tracer.on = True
    FtpServer(net, "10.0.1.2")
    FtpClient(net, "10.0.1.2")
    assert not [e for e in net.tracer.events if e.node == "fw" and e.stage == "conntrack"]


def test_helper_events_name_the_helper_and_the_expectation() -> None:
    net = routed(FW_RULES + HELPERS)
    net.tracer.on = True
    active_ftp(net, "10.0.1.2", b"PORT 10,0,0,2,156,64")
    events = [e.text for e in net.tracer.events if e.node == "fw" and e.stage == "conntrack"]
    assert events[0].startswith("    [NEW] tcp      6 120 SYN_SENT src=10.0.0.2 dst=10.0.1.2 ")
    assert events[0].endswith(" dport=21 [UNREPLIED] src=10.0.1.2 dst=10.0.0.2 sport=21 dport="
                              + events[0].split("sport=")[1].split()[0] + " helper=ftp")
    exp = [t for t in events if "proto=6" in t]
    assert exp[0].startswith("    [NEW] 300 proto=6 src=10.0.1.2 dst=10.0.0.2 sport=0 dport=40000 ")
    assert exp[1].startswith("[DESTROY] 299 proto=6 ")     # consumed by the data connection


@pytest.mark.parametrize("rule,status,error", [
    ("-p tcp -j CT --helper netbios-ns", 4,
     "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (No such file or directory): rule in chain PREROUTING\n"),
    ("-j CT --helper ftp", 4,
     "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (No such file or directory): rule in chain PREROUTING\n"),
    ("-p tcp -j CT --timeout test", 4,
     "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (No such file or directory): rule in chain PREROUTING\n"),
    ("-j CT --timeout test", 4,
     "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING\n"),
    ("-j CT --ctevents new,foo", 2,
     ('iptables v1.8.9 (nf_tables): Unknown event type "foo"\n'
     "Try `iptables -h' or 'iptables --help' for more information.\n")),
    ("-j CT --expevents destroy", 2,
     ('iptables v1.8.9 (nf_tables): Unknown event type "destroy"\n'
     "Try `iptables -h' or 'iptables --help' for more information.\n")),
    ("-p tcp -j CT --helper ftp --helper irc", 2,
     ('iptables v1.8.9 (nf_tables): CT: option "--helper" can only be used once.\n\n'
     "Try `iptables -h' or 'iptables --help' for more information.\n")),
])
def test_ct_option_errors(rule: str, status: int, error: str) -> None:
    net = routed([])
    r = net["fw"].run("iptables -t raw -A PREROUTING " + rule)
    assert (r.status, r.error) == (status, error)


def test_ct_options_saved_and_listed() -> None:
    net = routed(["iptables -t raw -A PREROUTING -p tcp -j CT --zone 5 --expevents new --ctevents mark,new --helper ftp",
                  "iptables -t raw -A PREROUTING -p udp -j CT --helper netbios-ns",
                  "iptables -t raw -A PREROUTING -j CT --notrack --helper nonexist",
                  "iptables -t raw -A PREROUTING -p tcp -j CT --helper ''"])
    save = fw(net, "iptables-save -t raw")
    assert ("-A PREROUTING -p tcp -j CT --helper ftp --ctevents new,mark --expevents new --zone 5\n"
            "-A PREROUTING -p udp -j CT --helper netbios-ns\n"
            "-A PREROUTING -j CT --notrack --helper nonexist\n"
            "-A PREROUTING -p tcp -j CT\n") in save
    listing = fw(net, "iptables -t raw -L PREROUTING -n")
    assert "0.0.0.0/0            CT helper ftp ctevents new,mark expevents new zone 5\n" in listing
    assert "CT notrack helper nonexist\n" in listing


@pytest.mark.parametrize("rule,saved", [
    ("-p tcp -j DNAT --to-destination 1.1.1.1:ftp-data", "-p tcp -j DNAT --to-destination 1.1.1.1:20"),
    ("-p tcp -j DNAT --to-destination 1.1.1.1:10-20/ftp", "-p tcp -j DNAT --to-destination 1.1.1.1:10-20/21"),
    ("-p tcp -j DNAT --to-destination 1.1.1.1:0x10-0x20", "-p tcp -j DNAT --to-destination 1.1.1.1:16-32"),
    ("-p tcp -j REDIRECT --to-ports ftp-data", "-p tcp -j REDIRECT --to-ports 20"),
    ("-p udp -j REDIRECT --to-ports tftp", "-p udp -j REDIRECT --to-ports 69"),
])
def test_nat_port_service_names(rule: str, saved: str) -> None:
    net = routed([])
    fw(net, "iptables -t nat -A PREROUTING " + rule)
    assert f"-A PREROUTING {saved}\n" in fw(net, "iptables-save -t nat")


@pytest.mark.parametrize("rule,message", [
    ("-p tcp -j DNAT --to-destination 1.1.1.1:echo-ssh", "Port `echo-ssh' not valid"),
    ("-p tcp -j DNAT --to-destination 1.1.1.1:1000-2000/0", "Port `0' not valid"),
    ("-p tcp -j DNAT --to-destination 1.1.1.1:5/7", "Garbage after port value: `/7'"),
    ("-p tcp -j DNAT --to-destination 1.1.1.1:5-6x", "Garbage after port range: `x'"),
    ("-p tcp -j REDIRECT --to-ports 10-ssh", "Port `ssh' not valid"),
    ("-p tcp -j REDIRECT --to-ports 42-1234/567", "Shifted portmap ranges not supported with this kernel"),
    ("-p tcp -j REDIRECT --to-ports 1:2", "Invalid port:port syntax - use dash"),
])
def test_nat_port_errors(rule: str, message: str) -> None:
    net = routed([])
    r = net["fw"].run("iptables -t nat -A PREROUTING " + rule)
    assert r.status == 2 and r.error.startswith(f"iptables v1.8.9 (nf_tables): {message}\n"), r.error


def test_helper_on_the_client_itself() -> None:
    """The client's own firewall (raw OUTPUT assigns the helper, INPUT drops NEW): the server's
    data connection comes in RELATED — one packet, the SYN, as on Linux."""
    net = routed([])
    for line in ("iptables -t raw -A OUTPUT -p tcp --dport 21 -j CT --helper ftp",
                 "iptables -A INPUT -m conntrack --ctstate RELATED -j ACCEPT",
                 "iptables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT",
                 "iptables -A INPUT -j DROP"):
        assert net["client"].run(line).status == 0
    _, cli = active_ftp(net, "10.0.1.2", b"PORT 10,0,0,2,156,64")
    assert cli.data == b"data\n"
    listing = net["client"].run("iptables -L INPUT -v -n -x").output.splitlines()
    assert [ln.split()[:2] for ln in listing if "ctstate RELATED" in ln] == [["1", "60"]]
    assert "helper=ftp use=2" in net["client"].run("conntrack -L").output
