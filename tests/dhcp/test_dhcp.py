"""DHCP (RFC 2131): netplex's dnsmasq and dhclient against the bytes the real daemons
exchanged (dnsmasq 2.90 and ISC dhclient 4.4.3, tests/data/dhcp), scapy's and tshark's
reading of ours, the client's lease life (renew at T1, expiry, NAK, release) and the
commands' errors; the NAT-mode VM example on both backends."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netplex.apps.dhclient import BOUND, RENEWING, Dhclient
from netplex.network import Network
from netplex.packet.dhcp import DHCPACK, DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, Dhcp, decode_routes, encode_routes
from netplex.packet.ipv4 import IPv4
from netplex.packet.pcap import PcapWriter
from netplex.packet.udp import Udp
from netplex.stack.af_packet import ETH_P_ALL, SOCK_RAW

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "data" / "dhcp" / "dnsmasq-2.90-dhclient-4.4.3.pcap"
EXAMPLE = ROOT / "examples" / "vm-nat-dhcp.yaml"
SERVER = "dnsmasq --port=0 --interface=cloudt0 --dhcp-range=10.9.0.10,10.9.0.20,12h --dhcp-leasefile=/run/leases --conf-file=/dev/null"
MAC = "fa:16:3e:00:00:05"


def real_frames() -> list[bytes]:
    """The recorded frames (pcap records after the 24-byte global header)."""
    data = REAL.read_bytes()
    out, i = [], 24
    while i < len(data):
        n = int.from_bytes(data[i + 8:i + 12], "little")
        out.append(data[i + 16:i + 16 + n])
        i += 16 + n
    return out


def dhcp_of(frame: bytes) -> Dhcp:
    return Dhcp.decode(frame[42:])


def lan() -> tuple[Network, object, object]:
    """The recording's two hosts: the server on 10.9.0.1/24 (cloudt0) and the client's eth0."""
    net = Network()
    srv, cli = net.add_node("srv"), net.add_node("cli")
    net.add_link("srv:cloudt0", "cli:eth0")
    for line in ("ip addr add 10.9.0.1/24 dev cloudt0", "ip link set cloudt0 up"):
        assert srv.run(line).status == 0
    for line in (f"ip link set eth0 address {MAC}", "ip link set eth0 up"):
        assert cli.run(line).status == 0
    return net, srv, cli


def test_real_messages_decode_and_encode_to_the_same_bytes() -> None:
    frames = real_frames()
    kinds = [dhcp_of(f).message_type for f in frames]
    assert kinds == [DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK]
    for f in frames:
        assert dhcp_of(f).encode() == f[42:]
    assert decode_routes(encode_routes([(0x0A000000, 8, 0x0A090001), (0, 0, 0x0A090001)])) == \
        [(0x0A000000, 8, 0x0A090001), (0, 0, 0x0A090001)]


def test_dnsmasq_answers_the_real_dhclient_as_the_real_dnsmasq_did() -> None:
    """The real DISCOVER and REQUEST sent from the client's node: our OFFER and ACK carry the
    same DHCP message, byte for byte, as dnsmasq 2.90's."""
    net, srv, cli = lan()
    assert srv.run(SERVER).status == 0
    replies: list[bytes] = []
    sk = cli.ns.sockets.packet_socket(SOCK_RAW, ETH_P_ALL)
    sk.bind(cli.ns.dev("eth0").ifindex)
    sk.on_recv = lambda data, sll: replies.append(data) if sll.pkttype != 4 else None
    real = real_frames()
    for request, answer in ((real[0], real[1]), (real[2], real[3])):
        replies.clear()
        sk.sendto(request)
        net.world.run_for(10_000_000)
        ours = [r for r in replies if len(r) > 42 and r[23] == 17 and r[36:38] == b"\x00\x44"]
        assert len(ours) == 1
        assert ours[0][42:] == answer[42:], (dhcp_of(ours[0]), dhcp_of(answer))
        assert ours[0][:6] == answer[:6]           # unicast to the client's MAC, as dnsmasq does
        assert IPv4.decode(ours[0][14:]).dst == IPv4.decode(answer[14:]).dst
    assert srv.run("cat /run/leases").output.split()[1:3] == [MAC, "10.9.0.16"]


def test_dhclient_binds_from_the_real_dnsmasqs_offer_and_ack() -> None:
    net, srv, cli = lan()
    sent: list[bytes] = []
    sk = srv.ns.sockets.packet_socket(SOCK_RAW, ETH_P_ALL)
    sk.bind(srv.ns.dev("cloudt0").ifindex)
    sk.on_recv = lambda data, sll: sent.append(data) if sll.pkttype != 4 else None
    assert cli.run("dhclient -nw -lf /run/l -pf /run/p eth0").status == 0
    prog = cli.machine.procs.by_program(Dhclient)[0].program
    assert isinstance(prog, Dhclient)
    net.world.run_for(1_000_000)
    real = real_frames()
    ours = dhcp_of(sent[-1])
    want = dhcp_of(real[0])
    assert ours.message_type == DHCPDISCOVER and ours.chaddr == want.chaddr
    assert [c for c, _ in ours.options] == [c for c, _ in want.options if c != 12]   # no host-name option
    assert ours.option(55) == want.option(55)
    prog.xid = want.xid          # answer with the recorded transaction
    sk.sendto(real[1])
    net.world.run_for(1_000_000)
    req = dhcp_of(sent[-1])
    assert req.message_type == DHCPREQUEST
    assert [(c, v) for c, v in req.options if c != 12] == [(c, v) for c, v in dhcp_of(real[2]).options if c != 12]
    sk.sendto(real[3])
    net.world.run_for(1_000_000)
    assert prog.state == BOUND
    assert cli.run("ip -4 -o addr show dev eth0").output.split()[3:6] == ["10.9.0.16/24", "brd", "10.9.0.255"]
    assert cli.run("ip route show default").output == "default via 10.9.0.1 dev eth0 \n"


def test_our_exchange_reads_in_scapy_and_tshark(tmp_path: Path) -> None:
    scapy = pytest.importorskip("scapy.all")
    net, srv, cli = lan()
    frames: list[bytes] = []
    sk = srv.ns.sockets.packet_socket(SOCK_RAW, ETH_P_ALL)
    sk.bind(srv.ns.dev("cloudt0").ifindex)
    sk.on_recv = lambda data, sll: frames.append(data)
    assert srv.run(SERVER + " --dhcp-option=option:classless-static-route,192.0.2.0/24,10.9.0.254,0.0.0.0/0,10.9.0.1"
                            " --dhcp-option-force=option:mtu,1450 --domain=openstacklocal").status == 0
    assert cli.run("dhclient eth0").status == 0
    kinds = []
    for f in frames:
        pkt = scapy.Ether(f)
        if scapy.DHCP in pkt:
            opts = dict(o for o in pkt[scapy.DHCP].options if isinstance(o, tuple))
            kinds.append(opts["message-type"])
            if opts["message-type"] == 5:
                assert pkt[scapy.BOOTP].yiaddr == "10.9.0.16" and opts["lease_time"] == 43200
                assert opts["interface-mtu"] == 1450 and opts["domain"] == b"openstacklocal"
    assert kinds == [1, 2, 3, 5]
    assert cli.run("ip route show 192.0.2.0/24").output == "192.0.2.0/24 via 10.9.0.254 dev eth0 \n"
    assert cli.run("cat /sys/class/net/eth0/mtu").output == "1450\n"
    if shutil.which("tshark") is None:
        return
    path = tmp_path / "ours.pcap"
    with open(path, "wb") as fh:
        w = PcapWriter(fh)
        for i, f in enumerate(frames):
            w.write(i * 1000, f)
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "dhcp.option.dhcp", "-e", "_ws.expert"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert [ln.split("\t")[0] for ln in out if ln] == ["1", "2", "3", "5"]
    assert all(ln.split("\t")[1] == "" for ln in out if ln)    # no malformed-packet warnings


def test_renew_at_t1_and_expiry_when_the_server_is_gone() -> None:
    net, srv, cli = lan()
    assert srv.run(SERVER.replace("12h", "120")).status == 0
    assert cli.run("dhclient -lf /run/l -pf /run/p eth0").status == 0
    prog = cli.machine.procs.by_program(Dhclient)[0].program
    assert isinstance(prog, Dhclient) and prog.state == BOUND
    before = srv.run("cat /run/leases").output.split()[0]
    net.world.run_for(61_000_000_000)              # T1 = 60 s: a unicast REQUEST renews
    assert prog.state == BOUND and srv.run("cat /run/leases").output.split()[0] != before
    assert srv.run("kill $(pidof dnsmasq)").status == 0
    net.world.run_for(61_000_000_000)
    assert prog.state == RENEWING
    net.world.run_for(120_000_000_000)             # no answer by the end of the lease: unconfigured
    assert cli.run("ip -4 addr show dev eth0").output == "" and prog.alive


def test_nak_for_a_foreign_address_and_a_static_range() -> None:
    net, srv, cli = lan()
    assert srv.run("dnsmasq --port=0 --dhcp-range=10.9.0.0,static --dhcp-host=fa:16:3e:00:00:09,10.9.0.99 "
                   "--dhcp-leasefile=/run/leases").status == 0
    r = cli.run("dhclient -1 -v eth0")             # not a listed host: no offer, status 2
    assert r.status == 2 and r.error.endswith("No DHCPOFFERS received.\n")
    assert r.error.count("DHCPDISCOVER on eth0 to 255.255.255.255 port 67 interval") >= 4
    assert cli.run("ip link set eth0 address fa:16:3e:00:00:09").status == 0
    r = cli.run("dhclient -v eth0")
    assert r.status == 0 and "bound to 10.9.0.99 -- renewal in 1800 seconds.\n" in r.error


@pytest.mark.parametrize("line, status, err", [
    ("dnsmasq --port=0 --dhcp-range=10.0.0.300,10.0.0.5", 1, "\ndnsmasq: bad command line options: bad dhcp-range\n"),
    ("dnsmasq --port=0 --dhcp-option=option:bogus,1", 1, "\ndnsmasq: bad command line options: bad dhcp-option\n"),
    ("dnsmasq --port=0 --dhcp-option=3,notanip", 1, "\ndnsmasq: bad command line options: bad IP address\n"),
    ("dnsmasq --port=0 --foo", 1, "\ndnsmasq: bad command line options: try --help\n"),
    ("dnsmasq --port=0 --dhcp-range=10.9.0.10,10.9.0.20 --test", 0, "dnsmasq: syntax check OK.\n"),
    ("dnsmasq --dhcp-range=10.9.0.10,10.9.0.20", 2, "netplex: dnsmasq's forwarding to the servers of /etc/resolv.conf "
                                                    "is not modelled: give --no-resolv (or --port=0)\n"),
    ("dnsmasq --port=0 --enable-tftp", 2, "netplex: dnsmasq --enable-tftp is not supported\n"),
    ("dnsmasq --port=0 --dhcp-leasefile=/nonexistent/l", 3,
     "\ndnsmasq: cannot open or create lease file /nonexistent/l: No such file or directory\n"),
    ("dhclient -d eth0", 2, "netplex: dhclient -d is not supported\n"),
    ("dhclient eth9", 1, 'Cannot find device "eth9"\n'),
])
def test_command_errors(line: str, status: int, err: str) -> None:
    net = Network()
    h = net.add_node("h")
    r = h.run(line)
    assert (r.status, r.error) == (status, err)
    assert h.run("pidof dnsmasq dhclient").status == 1


@pytest.mark.linux
@pytest.mark.tools("dnsmasq", "dhclient")
def test_nat_vm_example_agrees_with_real_dnsmasq_and_dhclient(differential) -> None:
    differential.assert_agree(EXAMPLE)


def test_a_declined_address_is_not_offered_again() -> None:
    """RFC 2131 4.3.3: after DHCPDECLINE the server marks the address in use elsewhere;
    the next DISCOVER from the same client is offered another one."""
    net, srv, cli = lan()
    assert srv.run(SERVER).status == 0
    replies: list[bytes] = []
    sk = cli.ns.sockets.packet_socket(SOCK_RAW, ETH_P_ALL)
    sk.bind(cli.ns.dev("eth0").ifindex)
    sk.on_recv = lambda data, sll: replies.append(data) if sll.pkttype != 4 and len(data) > 42 and data[36:38] == b"\x00\x44" else None
    discover = real_frames()[0]
    sk.sendto(discover)
    net.world.run_for(10_000_000)
    first = dhcp_of(replies[-1]).yiaddr
    msg = dhcp_of(discover)
    decline = Dhcp(1, msg.xid, msg.chaddr, [(53, bytes((4,))), (50, first.to_bytes(4, "big")), (54, bytes((10, 9, 0, 1)))])
    ip = IPv4(0, 0xFFFFFFFF, 17, Udp(68, 67, decline.encode()))
    sk.sendto(discover[:14] + ip.encode())
    net.world.run_for(10_000_000)
    replies.clear()
    sk.sendto(discover)
    net.world.run_for(10_000_000)
    assert dhcp_of(replies[-1]).message_type == DHCPOFFER and dhcp_of(replies[-1]).yiaddr not in (first, 0)
