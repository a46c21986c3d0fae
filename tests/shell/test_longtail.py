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


def test_address_metric_and_replace(two_hosts):
    """IFA_RT_PRIORITY: shown before `brd`, carried by the prefix route (lo's is in the local table);
    `ip addr replace|change` of an address it has changes the metric alone (fib_modify_prefix_metric)."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set lo up && ip addr add 10.0.3.1/24 brd + metric 5 dev eth0 && "
              "ip addr add 192.0.2.1/24 metric 50 dev lo")
    assert "    inet 10.0.3.1/24 metric 5 brd 10.0.3.255 scope global eth0\n" in run_ok(h1, "ip addr show dev eth0")
    assert "10.0.3.0/24 dev eth0 proto kernel scope link src 10.0.3.1 metric 5 \n" in run_ok(h1, "ip route")
    assert "local 192.0.2.0/24 dev lo proto kernel scope host src 192.0.2.1 metric 50 \n" in \
        run_ok(h1, "ip route show table local")
    run_ok(h1, "ip addr change 10.0.0.1/24 metric 7 scope link label eth0:5 noprefixroute dev eth0")
    assert "    inet 10.0.0.1/24 metric 7 scope global eth0\n" in run_ok(h1, "ip addr show dev eth0")
    assert "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 metric 7 \n" in run_ok(h1, "ip route")


def test_setting_the_same_mac_is_not_checked(two_hosts):
    """dev_set_mac_address asks the driver only for a new address: lo's all-zero MAC set again is fine."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set dev lo address 00:00:00:00:00:00")
    assert h1.run("ip link set dev eth0 address 00:00:00:00:00:00").error == \
        "RTNETLINK answers: Cannot assign requested address\n"


def test_gateway_check_is_the_kernels_lookup(two_hosts):
    """fib_check_nh_v4_gw: scope link/host routes of the route's own table (not main), else a full
    lookup through the rules; a broadcast address or a blackhole-covered gateway is refused."""
    net, h1, _ = two_hosts
    bad = "Error: Nexthop has invalid gateway.\n"
    assert h1.run("ip route add 10.8.0.0/16 via 10.0.0.255").error == bad
    run_ok(h1, "ip route add 10.9.0.0/16 via 10.0.0.1")          # a local address is a gateway
    run_ok(h1, "ip route add 10.0.5.0/24 dev eth0 table 100 && ip route add blackhole 10.0.6.0/24 table 100")
    assert h1.run("ip route add 10.6.0.0/16 via 10.0.5.1 table 200").error == bad   # main has no 10.0.5/24
    run_ok(h1, "ip route add 10.6.0.0/16 via 10.0.5.1 table 100")
    assert h1.run("ip route add 10.5.0.0/16 via 10.0.6.1 table 100").error == bad
    run_ok(h1, "ip rule add not to 10.9.0.0/16 pref 5 unreachable")
    assert h1.run("ip route add 10.3.0.0/16 via 10.0.0.2 table 300").error == bad


def test_iptables_flush_of_a_named_chain_creates_its_table(two_hosts):
    """iptables-nft 1.8.9: `-F CHAIN` initialises the table (nft_xt_builtin_init), `-F` alone does not."""
    net, h1, _ = two_hosts
    run_ok(h1, "iptables -t mangle -F")
    assert run_ok(h1, "iptables-save") == ""
    run_ok(h1, "iptables -t nat -F OUTPUT")
    assert [x for x in run_ok(h1, "iptables-save").splitlines() if not x.startswith("#")] == [
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]", "COMMIT"]


def test_tc_qdisc_del_errors_in_the_kernels_order(two_hosts):
    net, h1, _ = two_hosts
    for line, err in (
            ("tc qdisc del dev eth0", "Error: Failed to find qdisc with specified handle.\n"),
            ("tc qdisc add dev eth0 root pfifo limit x", 'pfifo: Illegal value for "limit": "x"\n'),
            ("tc qdisc del dev eth0 parent 1:1", "Error: Failed to find qdisc with specified classid.\n"),
            ("tc qdisc del dev lo ingress", "Error: Cannot find specified qdisc on specified device.\n"),
            ("tc qdisc add dev eth0 root handle 1: pfifo; tc qdisc del dev eth0 parent 1:1",
             "Error: Parent qdisc is not classful.\n"),
            ("tc qdisc del dev eth0 handle 1:", "Error: Classid cannot be zero.\n"),
            ("tc qdisc del dev eth0 root bfifo", "Error: Invalid qdisc name: must match existing qdisc.\n"),
            ("tc qdisc add dev eth0 ingress; tc qdisc del dev eth0 ingress; tc qdisc del dev eth0 ingress",
             "Error: Invalid handle.\n")):
        assert h1.run(line).error == err, line


def test_bridge_port_guard_and_root_block():
    """BR_BPDU_GUARD: a BPDU disables the port; BR_ROOT_BLOCK: the would-be root port stays listening."""
    from netplex.network import Network
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, mac in ((a, "0a"), (b, "01")):   # b's bridge is the root
        run_ok(node, f"ip link add br0 address 02:00:00:00:00:{mac} type bridge stp_state 1 && "
                     "ip link set eth0 master br0 && ip link set eth0 up && ip link set br0 up")
    run_ok(a, "bridge link set dev eth0 guard on && sleep 3")
    assert "master br0 state disabled" in run_ok(a, "bridge link")
    run_ok(a, "ip link set eth0 down && ip link set eth0 up && bridge link set dev eth0 guard off root_block on")
    run_ok(a, "sleep 40")
    assert "master br0 state listening" in run_ok(a, "bridge link")
    assert "root_port 0 " in run_ok(a, "ip -d link show br0")
    assert a.run("bridge link set dev eth0 vlan_tunnel on").error == \
        "netplex: bridge link set vlan_tunnel is not supported\n"


def test_ping_bound_to_a_device_without_a_route_through_it(two_hosts):
    """ip_route_output with an oif and no route through it assumes the destination on link, the
    source from inet_select_addr(dev, 0, link) (lo's 127.0.0.1 is host scope: the next device's);
    iputils warns when that source is no address of the device."""
    net, h1, h2 = two_hosts
    run_ok(h1, "ip link set lo up")
    r = h1.run("ping -c 1 -W 1 -I lo 10.0.0.2")
    assert r.output.startswith("PING 10.0.0.2 (10.0.0.2) from 10.0.0.1 lo: 56(84) bytes of data.\n")
    assert r.error == "ping: Warning: source address might be selected on device other than: lo\n"
    r = h1.run("ping -c 1 -W 1 -I eth0 10.0.5.5")   # no route at all: on link through eth0, ARP unanswered
    assert r.status == 1 and r.error == "" and "10.0.5.5 dev eth0 INCOMPLETE" in run_ok(h1, "ip neigh")


def test_addr_show_scope_primary_secondary(two_hosts):
    """ipaddr_filter: only the matching addresses; a device none of whose addresses matches is left
    out, a device without addresses stays."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set lo up && ip link add br0 type bridge && ip addr add 10.0.0.5/24 dev eth0")
    out = run_ok(h1, "ip addr show scope host")
    assert "inet 127.0.0.1/8 scope host lo" in out and ": br0:" in out and "eth0" not in out
    assert run_ok(h1, "ip -o addr show secondary").count("inet ") == 1
    assert "10.0.0.1" not in run_ok(h1, "ip addr show dev eth0 secondary")
    assert h1.run("ip addr show label eth0").error == "netplex: ip address show label is not supported\n"


def test_reject_routes_take_any_src(two_hosts):
    """fib_create_info: a route of an error type (blackhole, unreachable, prohibit, throw) skips the
    prefsrc check; a unicast route still needs a local source."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip route add blackhole 10.9.0.0/16 src 10.0.0.9 && ip route replace throw 0.0.0.0/0 src 10.0.0.9")
    assert "blackhole 10.9.0.0/16 src 10.0.0.9 \n" in run_ok(h1, "ip route")
    assert h1.run("ip route add 10.6.0.0/16 dev eth0 src 10.0.0.9").error == "Error: Invalid prefsrc address.\n"


def test_fdb_self_on_a_device_without_its_own_fdb(two_hosts):
    """ndo_dflt_fdb_add/del: permanent entries without a VLAN on dev->uc (a veth turns promiscuous) or
    dev->mc (`ip maddr` static); EEXIST for `add` only; Ethernet devices only."""
    net, h1, _ = two_hosts
    r = h1.run("bridge fdb add 02:00:00:00:00:01 dev lo")
    assert (r.status, r.error) == (255, "Error: FDB add only supported for Ethernet devices.\n")
    run_ok(h1, "bridge fdb add 02:00:00:00:00:01 dev eth0 self && bridge fdb replace 02:00:00:00:00:01 dev eth0 "
              "&& bridge fdb add 01:00:5e:00:00:07 dev eth0")
    assert h1.run("bridge fdb add 02:00:00:00:00:01 dev eth0").error == "RTNETLINK answers: File exists\n"
    assert h1.run("bridge fdb add 02:00:00:00:00:02 dev eth0 dynamic").error == "RTNETLINK answers: Invalid argument\n"
    assert h1.run("bridge fdb add 02:00:00:00:00:02 dev eth0 master").error == \
        "RTNETLINK answers: Operation not supported\n"
    assert run_ok(h1, "bridge fdb show dev eth0") == (
        "02:00:00:00:00:01 self permanent\n33:33:00:00:00:01 self permanent\n01:00:5e:00:00:01 self permanent\n"
        "01:00:5e:00:00:07 self permanent\n")
    assert "link  01:00:5e:00:00:07 static\n" in run_ok(h1, "ip maddr show dev eth0")
    assert " promiscuity 1 " in run_ok(h1, "ip -d link show eth0")
    run_ok(h1, "bridge fdb del 02:00:00:00:00:01 dev eth0 && bridge fdb del 01:00:5e:00:00:01 dev eth0")
    assert h1.run("bridge fdb del 02:00:00:00:00:01 dev eth0").error == "RTNETLINK answers: No such file or directory\n"
    assert " promiscuity 0 " in run_ok(h1, "ip -d link show eth0")
    # the IPv4 all-hosts group comes back when the device goes up again, after the user's entries
    run_ok(h1, "ip link set eth0 down && ip link set eth0 up")
    assert run_ok(h1, "bridge fdb show dev eth0") == (
        "33:33:00:00:00:01 self permanent\n01:00:5e:00:00:07 self permanent\n01:00:5e:00:00:01 self permanent\n")


def test_macvlan_address_on_its_lower_devices_unicast_list(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ip link add mv0 link eth0 address 02:00:00:00:00:0b type macvlan mode bridge && ip link set mv0 up")
    assert run_ok(h1, "bridge fdb show dev eth0").startswith("02:00:00:00:00:0b self permanent\n")
    assert " promiscuity 1 " in run_ok(h1, "ip -d link show eth0")
    assert h1.run("bridge fdb add 02:00:00:00:00:01 dev mv0").error == "RTNETLINK answers: Operation not supported\n"
    run_ok(h1, "ip link set mv0 down")
    assert "02:00:00:00:00:0b" not in run_ok(h1, "bridge fdb show dev eth0")


def test_an_address_that_is_a_broadcast_route_is_no_preferred_source(two_hosts):
    """fib_valid_prefsrc (inet_addr_type_table): 10.0.0.255 is eth0's broadcast route before it is a local
    one, so neither its prefix route nor its broadcast route is made (fib_magic), nor a user's route with it."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip link add d0 type veth peer name d1 && ip link set d0 up && ip addr add 10.0.0.255/8 dev d0")
    routes = run_ok(h1, "ip route show table all")
    assert "local 10.0.0.255 dev d0 table local proto kernel scope host src 10.0.0.255 \n" in routes
    assert "10.0.0.0/8" not in routes and "10.255.255.255" not in routes
    r = h1.run("ip route add 10.9.0.0/16 dev eth0 src 10.0.0.255")
    assert (r.status, r.error) == (2, "Error: Invalid prefsrc address.\n")
    run_ok(h1, "ip link set lo up && ip route add 10.9.0.0/16 dev eth0 src 127.0.0.5")   # any local route's address


def test_route_checks_in_the_kernels_order(two_hosts):
    """fib_create_info: the type's scope first; a host-scope route takes a down device but no gateway;
    fib_check_nh_v4_gw with onlink: scope, device, up, a gateway that is no local/broadcast address."""
    net, h1, _ = two_hosts
    for line, err in (("ip route add local 10.7.0.1 dev eth0 scope link", "Error: Invalid scope.\n"),
                      ("ip route add broadcast 10.0.2.0/23 dev eth0 onlink",
                       "Error: Invalid flags for nexthop - PERVASIVE and ONLINK can not be set.\n"),
                      ("ip route add 10.5.0.0/16 via 10.0.0.2 scope link onlink", "Error: Nexthop has invalid scope.\n"),
                      ("ip route add 10.5.0.0/16 via 10.0.0.1 dev eth0 onlink", "Error: Nexthop has invalid gateway.\n"),
                      ("ip route add local 10.7.0.3 via 10.0.0.2", "Error: Route with host scope can not have a gateway.\n"),
                      ("ip route add 10.5.0.0/16 dev eth0 table nosuch",
                       'Error: argument "nosuch" is wrong: "table" value is invalid\n\n')):
        assert h1.run(line).error == err, line
    run_ok(h1, "ip link set eth0 down && ip route add local 10.7.0.1 dev eth0")


def test_route_get_source_must_be_ours(two_hosts):
    """ip_route_output_key_hash_rcu / __mkroute_output on `ip route get ... from`."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set lo up")
    for line, err in (("ip route get 10.0.0.2 from 10.0.0.9", "RTNETLINK answers: Network is unreachable\n"),
                      ("ip route get 10.0.0.2 from 224.0.0.1", "RTNETLINK answers: Invalid argument\n"),
                      ("ip route get 10.0.0.2 from 127.0.0.5", "RTNETLINK answers: Invalid argument\n")):
        assert h1.run(line).error == err, line
    assert run_ok(h1, "ip route get 255.255.255.255 from 127.0.0.5").startswith(
        "broadcast 255.255.255.255 from 127.0.0.5 dev lo ")
    assert run_ok(h1, "ip route get 10.0.0.2 from 0.0.0.0").startswith("10.0.0.2 dev eth0 src 10.0.0.1 ")


def test_local_table_merged_into_main_until_a_rule(two_hosts):
    """fib_unmerge: without custom rules the longest prefix of main and local wins; then local first."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set lo up && ip addr add 10.0.0.0/16 dev lo")
    assert run_ok(h1, "ip route get 10.0.0.2").startswith("10.0.0.2 dev eth0 src 10.0.0.1 ")
    assert run_ok(h1, "ip route get 10.0.5.2").startswith("local 10.0.5.2 dev lo ")
    run_ok(h1, "ip rule add pref 100 lookup 100 && ip rule del pref 100")
    assert run_ok(h1, "ip route get 10.0.0.2").startswith("local 10.0.0.2 dev lo table local ")


def test_iptables_errors_in_do_parse_order(two_hosts):
    net, h1, _ = two_hosts
    for line, err in (
            ("iptables -X " + "x" * 30, "chain name `" + "x" * 30 + "' too long (must be under 29 chars)"),
            ("iptables -A nosuch -s 10.0.0.0/33 -p icmp --icmp-type nosuch -j ACCEPT", "Unknown ICMP type `nosuch'"),
            ("iptables -A " + "x" * 30 + " -s 10.0.0.0/33", "invalid mask `33' specified"),
            ("iptables -t nat -A nosuch -s 10.0.0.0/33 -j DROP", 'The "nat" table is not intended for filtering'),
            ("iptables -A nosuch -j NOSUCH", "Chain 'NOSUCH' does not exist"),
            ("iptables -A nosuch -j MASQUERADE", "iptables: No chain/target/match by that name."),
            ("iptables -P nosuch RETURN", "iptables: Bad policy name. Run `dmesg' for more information."),
            ("iptables -t mangle -A OUTPUT -j REJECT", "RULE_APPEND failed (Invalid argument): rule in chain OUTPUT")):
        assert err in h1.run(line).error, line


def test_txqueuelen_is_get_integer(two_hosts):
    """iplink: get_integer takes -1, the kernel keeps IFLA_TXQLEN 4294967295 and shows it with %d."""
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set dev eth0 txqueuelen -1")
    assert " qlen -1\n" in run_ok(h1, "ip link show dev eth0")
    assert run_ok(h1, "cat /sys/class/net/eth0/tx_queue_len") == "-1\n"
    assert h1.run("ip link set dev nosuch0 txqueuelen -1").error == 'Cannot find device "nosuch0"\n'
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2")


def test_bridge_gc_timer(two_hosts):
    """IFLA_BR_GC_TIMER: br_set_ageing_time runs the gc work at once (it re-arms every hold time);
    br_stp_enable_bridge queues it 0.1 s out, br_stp_disable_bridge cancels it."""
    net, h1, _ = two_hosts

    def gc() -> str:
        out = run_ok(h1, "ip -d link show br0")
        return out.split("gc_timer", 1)[1].split()[0]

    steps = (("ip link add br0 type bridge", "0.00"), ("ip link set br0 type bridge ageing_time 1000", "10.00"),
             ("sleep 1", "9.00"), ("ip link set br0 up", "0.10"), ("sleep 1", "9.10"),
             ("ip link set br0 down", "0.00"))
    for line, left in steps:
        run_ok(h1, line)
        assert gc() == left, line


def test_host_scope_routes_outlive_their_device_going_down(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set lo up && ip route add 10.7.0.2 dev eth0 scope host && ip link set eth0 down && ip link set lo down")
    routes = run_ok(h1, "ip route show table all")
    assert "10.7.0.2 dev eth0 scope host \n" in routes
    assert "local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 \n" in routes
    assert "broadcast" not in routes
    assert run_ok(h1, "ip route get 10.0.0.1").startswith("local 10.0.0.1 dev lo ")


def test_mtu_below_68_destroys_ipv4_on_the_device(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ip link set lo up && ip addr add 10.9.0.1/16 dev lo && ip link set lo mtu 67")
    assert "inet " not in run_ok(h1, "ip addr show dev lo")
    assert h1.run("ip addr add 1.2.3.4/32 dev lo").error == "RTNETLINK answers: No buffer space available\n"
    assert h1.run("sysctl net.ipv4.conf.lo.forwarding").status == 1
    run_ok(h1, "ip link set lo mtu 65536 && ip link set lo down && ip link set lo up")
    assert "inet 127.0.0.1/8 scope host lo" in run_ok(h1, "ip addr show dev lo")


def test_address_scope_and_neighbour_types(two_hosts):
    net, h1, h2 = two_hosts
    assert h1.run("ip addr add 10.0.0.9/24 scope link dev eth0").error == "Error: ipv4: Invalid scope value.\n"
    run_ok(h1, "ip addr add 192.0.2.1/32 metric 50 dev eth0")
    assert "10.0.0.1/24 192.0.2.1/32 metric 50 " in run_ok(h1, "ip -br addr")
    run_ok(h1, "ip neigh replace 10.0.0.255 dev eth0 nud noarp && ip neigh replace 224.0.0.5 dev eth0 nud noarp")
    assert run_ok(h1, "ip neigh show nud noarp") == ("10.0.0.255 dev eth0 lladdr ff:ff:ff:ff:ff:ff NOARP \n"
                                                    "224.0.0.5 dev eth0 lladdr 01:00:5e:00:00:05 NOARP \n")


def test_arp_reply_does_not_override_within_locktime(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ip neigh replace 10.0.0.2 lladdr 02:00:00:00:00:09 dev eth0 nud probe && sleep 0.5")
    assert run_ok(h1, "ip neigh show 10.0.0.2") == "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:09 PROBE \n"


def test_reachable_entry_used_recently_goes_delay(two_hosts):
    """neigh_timer_handler: past its reachable time a REACHABLE entry used within
    delay_first_probe_time goes DELAY (random differential seed 2168), and an ARP request from the
    neighbour leaves a DELAY entry's timer running (__neigh_update: same address, no new state)."""
    net, h1, _ = two_hosts
    run_ok(h1, "sysctl -qw net.ipv4.neigh.eth0.base_reachable_time_ms=10 && ping -c 1 -W 1 10.0.0.2")
    assert run_ok(h1, "sleep 0.5; ip neigh show 10.0.0.2").endswith(" DELAY \n")
    assert run_ok(h1, "sleep 5.5; ip -s neigh show 10.0.0.2").endswith("probes 1 DELAY \n")   # probed, answered
    run_ok(h1, "ip neigh replace 10.0.0.9 lladdr 02:00:00:00:00:09 dev lo nud reachable")
    assert run_ok(h1, "sleep 0.1; ip neigh show dev lo") == "0.0.0.0 lladdr 02:00:00:00:00:09 REACHABLE \n"


def test_unicast_arp_to_another_mac_is_not_read(two_hosts):
    """arp_rcv: PACKET_OTHERHOST is consumed unread (seed 2178): a PROBE entry with a wrong
    address sends its unicast requests to that MAC; the real owner makes no entry for the sender."""
    net, h1, h2 = two_hosts
    run_ok(h2, "ip neigh replace 10.0.0.1 lladdr 02:aa:bb:cc:dd:ee dev eth0 nud probe && sleep 0.3")
    assert run_ok(h1, "ip neigh show nud all") == ""
