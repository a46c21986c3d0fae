"""`tcpdump -i IF -n -c N [filter]` as a user types it: the capture runs the simulation
until N frames passed the filter (or 60 simulated seconds), printing tcpdump 4.99's lines."""
from __future__ import annotations

import re

import pytest

from netplex.packet.addr import ip_to_int
from netplex.stack.tcp import TcpSocket
from tests.conftest import run_ok

TS = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} ", re.M)


def _ping_later(be, h, seq: int = 1) -> None:
    """h sends one echo request to 10.0.0.2 one simulated millisecond from now."""
    sock = h.ns.sockets.ping_socket(7)
    be.net.sched.after(1_000_000, sock.send, ip_to_int("10.0.0.2"), seq, bytes(56))


def test_icmp_and_arp_lines(sim_pair):
    be, h, s = sim_pair
    _ping_later(be, h)
    r = s.run("tcpdump -i eth0 -n -c 4")
    assert r.status == 0
    out = TS.sub("", r.output)
    mac_h = run_ok(h, "cat /sys/class/net/eth0/address").strip()
    mac_s = run_ok(s, "cat /sys/class/net/eth0/address").strip()
    assert out == ("ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28\n"
                   f"ARP, Reply 10.0.0.2 is-at {mac_s}, length 28\n"
                   "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64\n"
                   "IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 7, seq 1, length 64\n")
    assert r.output.startswith("00:00:")
    assert r.error.startswith("tcpdump: verbose output suppressed")
    assert r.error.endswith("4 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n")
    _ping_later(be, h, 2)
    r = s.run("tcpdump -i eth0 -n -e -c 1 'icmp and (src host 10.0.0.1 or dst port 80)'")
    assert TS.sub("", r.output) == (f"{mac_h} > {mac_s}, ethertype IPv4 (0x0800), length 98: "
                                    "10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 2, length 64\n")


def test_tcp_and_udp_lines(sim_pair):
    be, h, s = sim_pair
    be.start_services("s", [("tcp", 80)])
    run_ok(h, "ping -c 1 10.0.0.2")
    r = s.run("tcpdump -i eth0 -n -c 1 tcp port 81 or udp")
    # nothing comes: after 60 simulated seconds the capture stops, as Ctrl-C would
    assert r.status == 0 and r.output == ""
    assert r.error.endswith("\n\n0 packets captured\n0 packets received by filter\n0 packets dropped by kernel\n")


def test_refusals(sim_pair):
    _, _, s = sim_pair
    r = s.run("tcpdump -i eth0 -n -w /tmp/x")
    assert r.status == 2 and "tcpdump -w is not supported" in r.error
    r = s.run("tcpdump -i eth0 -c 1")
    assert r.status == 2 and "without -n" in r.error
    r = s.run("tcpdump -i nope -n -c 1")
    assert r.status == 1 and r.error.startswith("tcpdump: nope: No such device exists")
    r = s.run("tcpdump -i eth0 -n -c 1 host")
    assert r.status == 1 and r.error.startswith("tcpdump: ")
    r = s.run("tcpdump -i eth0 -n -c 1 net 10.0.0.0/99")
    assert (r.status, r.error) == (1, "tcpdump: mask length must be <= 32\n")
    r = s.run("tcpdump -i eth0 -n -c 1 'host 10.0.0.1 and'")
    assert (r.status, r.error) == (1, "tcpdump: can't parse filter expression: syntax error\n")
    r = s.run("tcpdump -i eth0 -n -c 1 port 70000")
    assert r.status == 1 and "illegal port number 70000 > 65535" in r.error
    # a background job runs to completion before the next command: it would capture nothing of what follows
    r = s.run("tcpdump -i eth0 -n -c 1 icmp & ping -c 1 10.0.0.1 >/dev/null; wait $!")
    assert r.status == 2 and "netplex: tcpdump in a background job (&) is not supported" in r.error


@pytest.mark.parametrize(("route", "mss"), [("", 1460), (" advmss 1000", 1000), (" mtu 1200", 1160)])
def test_syn_advertises_the_route_advmss(sim_pair, route, mss):
    """dst_metric_advmss: a route's `advmss`, else its path MTU less 40, is the MSS the SYN offers."""
    be, h, s = sim_pair
    run_ok(h, f"ip route add 10.0.0.2/32 dev eth0{route}")
    sock = TcpSocket(h.ns.sockets)
    be.net.sched.after(1_000_000, sock.connect, ip_to_int("10.0.0.2"), 80)
    out = s.run("tcpdump -i eth0 -n -c 1 tcp").output
    assert "Flags [S], seq" in out and f"options [mss {mss}," in out


@pytest.mark.parametrize("upper", ["br0", "eth0.5", "mv0", "vx0"])
def test_capture_sees_what_a_software_device_sends(sim_pair, upper):
    """A packet socket on a bridge, VLAN, macvlan or VXLAN device sees the frames the device
    sends, not only those it receives (dev_queue_xmit_nit; issue 9 found them missing)."""
    be, h, _s = sim_pair
    setup = {
        "br0": "ip link add br0 type bridge && ip link set eth0 master br0 && ip link set br0 up && "
               "ip addr add 10.9.0.1/24 dev br0",
        "eth0.5": "ip link add link eth0 name eth0.5 type vlan id 5 && ip link set eth0.5 up && "
                  "ip addr add 10.9.0.1/24 dev eth0.5",
        "mv0": "ip link add link eth0 name mv0 type macvlan mode bridge && ip link set mv0 up && "
               "ip addr add 10.9.0.1/24 dev mv0",
        "vx0": "ip link add vx0 type vxlan id 5 dstport 4789 local 10.0.0.1 remote 10.0.0.2 && "
               "ip link set vx0 up && ip addr add 10.9.0.1/24 dev vx0",
    }[upper]
    run_ok(h, setup)
    sock = h.ns.sockets.ping_socket(7)
    be.net.sched.after(1_000_000, sock.send, ip_to_int("10.9.0.2"), 1, bytes(56))
    r = h.run(f"tcpdump -i {upper} -n -c 1")
    assert TS.sub("", r.output) == "ARP, Request who-has 10.9.0.2 tell 10.9.0.1, length 28\n", r.error


def test_verbose_lines_are_what_the_real_tcpdump_prints_for_the_same_bytes(sim_pair, tmp_path):
    """`tcpdump -v` of an ARP exchange, a ping, a UDP datagram and a TCP handshake: the lines
    netplex prints equal what tcpdump 4.99 itself prints reading the same frames from a pcap
    (`tcpdump -v -n -r`), the real tool as the judge of netplex's decoder and bytes."""
    import shutil
    import subprocess

    from netplex.packet.pcap import PcapWriter

    tool = shutil.which("tcpdump")
    if tool is None:
        pytest.skip("no `tcpdump` on this machine (apt-get install tcpdump)")
    be, h, s = sim_pair
    be.start_services("s", [("tcp", 80), ("udp", 53)])
    frames: list[bytes] = []
    tap = s.ns.sockets.packet_socket(3, 0x0003)   # SOCK_RAW, ETH_P_ALL: the same frames, as bytes
    tap.bind(s.ns.devices["eth0"].ifindex)
    tap.on_recv = lambda data, _sll: frames.append(bytes(data))
    _ping_later(be, h)
    udp = h.ns.sockets.udp_socket()
    be.net.sched.after(5_000_000, udp.sendto, b"hello", ip_to_int("10.0.0.2"), 9)
    tcp = TcpSocket(h.ns.sockets)
    be.net.sched.after(9_000_000, tcp.connect, ip_to_int("10.0.0.2"), 80)
    r = s.run("tcpdump -i eth0 -n -v -c 9")
    tap.close()
    assert r.error.startswith("tcpdump: listening on eth0, link-type EN10MB (Ethernet)")
    pcap = tmp_path / "s.pcap"
    with PcapWriter(pcap) as w:
        for data in frames[:9]:
            w.write(0, data)
    real = subprocess.run([tool, "-v", "-n", "-r", str(pcap)], capture_output=True, text=True, check=True).stdout
    ours = TS.sub("", r.output)
    assert "proto UDP (17)" in ours and "udp port 9 unreachable" in ours and "cksum 0x" in ours
    assert ours == TS.sub("", real)
    # -vv and -vvv: the same frames again (the UDP sum checked, `[udp sum ok]`)
    from netplex.shell.tcpdump import TcpSeqs, format_frame, parse

    for level in (2, 3):
        seqs = TcpSeqs()
        ours_v = "".join(TS.sub("", format_frame(0, parse(d), False, seqs, level) + "\n") for d in frames[:9])
        real_v = subprocess.run([tool, "-" + "v" * level, "-n", "-r", str(pcap)], capture_output=True, text=True,
                                check=True).stdout
        assert ours_v == TS.sub("", real_v), level
    assert "[udp sum ok] UDP, length 5" in ours_v
    # -e -v: the link header, then the IP header without the word IP
    seqs = TcpSeqs()
    ours_e = "".join(TS.sub("", format_frame(0, parse(d), True, seqs, True) + "\n") for d in frames[:9])
    real_e = subprocess.run([tool, "-e", "-v", "-n", "-r", str(pcap)], capture_output=True, text=True,
                            check=True).stdout
    assert ours_e == TS.sub("", real_e)
    assert s.run("tcpdump -i eth0 -n -w x.pcap -c 1").error.startswith("netplex: tcpdump -w")
