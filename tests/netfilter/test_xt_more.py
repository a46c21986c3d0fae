"""The extensions real firewalls use (issue 10 item 4), through the commands a user types:
recent, set + ipset, hashlimit, connlimit, rpfilter, policy, time, string, u32, nfacct, NFQUEUE."""
from __future__ import annotations

from tests.conftest import run_ok


def received(h1, n: int = 1) -> int:
    out = h1.run(f"ping -c {n} -i 0.2 -W 1 10.0.0.2").output
    line = next(ln for ln in out.splitlines() if "packets transmitted" in ln)
    return int(line.split(",")[1].split()[0])


def test_recent_blocks_the_fourth_new_attempt_within_the_window(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -m recent --name PING --rcheck --seconds 60 --hitcount 3 -j DROP")
    run_ok(h2, "iptables -A INPUT -p icmp -m recent --name PING --set -j ACCEPT")
    assert received(h1, 5) == 3
    proc = run_ok(h2, "cat /proc/net/xt_recent/PING")
    assert proc.startswith("src=10.0.0.1 ttl: 64 last_seen: ") and "oldest_pkt: 3 " in proc
    assert h2.run("cat /proc/net/xt_recent/NOPE").status == 1
    run_ok(h2, "iptables -A INPUT -m recent --rcheck --name EMPTY")
    assert run_ok(h2, "cat /proc/net/xt_recent/EMPTY") == ""     # made with the rule, as recent_mt_check does
    run_ok(h2, "iptables -D INPUT -m recent --rcheck --name EMPTY")
    assert h2.run("cat /proc/net/xt_recent/EMPTY").status == 1


def test_ipset_hash_ip_with_set_match_and_set_target(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "ipset create blocked hash:ip timeout 0")
    run_ok(h2, "ipset create seen hash:ip")
    run_ok(h2, "iptables -A INPUT -p icmp -j SET --add-set seen src")
    run_ok(h2, "iptables -A INPUT -m set --match-set blocked src -j DROP")
    assert received(h1) == 1
    assert "10.0.0.1" in run_ok(h2, "ipset list seen")
    run_ok(h2, "ipset add blocked 10.0.0.1")
    assert received(h1) == 0
    r = h2.run("ipset destroy blocked")
    assert (r.status, r.error) == (1, "ipset v7.17: Set cannot be destroyed: it is in use by a kernel component\n")
    out = run_ok(h2, "ipset list blocked")
    assert "References: 1\nNumber of entries: 1\nMembers:\n10.0.0.1 timeout 0\n" in out
    run_ok(h2, "ipset del blocked 10.0.0.1")
    assert received(h1) == 1


def test_ipset_texts_and_errors(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "ipset create ipp hash:ip,port")
    run_ok(h2, "ipset add ipp 10.0.0.1,udp:53")
    run_ok(h2, "ipset add ipp 10.0.0.3,80")
    run_ok(h2, "ipset create bp bitmap:port range 1-1024")
    run_ok(h2, "ipset add bp 80-82")
    save = run_ok(h2, "ipset save")
    assert save.splitlines()[1:3] == ["add ipp 10.0.0.1,udp:53", "add ipp 10.0.0.3,tcp:80"]
    assert "create bp bitmap:port range 1-1024\nadd bp 80\nadd bp 81\nadd bp 82\n" in save
    assert "Size in memory: 200\n" in run_ok(h2, "ipset list bp")
    cases = {
        "ipset add ipp 10.0.0.1,udp:53": (1, "ipset v7.17: Element cannot be added to the set: it's already added\n"),
        "ipset add nope 1.2.3.4": (1, "ipset v7.17: The set with the given name does not exist\n"),
        "ipset create bad bitmap:port": (2, "ipset v7.17: Mandatory option `range' is missing\n"
                                            "Try `ipset help' for more information.\n"),
        "ipset create x hash:foo": (1, "ipset v7.17: Syntax error: typename 'hash:foo' is unknown\n"),
        "ipset add bp 2000": (1, "ipset v7.17: Element is out of the range of the set\n"),
        "ipset add ipp 10.0.0.1": (1, "ipset v7.17: Syntax error: Second element is missing from 10.0.0.1.\n"),
        "ipset swap ipp bp": (1, "ipset v7.17: The sets cannot be swapped: their type does not match\n"),
        "ipset test ipp 10.0.0.9,80": (1, "10.0.0.9,tcp:80 is NOT in set ipp.\n"),
        "ipset test ipp 10.0.0.3,80": (0, "Warning: 10.0.0.3,tcp:80 is in set ipp.\n"),
        "ipset frob": (2, "ipset v7.17: No command specified: unknown argument frob\n"
                          "Try `ipset help' for more information.\n"),
    }
    for line, want in cases.items():
        r = h2.run(line)
        assert (r.status, r.error) == want, line
    run_ok(h2, "ipset save > /tmp/sets; ipset destroy; ipset restore < /tmp/sets")
    assert run_ok(h2, "ipset save") == save
    r = h2.run("iptables -A INPUT -m set --match-set nope src")
    assert r.status == 2 and "Set nope doesn't exist." in r.error


def test_hashlimit_per_source_bucket(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -m hashlimit --hashlimit-above 1/sec --hashlimit-burst 2 "
               "--hashlimit-mode srcip --hashlimit-name p -j DROP")
    # a burst of 2, then one per second: requests at 0, .2, .4, .6, .8, 1.0
    assert received(h1, 6) == 3


def test_connlimit_counts_tracked_connections(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p tcp --syn --dport 80 -m connlimit --connlimit-above 1 -j REJECT "
               "--reject-with tcp-reset")
    assert "#conn src/32 > 1" in run_ok(h2, "iptables -L INPUT -n")
    assert run_ok(h2, "iptables -S INPUT").splitlines()[-1].endswith(
        "-m connlimit --connlimit-above 1 --connlimit-mask 32 --connlimit-saddr -j REJECT --reject-with tcp-reset")


def test_string_and_u32_on_real_packets(pair) -> None:
    net, h1, h2, be = pair
    # the source address 10.0.0.1 inside the IP header (bytes 12-15)
    run_ok(h2, "iptables -A INPUT -p icmp -m string --algo bm --hex-string '|0a000009|' --to 20 -j DROP")
    assert received(h1) == 1
    run_ok(h2, "iptables -A INPUT -p icmp -m string --algo kmp --hex-string '|0a000001|' --to 20 -j DROP")
    assert received(h1) == 0
    run_ok(h2, "iptables -F")
    # ICMP type 8 (echo request): the byte after the IP header
    run_ok(h2, 'iptables -A INPUT -m u32 --u32 "0>>22&0x3C@0>>24=8" -j DROP')
    assert received(h1) == 0
    run_ok(h2, "iptables -F")
    run_ok(h2, 'iptables -A INPUT -m u32 --u32 "0>>22&0x3C@0>>24=0" -j DROP')
    assert received(h1) == 1


def test_time_against_the_simulated_clock(pair) -> None:
    net, h1, h2, be = pair
    # a run's CLOCK_REALTIME starts at 2027-01-01 00:00 UTC, a Friday
    run_ok(h2, "iptables -A INPUT -p icmp -m time --weekdays Fri --timestart 00:00 --timestop 01:00 -j DROP")
    assert received(h1) == 0
    run_ok(h2, "iptables -F")
    run_ok(h2, "iptables -A INPUT -p icmp -m time --weekdays Sat -j DROP")
    assert received(h1) == 1


def test_rpfilter_policy_nfqueue_nfacct(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -t raw -A PREROUTING -m rpfilter --invert -j DROP")
    assert received(h1) == 1
    run_ok(h2, "ip route add 10.0.0.1/32 dev lo")
    assert received(h1) == 0
    run_ok(h2, "ip route del 10.0.0.1/32 dev lo; iptables -t raw -F")
    run_ok(h2, "iptables -A INPUT -m policy --dir in --pol ipsec -j DROP")
    assert received(h1) == 1            # no packet has an IPsec policy
    run_ok(h2, "iptables -F; nfacct add pings")
    run_ok(h2, "iptables -A INPUT -p icmp -m nfacct --nfacct-name pings")
    assert received(h1, 2) == 2
    assert run_ok(h2, "nfacct get pings") == \
        "{ pkts = 00000000000000000002, bytes = 00000000000000000168 } = pings;\n"
    assert h2.run("nfacct del pings").error == "nfacct v1.0.2: error: Device or resource busy\n"
    run_ok(h2, "iptables -A INPUT -p icmp -j NFQUEUE --queue-num 3")
    assert received(h1) == 0            # no userspace reader: dropped as by the kernel
    run_ok(h2, "iptables -R INPUT 2 -p icmp -j NFQUEUE --queue-num 3 --queue-bypass")
    assert received(h1) == 1


def test_ip6tables_stores_and_prints_without_a_data_path(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "ip6tables -A INPUT -s 2001:db8::1/64 -p tcp --dport 22 -j REJECT")
    run_ok(h2, "ip6tables -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j ACCEPT")
    assert run_ok(h2, "ip6tables -S INPUT").splitlines()[1:] == [
        "-A INPUT -s 2001:db8::/64 -p tcp -m tcp --dport 22 -j REJECT --reject-with icmp6-port-unreachable",
        "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT"]
    save = run_ok(h2, "ip6tables-save")
    assert save.startswith("# Generated by ip6tables-save v1.8.9 (nf_tables) on ")
    assert run_ok(h2, "iptables-save") == ""          # the IPv4 tables are untouched
    assert "no IPv6 data path" in run_ok(h2, "ip6tables -h")
    assert h2.ns.netfilter.registered("INPUT") == []   # no hook: nothing runs on the IPv4 path
    r = h2.run("ip6tables -A INPUT -m iprange --src-range ::1-::2")
    assert r.status == 2 and "netplex: ip6tables match `iprange' is not supported" in r.error


def test_ip6tables_ufw_style_rules(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "ip6tables -A INPUT -m rt --rt-type 0 -j DROP")
    run_ok(h2, "ip6tables -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT")
    run_ok(h2, "ip6tables -A INPUT -m recent --set --name ssh6")
    assert run_ok(h2, "ip6tables -L INPUT -n").splitlines()[2:] == [
        "DROP       0    --  ::/0                 ::/0                 rt type:0",
        "ACCEPT     58   --  ::/0                 ::/0                 ipv6-icmptype 135 HL match HL == 255",
        "           0    --  ::/0                 ::/0                 recent: SET name: ssh6 side: source mask: "
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]


def test_nfqueue_says_in_the_trace_that_no_reader_exists(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -j NFQUEUE --queue-num 3")
    net.tracer.on = True
    assert received(h1) == 0
    events = [e for e in net.tracer.events if e.node == "h2" and "NFQUEUE" in e.text]
    assert events and events[0].verdict == "DROP" and "no userspace reader" in events[0].text
