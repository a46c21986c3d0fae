"""`ip maddress` and `ip -s neigh` / `bridge -s fdb` ages as a user types them (texts as
iproute2 6.1 prints them on the kernel; corpus maddr and json-outputs compare on the twin)."""
from __future__ import annotations

from netplex import Network
from tests.conftest import run_ok


def test_maddr_show_add_del() -> None:
    net = Network()
    a = net.add_node("a")
    run_ok(a, "ip link add v0 type veth peer name v1; ip link add br0 type bridge; ip link set lo up; "
              "ip link set v0 up; ip link set br0 up")
    assert run_ok(a, "ip maddr show") == (
        "1:\tlo\n\tinet  224.0.0.1\n\tinet6 ff02::1\n\tinet6 ff01::1\n"
        "2:\tv1\n\tlink  33:33:00:00:00:01\n\tinet6 ff02::1\n\tinet6 ff01::1\n"
        "3:\tv0\n\tlink  33:33:00:00:00:01\n\tlink  01:00:5e:00:00:01\n\tinet  224.0.0.1\n"
        "\tinet6 ff02::1\n\tinet6 ff01::1\n"
        "4:\tbr0\n\tlink  33:33:00:00:00:01\n\tlink  01:00:5e:00:00:6a\n\tlink  33:33:00:00:00:6a\n"
        "\tlink  01:00:5e:00:00:01\n\tinet  224.0.0.1\n\tinet  224.0.0.106\n\tinet6 ff02::6a\n"
        "\tinet6 ff02::1\n\tinet6 ff01::1\n")
    run_ok(a, "ip maddr add 01:00:5e:01:02:03 dev v0; ip maddr add 01:00:5e:01:02:03 dev v0")
    assert "\tlink  01:00:5e:01:02:03 static\n" in run_ok(a, "ip maddr show dev v0")
    assert "01:00:5e:01:02:03 self permanent\n" in run_ok(a, "bridge fdb show dev v0")
    run_ok(a, "ip maddr del 01:00:5e:01:02:03 dev v0")
    r = a.run("ip maddr del 01:00:5e:01:02:03 dev v0")
    assert (r.status, r.error) == (1, "ioctl: No such file or directory\n")
    assert a.run("ip maddr add 01:00:5e:01:02:03 dev nope").error == "ioctl: No such device\n"
    assert a.run("ip maddr add 1.2.3.4 dev v0").error == "Error: Invalid address length 4 - must be 6 bytes\n"
    assert a.run("ip maddr add 01:00:5e:01:02:03").status == 255
    assert run_ok(a, "ip -j maddr show dev v1") == ('[{"ifindex":2,"ifname":"v1","maddr":[{"link":"33:33:00:00:00:01"},'
                                                  '{"family":"inet6","address":"ff02::1"},'
                                                  '{"family":"inet6","address":"ff01::1"}]}]\n')


def test_neigh_and_fdb_ages() -> None:
    net = Network()
    a = net.add_node("a")
    run_ok(a, "ip link add br0 type bridge; ip link add v0 type veth peer name v1; ip link set v0 master br0; "
              "ip link set v0 up; ip link set v1 up; ip link set br0 up; ip addr add 10.0.0.1/24 dev br0; "
              "ip neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev br0; ip neigh add 10.0.0.8 dev br0 nud failed; "
              "bridge fdb add 02:00:00:00:00:09 dev v0 master static")
    net.run_for(5_000_000_000)
    assert run_ok(a, "ip -s neigh show dev br0") == (
        "10.0.0.7 lladdr 02:00:00:00:00:07  used 5/5/5probes 0 PERMANENT \n"
        "10.0.0.8  used 5/65/5probes 0 FAILED \n")
    assert "02:00:00:00:00:09 dev v0 used 5/5 master br0 static\n" in run_ok(a, "bridge -s fdb")
