"""`netplex mininet` and `netplex mn`: Mininet's own example scripts and mn's forms, run unchanged.

Outputs are compared with what Mininet prints (mininet/net.py, cli.py): the ping matrix,
`net`, `nodes`, `links`, `dump`. Refusals name the script's file and line.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex.cli import app

DATA = Path(__file__).resolve().parent.parent / "data" / "mininet"
runner = CliRunner()


def mininet(*args: str, stdin: str = "") -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), input=stdin)
    return r.exit_code, r.stdout, r.stderr


def test_mn_tree_pingall_matrix() -> None:
    status, _, err = mininet("mn", "--topo", "tree,2,2", "--switch", "ovsbr", "--test", "pingall")
    assert status == 0, err
    assert "*** Adding links:\n(s1, s2) (s1, s3) (s2, h1) (s2, h2) (s3, h3) (s3, h4) \n" in err
    assert ("*** Ping: testing ping reachability\nh1 -> h2 h3 h4 \nh2 -> h1 h3 h4 \nh3 -> h1 h2 h4 \n"
            "h4 -> h1 h2 h3 \n*** Results: 0% dropped (12/12 received)\n") in err


def test_mn_cli_commands_print_as_mininet() -> None:
    status, _, err = mininet("mn", "--topo", "single,2", "-v", "output",
                             stdin="net\nnodes\nlinks\ndump\nh1 ping -c1 h2\nexit\n")
    assert status == 0, err
    assert "h1 h1-eth0:s1-eth1\nh2 h2-eth0:s1-eth2\ns1 lo:  s1-eth1:h1-eth0 s1-eth2:h2-eth0\nc0\n" in err
    assert "available nodes are: \nc0 h1 h2 s1\n" in err
    assert "h1-eth0<->s1-eth1 (OK OK) \nh2-eth0<->s1-eth2 (OK OK) \n" in err
    assert "<Host h1: h1-eth0:10.0.0.1 pid=" in err and "<Controller c0: 127.0.0.1:6653 pid=" in err
    assert "1 packets transmitted, 1 received, 0% packet loss" in err   # h2 became 10.0.0.2


def test_mn_linear_with_tc_link_delay_shows_in_rtt() -> None:
    status, _, err = mininet("mn", "--topo", "linear,2", "--link", "tc,delay=10ms", "-v", "output",
                             stdin="h1 ping -c2 h2\n")
    assert status == 0, err
    rtt_min, _, rtt_max = (float(x) for x in err.split("rtt min/avg/max/mdev = ")[1].split("/")[:3])
    assert 60 <= rtt_min < 62            # three links, 10 ms each way (netem on each end in Mininet)
    assert 120 <= rtt_max < 122          # the first one waited for ARP: one more round trip


def test_mn_unknown_topo_and_refused_option() -> None:
    status, _, err = mininet("mn", "--topo", "ring,3", "--test", "pingall")
    assert status == 2 and "Invalid topo name ring" in err
    status, _, err = mininet("mn", "--nat")
    assert status == 2 and "--nat is not supported" in err


@pytest.mark.parametrize("name", ["emptynet", "multitest", "controllers", "multilink", "bind"])
def test_mininet_examples_run(name: str) -> None:
    status, _, err = mininet("mininet", str(DATA / f"{name}.py"))
    assert status == 0, err
    assert "Traceback" not in err


def test_multitest_pingall_through_tree() -> None:
    status, _, err = mininet("mininet", str(DATA / "multitest.py"))
    assert status == 0
    assert "*** Results: 0% dropped (12/12 received)" in err


def test_linuxrouter_routes_between_three_subnets() -> None:
    status, _, err = mininet("mininet", str(DATA / "linuxrouter.py"), stdin="pingall\nh1 ip route\n")
    assert status == 0, err
    assert "r0 -> h1 h2 h3 \n*** Results: 0% dropped (12/12 received)" in err   # r0 is a host too
    assert "default via 192.168.1.1 dev h1-eth0" in err
    assert "172.16.0.0      0.0.0.0         255.240.0.0     U     0      0        0 r0-eth2" in err  # `route` on r0


def test_simpleperf_iperf_udp_over_lossy_shaped_links() -> None:
    status, out, err = mininet("mininet", str(DATA / "simpleperf.py"))
    assert status == 0, err
    res = err.split("*** Results: ")[1].splitlines()[0]
    server = float(res.split("'")[3].split()[0])
    assert 3.0 < server < 9.0             # 10 Mbit/s links, 10 % loss on each of two links (lossless: 9.7)


def test_treeping64_all_hosts_reach_each_other() -> None:
    status, _, err = mininet("mininet", str(DATA / "treeping64.py"))
    assert status == 0, err
    assert "Open vSwitch kernel: 0% packet loss" in err


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "lab.py"
    p.write_text(text)
    return p


def test_unsupported_api_names_file_and_line(tmp_path: Path) -> None:
    p = write(tmp_path, "from mininet.net import Mininet\nnet = Mininet()\nnet.addHost('h1')\n"
                        "net.addNAT().configDefault()\n")
    status, _, err = mininet("mininet", str(p))
    assert status == 2
    assert err.startswith(f"{p}:4: addNAT: netplex: addNAT connects the network")


def test_missing_mininet_module_and_syntax_error(tmp_path: Path) -> None:
    p = write(tmp_path, "from mininet.term import makeTerm\n")
    status, _, err = mininet("mininet", str(p))
    assert status == 2 and err.startswith(f"{p}:1: import: netplex: mininet.term is not supported")
    p = write(tmp_path, "from mininet.net import Mininet\nnet = Mininet(\n")
    status, _, err = mininet("mininet", str(p))
    assert status == 2 and f"{p}:2: syntax: " in err


def test_bad_node_name_and_asymmetric_shaping(tmp_path: Path) -> None:
    p = write(tmp_path, "from mininet.net import Mininet\nnet = Mininet()\nnet.addHost('Web_1')\n")
    status, _, err = mininet("mininet", str(p))
    assert status == 2 and err.startswith(f"{p}:3: name: netplex: invalid node name \"Web_1\"")
    p = write(tmp_path, "from mininet.net import Mininet\nfrom mininet.link import TCLink, TCIntf\n"
                        "net = Mininet()\nh1, h2 = net.addHost('h1'), net.addHost('h2')\n"
                        "net.addLink(h1, h2, cls=TCLink, params1={'bw': 5}, params2={'bw': 10})\nnet.start()\n")
    status, _, err = mininet("mininet", str(p))
    assert status == 2 and f"{p}:5: TCLink: netplex: h1-eth0<->h2-eth0: different bw/delay/loss" in err


def test_script_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    p = write(tmp_path, "from mininet.net import Mininet\nnet = Mininet()\nnet.start()\nnet['h9'].cmd('true')\n")
    status, _, err = mininet("mininet", str(p))
    assert status == 1 and err.strip() == f"{p}:4: KeyError: 'h9'"


def test_sys_modules_are_restored(tmp_path: Path) -> None:
    import sys
    p = write(tmp_path, "import mininet.net\n")
    assert mininet("mininet", str(p))[0] == 0
    assert "mininet" not in sys.modules and "mininet.net" not in sys.modules


@pytest.mark.linux
@pytest.mark.parametrize("args", [("mn", "--topo", "tree,2,2", "--test", "pingall"),
                                  ("mininet", str(DATA / "linuxrouter.py"))])
def test_pingall_matrix_agrees_with_the_kernel(args: tuple[str, ...]) -> None:
    import os
    if os.geteuid() != 0:
        pytest.skip("the kernel twin needs root")
    stdin = "pingall\n"
    sim = mininet(*args, stdin=stdin)
    twin = mininet(*args, "--backend", "linux", stdin=stdin)
    assert sim[0] == twin[0] == 0, twin[2]

    def matrix(err: str) -> list[str]:
        return [line for line in err.splitlines() if " -> " in line or line.startswith("*** Results")]
    assert matrix(sim[2]) == matrix(twin[2]) and matrix(sim[2])


def test_ping_pair_full_and_runtime_bandwidth(tmp_path: Path) -> None:
    p = write(tmp_path, """from mininet.net import Mininet
from mininet.link import TCLink
from mininet.util import waitListening
net = Mininet()
h1, h2, s1 = net.addHost('h1'), net.addHost('h2'), net.addSwitch('s1')
link = net.addLink(h1, s1, cls=TCLink, delay='5ms')
net.addLink(h2, s1)
net.start()
net.pingPairFull()
link.intf1.config(bw=2)
print(h1.cmd('tc class show dev h1-eth0'))
print(net.iperf(seconds=2))
print(waitListening(h1, h2, 5001, timeout=2))
link.intf1.config(loss=10)
""")
    status, out, err = mininet("mininet", str(p))
    assert " h1->h2: 1/1, rtt min/avg/max/mdev " in err and " h2->h1: 1/1, " in err
    assert "class htb 5:1 root prio 0 rate 2Mbit" in out
    server_rate = float(out.splitlines()[-2].split("'")[1].split()[0])
    assert 1.5 < server_rate <= 2.0      # h1's egress now shaped to 2 Mbit/s
    assert out.splitlines()[-1] == "False"   # nothing listens on h2:5001
    assert status == 2 and f"{p}:14: TCIntf.config: netplex: h1-eth0: loss on a link made with delay" in err


def test_quietrun_asks_a_stand_in_machine_and_examples_import_siblings(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("from mininet.node import Host\n"
                                        "class QuietHost(Host):\n"
                                        "    def __init__(self, *a, **k):\n"
                                        "        super().__init__(*a, **k)\n"
                                        "        self.cmd('sysctl -w net.ipv4.ip_forward=1')\n")
    p = write(tmp_path, "from mininet.util import quietRun, errRun\n"
                        "from mininet.net import Mininet\n"
                        "from mininet.topo import SingleSwitchTopo\n"
                        "from mininet.examples.helper import QuietHost\n"
                        "print(repr(quietRun('which vconfig')))\n"
                        "print(errRun('ip link show eth7')[2])\n"
                        "net = Mininet(SingleSwitchTopo(2), host=QuietHost)\n"
                        "net.start()\n"
                        "print(net['h1'].cmd('sysctl -n net.ipv4.ip_forward').strip())\n"
                        "net.pingAll()\n")
    status, out, err = mininet("mininet", str(p))
    assert status == 0, err
    assert out.splitlines() == ["'vconfig\\n'", "1", "1"]   # netplex's vconfig; no eth7; HostV4-style sysctl ran
    assert "*** Results: 0% dropped (2/2 received)" in err
    status, _, err = mininet("mininet", str(write(tmp_path, "from mininet.net import Mininet\nMininet.init()\n")))
    assert status == 2 and "init: netplex: the low-level API" in err


def test_popen_and_pmonitor_read_finished_processes(tmp_path: Path) -> None:
    p = write(tmp_path, "from mininet.net import Mininet\nfrom mininet.topo import SingleSwitchTopo\n"
                        "from mininet.util import pmonitor\n"
                        "net = Mininet(SingleSwitchTopo(3))\nnet.start()\n"
                        "popens = {h: h.popen('ping -c2 %s' % net.hosts[0].IP()) for h in net.hosts[1:]}\n"
                        "for h, line in pmonitor(popens):\n"
                        "    print('<%s>: %s' % (h.name, line.strip()))\n"
                        "print(popens, net.hosts[1].popen(['ip', 'link', 'show', 'eth9']).wait())\n")
    status, out, err = mininet("mininet", str(p))
    assert status == 0, err
    assert "<h2>: 2 packets transmitted, 2 received, 0% packet loss, time 1000ms" in out
    assert "<h3>: 64 bytes from 10.0.0.1: icmp_seq=2 ttl=64 time=0.000 ms" in out
    assert out.splitlines()[-1] == "{} 1"     # every process read to its end; `ip` refused eth9


def test_vlanhost_tags_isolate_the_vlans() -> None:
    """vlanhost.py's hosts move their address onto a VLAN with `ifconfig` and `vconfig`: only
    hosts of the same VLAN (or both untagged) reach each other, as on Mininet."""
    status, _, err = mininet("mininet", str(DATA / "vlanhost.py"), stdin="pingall\nh1-100 ifconfig\n")
    assert status == 0, err
    assert ("h1 -> X X h2 X X \nh1-100 -> X X X h2-100 X \nh1-101 -> X X X X h2-101 \n"
            "h2 -> h1 X X X X \nh2-100 -> X h1-100 X X X \nh2-101 -> X X h1-101 X X \n"
            "*** Results: 80% dropped (6/30 received)\n") in err
    assert "h1-100-eth0.100: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n" \
           "        inet 10.0.0.2  netmask 255.0.0.0  broadcast 10.255.255.255\n" in err
    status, _, err = mininet("mininet", str(DATA / "vlanhost.py"), "1000", stdin="pingall\n")
    assert status == 0, err
    assert "*** Results: 0% dropped (2/2 received)" in err


def test_numberedports_ovs_ports_match_mininet_numbers() -> None:
    """numberedports.py asks `ovs-vsctl get Interface s1-eth9 ofport`: the OVS switch's OpenFlow
    port numbers are the ones Mininet gave (h5 on port 9), and the network pings as Mininet's."""
    status, _, err = mininet("mininet", str(DATA / "numberedports.py"))
    assert status == 0, err
    for port in (1, 2, 3, 4, 9):
        assert f"Validating that s1-eth{port} is actually on port {port} ... Validated.\n" in err
    assert "WARNING" not in err and "*** Results: 0% dropped (20/20 received)" in err
    status, _, err = mininet("mn", "--topo", "single,2", "--switch", "ovsk", "-v", "output",
                             stdin="s1 ovs-vsctl list-br\ns1 ovs-vsctl --columns=other_config list Bridge\n")
    assert status == 0, err
    assert 's1\nother_config        : {datapath-id="0000000000000001"}\n' in err


def test_intfoptions_reconfigures_a_running_link_with_htb_and_netem() -> None:
    """intfoptions.py: `intf.config(bw=10)`, then `loss=50`, then `delay='15ms'` on a running
    link, each replacing the last as Mininet's TCIntf.config does (htb 5:, netem 10:)."""
    status, _, err = mininet("mininet", str(DATA / "intfoptions.py"))
    assert status == 0, err
    tcp, udp, ping = err.split("*** Results: ")[2:5]
    assert tcp.startswith("['9.6 Mbits/sec'"), tcp                  # htb rate 10Mbit
    server = float(udp.split("'")[3].split()[0])
    assert 4.0 < server < 6.0, udp                                   # half the datagrams lost
    assert "h1->h2: 1/1, rtt min/avg/max/mdev 15.000/15.000/15.000" in ping   # netem on h1's side only
