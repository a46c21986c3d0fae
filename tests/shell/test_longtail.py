"""The long tail of issue 10 found by random command sequences against the kernel
(netplex.conformance.randseq, docs/differential-random.md), each class pinned through the
command a user types on the simulator; the kernel twin side is the corpus's rand-*.yaml."""
from __future__ import annotations

from tests.conftest import run_ok


def test_arp_off_sets_noarp_and_stops_arp(two_hosts):
    net, h1, h2 = two_hosts
    run_ok(h1, "ip link set dev eth0 arp off dynamic on trailers off")
    assert "<BROADCAST,MULTICAST,NOARP,DYNAMIC,NOTRAILERS,UP,LOWER_UP>" in run_ok(h1, "ip link show dev eth0")
    assert h2.run("ping -c 1 -W 1 10.0.0.1").status == 1        # h1 answers no ARP request
    assert h1.run("ping -c 1 -W 1 10.0.0.2").status == 1        # h1 sends to its own MAC, unresolved
    mac = run_ok(h1, "cat /sys/class/net/eth0/address").strip()
    assert run_ok(h1, "ip neigh show nud all") == f"10.0.0.2 dev eth0 lladdr {mac} NOARP \n"
    run_ok(h1, "ip link set dev eth0 arp on multicast off")   # NETDEV_CHANGE: neigh_changeaddr flushes
    assert run_ok(h1, "ip neigh show nud all") == ""
    assert "<BROADCAST,DYNAMIC,NOTRAILERS,UP,LOWER_UP>" in run_ok(h1, "ip link show dev eth0")
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2")
    r = h1.run("ip link set dev eth0 multicast maybe")
    assert (r.status, r.error) == (1, 'Error: argument of "multicast" must be "on" or "off", not "maybe"\n')


def test_neighbours_on_lo_are_one_entry_keyed_zero(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ip neigh replace 192.0.2.1 dev lo nud permanent")    # created NOARP: no lladdr needed
    run_ok(h1, "ip neigh add 10.0.0.3 lladdr 02:00:00:00:00:02 dev lo")   # hands back the same entry
    assert run_ok(h1, "ip neigh") == "0.0.0.0 dev lo lladdr 02:00:00:00:00:02 PERMANENT \n"
    assert h1.run("ip neigh del 10.0.0.3 dev lo").status == 2
    assert h1.run("ip neigh change 10.0.0.4 lladdr 02:00:00:00:00:02 dev lo").status == 2
    run_ok(h1, "ip neigh del 0.0.0.0 dev lo")


def test_neighbour_without_address(two_hosts):
    net, h1, _ = two_hosts
    r = h1.run("ip neigh add 10.0.0.7 dev eth0 nud noarp")
    assert (r.status, r.error) == (2, "Error: No link layer address given.\n")
    # the refused entry stays, NUD_NONE: shown without a state by `nud all`, and a later add finds it
    assert run_ok(h1, "ip neigh show nud all") == "10.0.0.7 dev eth0 \n"
    assert h1.run("ip neigh add 10.0.0.7 dev eth0 nud none").error == "RTNETLINK answers: File exists\n"
    run_ok(h1, "ip neigh change 10.0.0.7 dev eth0 lladdr 02:00:00:00:00:01 nud none")   # no address taken
    assert run_ok(h1, "ip neigh show nud all") == "10.0.0.7 dev eth0 \n"
    run_ok(h1, "ip neigh flush dev eth0")
    assert run_ok(h1, "ip neigh show nud all") == ""
