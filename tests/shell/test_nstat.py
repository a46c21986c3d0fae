"""nstat (iproute2 6.1) on the simulator: the counters of /proc/net/snmp and /proc/net/netstat
(netplex.stack.snmp) against the node's history file; the twin side is the corpus's
nstat-counters.yaml (every counter but TcpExt agrees with kernel 6.18)."""
from __future__ import annotations

import json

from tests.conftest import run_ok


def _lines(text: str) -> dict[str, int]:
    return {p[0]: int(p[1]) for p in (line.split() for line in text.splitlines()[1:])}


def test_first_run_absolute_then_deltas_per_node(two_hosts):
    net, h1, h2 = two_hosts
    run_ok(h1, "ping -c 2 -i 0.2 -W 1 10.0.0.2")
    first = run_ok(h1, "nstat")
    assert first.startswith("#kernel\n")
    assert "IcmpOutEchos                    2                  0.0\n" in first
    assert _lines(first)["IpExtOutOctets"] == 168 and "IpForwarding" not in first   # a useless number
    assert run_ok(h1, "nstat") == "#kernel\n"          # nothing changed since the history
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2")
    assert _lines(run_ok(h1, "nstat Icmp*"))["IcmpOutEchos"] == 1
    # h2's history is its own: its first nstat shows its absolute counters
    assert _lines(run_ok(h2, "nstat"))["IcmpInEchos"] == 3
    # `nstat Icmp*` kept the history of the counters it did not show (IpInReceives 2, not 3)
    assert run_ok(h1, "cat /tmp/.nstat.u0").startswith("#kernel\nIpInReceives                    2 ")


def test_ignore_noupdate_reset_zeros_and_patterns(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2 && nstat -n")
    assert _lines(run_ok(h1, "nstat -as icmpoute*"))["IcmpOutEchos"] == 1     # fnmatch, case-insensitive
    assert run_ok(h1, "nstat -s") == "#kernel\n"
    zeros = _lines(run_ok(h1, "nstat -asz 'Udp*'"))
    assert list(zeros)[:3] == ["UdpInDatagrams", "UdpNoPorts", "UdpInErrors"] and "Udp6InDatagrams" in zeros
    run_ok(h1, "nstat -rn")      # history reset and written again: nothing new since
    assert run_ok(h1, "nstat") == "#kernel\n"


def test_patterns_keep_the_others_history(two_hosts):
    """dump_kern_db(hist, 1): a counter the patterns leave out keeps its old history value."""
    net, h1, _ = two_hosts
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2; nstat -n; ping -c 1 -W 1 10.0.0.2")
    assert set(_lines(run_ok(h1, "nstat 'Icmp*'"))) == {"IcmpInMsgs", "IcmpInEchoReps", "IcmpOutMsgs",
                                                       "IcmpOutEchos", "IcmpMsgInType0", "IcmpMsgOutType8"}
    assert _lines(run_ok(h1, "nstat IpInReceives"))["IpInReceives"] == 1


def test_json_and_pretty(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2")
    one = run_ok(h1, "nstat -as --json IcmpMsg*")
    assert one == '{"kernel":{"IcmpMsgInType0":1,"IcmpMsgOutType8":1}}\n'
    assert run_ok(h1, "nstat -sapj NoSuch") == '{\n    "kernel": {}\n}\n'
    pretty = run_ok(h1, "nstat -sapj IcmpMsg*")
    assert pretty == '{\n    "kernel": {\n        "IcmpMsgInType0": 1,\n        "IcmpMsgOutType8": 1\n    }\n}\n'
    assert json.loads(pretty) == json.loads(one)


def test_history_file_from_the_environment_and_errors(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2 && NSTAT_HISTORY=/tmp/h nstat -n && test ! -e /tmp/.nstat.u0")
    assert "IpInReceives" in run_ok(h1, "cat /tmp/h")
    run_ok(h1, "printf '#kernel\\nIpInReceives oops\\n' > /tmp/bad")
    r = h1.run("NSTAT_HISTORY=/tmp/bad nstat")
    assert (r.status, r.output, r.error) == (254, "", "nstat.c:146: error parsing history file\n")
    run_ok(h1, "printf '#4242.1 sampling_interval=10 time_const=60\\nIpInReceives 1 0.0\\n' > /tmp/old")
    r = h1.run("NSTAT_HISTORY=/tmp/old nstat IpInReceives")
    assert (r.status, r.error) == (0, "nstat: history is stale, ignoring it.\n")
    assert _lines(r.output)["IpInReceives"] == 1


def test_options_refused_and_usage(two_hosts):
    net, h1, _ = two_hosts
    r = h1.run("nstat -d 10")
    assert (r.status, r.error) == (2, "netplex: nstat -d is not supported (the sampling daemon)\n")
    r = h1.run("nstat -x")
    assert r.status == 255 and r.error.startswith("nstat: invalid option -- 'x'\nUsage: nstat [OPTION]")
    assert h1.run("nstat -t 0").error == "nstat: invalid time constant divisor\n"
    assert h1.run("nstat -st 5").status == 0
    assert run_ok(h1, "nstat -V") == "nstat utility, iproute2-6.1.0\n"
    assert h1.run("nstat --help").status == 255


def test_proc_net_snmp_tables(two_hosts):
    net, h1, _ = two_hosts
    run_ok(h1, "ping -c 1 -W 1 10.0.0.2; ping -c 1 -W 1 10.9.9.9; true")
    snmp = run_ok(h1, "cat /proc/net/snmp").splitlines()
    assert snmp[0].split()[:4] == ["Ip:", "Forwarding", "DefaultTTL", "InReceives"]
    assert snmp[1].split()[:3] == ["Ip:", "2", "64"]
    assert "IcmpMsg: InType0 OutType8" in snmp
    assert "snmp" in run_ok(h1, "ls /proc/net").split()
    assert run_ok(h1, "grep -c Ip6 /proc/net/snmp6") == "33\n"   # as kernel 6.18
