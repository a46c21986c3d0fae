"""netplex-controller and its application API (netplex/ovs/ofapp.py), as a user drives them: the
launcher command on a node, built-in applications by name, an application file of the scenario
(only with --allow-apps), its handlers for switch, packet, port and stats events, and the errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netplex import Network
from tests.conftest import run_ok
from tests.ovs.conftest import pings

ROOT = Path(__file__).resolve().parents[2]
HOST = "ip link set eth0 address {mac} && ip addr add {ip}/24 dev eth0 && ip link set eth0 up"

# an application a user writes: os-ken's shape, netplex's API
EVENTS_APP = '''
from netplex.ovs.ofapp import (OFPCML_NO_BUFFER, OFPP_CONTROLLER, OFPP_FLOOD, App, FlowRemoved, PacketIn,
                               PortStatus, SwitchEnter, SwitchFeatures, SwitchLeave, match, on, output)


class Watcher(App):
    @on(SwitchFeatures)
    def features(self, ev):
        self.log(f"features dpid={ev.datapath_id:x} tables={ev.n_tables}")
        ev.dp.send_flow_mod(match(), [output(OFPP_CONTROLLER, OFPCML_NO_BUFFER)], priority=0)
        ev.dp.send_barrier(lambda: self.log("barrier"))

    @on(SwitchEnter)
    def enter(self, ev):
        self.log("enter " + ",".join(f"{n}={p.name}" for n, p in sorted(ev.dp.ports.items())))
        ev.dp.request_flow_stats(lambda fl: self.log(f"flows {[(f.priority, f.acts) for f in fl]}"))
        ev.dp.request_desc(lambda d: self.log(f"desc {d['hw_desc']} {d['sw_desc']}"))

    @on(PacketIn)
    def packet_in(self, ev):
        self.log(f"packet_in port={ev.in_port} len={len(ev.data)}")
        ev.dp.send_packet_out(ev.in_port, [output(OFPP_FLOOD)], ev.data)
        if ev.data[12:14] == b"\\x08\\x00":
            ev.dp.send_flow_mod(match(in_port=ev.in_port, eth_type=0x0800), [output(OFPP_FLOOD)], priority=5,
                                hard_timeout=1, flags=1)

    @on(PortStatus)
    def port_status(self, ev):
        p = ev.port
        self.log(f"port_status reason={ev.reason} {p.name} state={p.state} config={p.config}"
                 f" no={p.port_no} curr={p.curr:#x} adv={p.advertised:#x} sup={p.supported:#x} peer={p.peer:#x}"
                 f" speed={p.curr_speed}/{p.max_speed} hw={p.hw_addr.hex(':')}")
        ev.dp.request_port_stats(lambda ps: self.log(f"port_stats {sorted(p.port_no for p in ps)}"))

    @on(FlowRemoved)
    def removed(self, ev):
        self.log(f"flow_removed priority={ev.priority} reason={ev.reason} packets={ev.packet_count}")

    @on(SwitchLeave)
    def leave(self, ev):
        self.log(f"leave {ev.dp.id:x}")


class Broken(App):
    @on(PacketIn)
    def packet_in(self, ev):
        raise RuntimeError("the app's own bug")
'''


def lab(app_line: str, switches: int = 1):
    """c0 (192.168.0.100) runs `app_line`; s1 (and s2) secure bridges whose controller it is; h1 and
    h2 on s1 (h2 on s2 with two switches)."""
    net = Network()
    c0, h1, h2 = net.add_node("c0"), net.add_node("h1"), net.add_node("h2")
    sw = [net.add_node(f"s{i}") for i in range(1, switches + 1)]
    run_ok(c0, "ip link set lo up")
    for i, s in enumerate(sw):
        net.add_link(f"c0:eth{i}", f"{s.name}:mgmt")
        run_ok(c0, f"ip addr add 192.168.{i}.100/24 dev eth{i} && ip link set eth{i} up")
    net.add_link("h1:eth0", "s1:p1")
    net.add_link("h2:eth0", f"s{switches}:p2" if switches == 1 else "s2:p1")
    if switches == 2:
        net.add_link("s1:p2", "s2:p2")
    for i, h in enumerate((h1, h2), 1):
        run_ok(h, HOST.format(mac=f"02:00:00:00:00:0{i}", ip=f"10.0.0.{i}"))
    c0.machine.fs.write("/etc/app.py", EVENTS_APP.encode())
    if app_line:
        run_ok(c0, app_line)
    for i, s in enumerate(sw):
        run_ok(s, f"ip addr add 192.168.{i}.1/24 dev mgmt && ip link set mgmt up && ip link set p1 up "
                  "&& ip link set p2 up")
        run_ok(s, "ovs-vsctl add-br br0 -- set-fail-mode br0 secure -- add-port br0 p1")
        run_ok(s, f"ovs-vsctl add-port br0 p2 -- set-controller br0 tcp:192.168.{i}.100:6653")
    net.run_for(1_000_000_000)
    return net, c0, sw, h1, h2


def test_simple_switch_13_programs_two_switches():
    net, c0, (s1, s2), h1, _h2 = lab("netplex-controller --log-file /tmp/c.log os_ken.app.simple_switch_13 &", 2)
    assert "netplex-controller --log-file /tmp/c.log os_ken.app.simple_switch_13" in run_ok(c0, "ps aux")
    for s in (s1, s2):
        assert run_ok(s, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats") == " priority=0 actions=CONTROLLER:65535\n"
    assert pings(h1, "10.0.0.2")
    for s in (s1, s2):       # os-ken's simple_switch_13 flows (tests/ovs/test_osken.py has the real app's)
        flows = run_ok(s, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")
        assert " priority=1,in_port=1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02 actions=output:2\n" in flows \
            or " priority=1,in_port=2,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02 actions=output:1\n" in flows
    log = run_ok(c0, "cat /tmp/c.log").splitlines()
    assert len([ln for ln in log if ln.startswith("packet in ")]) == 6
    assert all(ln.split()[3] in ("02:00:00:00:00:01", "02:00:00:00:00:02") for ln in log)
    # the controller killed: the switches lose it, and keep what it installed (fail-mode secure)
    run_ok(c0, "kill $(pidof netplex-control)")
    net.run_for(1_000_000_000)
    assert "is_connected" not in run_ok(s1, "ovs-vsctl show")
    assert pings(h1, "10.0.0.2")


def test_simple_hub_floods_through_the_controller():
    _net, _c0, (s1,), h1, _h2 = lab("netplex-controller simple_hub &")
    assert pings(h1, "10.0.0.2")
    assert run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats") == " priority=0 actions=CONTROLLER:65535\n"


def test_an_application_file_runs_only_when_allowed(monkeypatch):
    monkeypatch.delenv("NETPLEX_ALLOW_APPS", raising=False)
    _net, c0, (s1,), h1, _h2 = lab("")
    r = c0.run("netplex-controller /etc/app.py & wait $!")
    assert (r.status, r.output, r.error) == (1, "", "netplex-controller: /etc/app.py: an application file from the "
                                                    "scenario runs only when allowed (netplex run --allow-apps)\n")
    assert "netplex-control" not in run_ok(c0, "ps ax")
    assert not pings(h1, "10.0.0.2")


def test_the_api_events_and_requests(monkeypatch):
    monkeypatch.setenv("NETPLEX_ALLOW_APPS", "1")
    net, c0, (s1,), h1, h2 = lab("netplex-controller --log-file /tmp/c.log /etc/app.py &")
    assert pings(h1, "10.0.0.2")
    run_ok(s1, "ip link set p2 down")
    net.run_for(2_000_000_000)          # the hard timeout of the app's flow (send_flow_rem)
    # a deleted flow with send_flow_rem: FLOW_REMOVED with OFPRR_DELETE; without the flag, none
    run_ok(s1, "ovs-ofctl add-flow br0 priority=7,udp,send_flow_rem,actions=drop")
    run_ok(s1, "ovs-ofctl add-flow br0 priority=8,udp,actions=drop")
    run_ok(s1, "ovs-ofctl del-flows br0 udp")
    run_ok(s1, "ovs-ofctl add-flow br0 priority=9,tcp,send_flow_rem,actions=drop")
    run_ok(s1, "ovs-ofctl --strict del-flows br0 priority=9,tcp")
    net.run_for(100_000_000)
    run_ok(s1, "ovs-vsctl del-controller br0")
    net.run_for(500_000_000)
    log = run_ok(c0, "cat /tmp/c.log").splitlines()
    dpid = s1.run("ovs-vsctl get bridge br0 datapath_id").output.strip().strip('"').lstrip("0")
    assert log[:5] == [f"features dpid={dpid} tables=254", "barrier", "enter 1=p1,2=p2,4294967294=br0",
                       "flows [(0, [('output', 4294967293, 65535)])]", "desc Open vSwitch 3.1.0"]
    assert "packet_in port=1 len=42" in log         # h1's ARP request
    assert "packet_in port=1 len=98" in log         # its echo request
    # `ip link set p2 down` (as the real 3.1): not live any more with the old config, then down
    assert [ln.split(" no=")[0] for ln in log if ln.startswith("port_status")] == [
        "port_status reason=2 p2 state=0 config=0", "port_status reason=2 p2 state=1 config=1"]
    assert [ln for ln in log if ln.startswith("port_status")][0].split(" hw=")[0].endswith(
        " no=2 curr=0x840 adv=0x0 sup=0x0 peer=0x0 speed=10000000/0")       # 10GB-FD, copper: a veth
    assert "port_stats [1, 2, 4294967294]" in log
    assert log.count("flow_removed priority=5 reason=0 packets=0") == 0
    assert log.count("flow_removed priority=5 reason=1 packets=0") == 2     # OFPRR_HARD_TIMEOUT, both directions
    assert [ln for ln in log if "reason=2" in ln and ln.startswith("flow_removed")] == [
        "flow_removed priority=7 reason=2 packets=0", "flow_removed priority=9 reason=2 packets=0"]   # OFPRR_DELETE
    assert log[-1] == f"leave {dpid}"


def test_a_handler_that_raises_is_logged_and_the_others_run(monkeypatch):
    monkeypatch.setenv("NETPLEX_ALLOW_APPS", "1")
    _net, c0, _sw, h1, _h2 = lab("netplex-controller --log-file /tmp/c.log /etc/app.py &")
    assert pings(h1, "10.0.0.2")        # Watcher still floods
    assert "Broken.packet_in: RuntimeError: the app's own bug" in run_ok(c0, "cat /tmp/c.log")


def test_launcher_errors(monkeypatch):
    monkeypatch.setenv("NETPLEX_ALLOW_APPS", "1")
    net = Network()
    c0 = net.add_node("c0")
    usage = ("usage: netplex-controller [--ofp-tcp-listen-port N] [--ofp-listen-host IP] [--wsapi-port N] "
             "[--wsapi-host IP] [--log-file PATH] APP...\n")
    cases = {
        "netplex-controller &": (2, usage + "netplex-controller: error: no application given\n"),
        "netplex-controller --bogus simple_hub &": (2, usage + "netplex-controller: error: unrecognized arguments: "
                                                              "--bogus\n"),
        "netplex-controller --ofp-tcp-listen-port 0 simple_hub &":
            (2, usage + "netplex-controller: error: argument --ofp-tcp-listen-port: invalid value: '0'\n"),
        "netplex-controller --wsapi-host nowhere ofctl_rest &":
            (2, usage + "netplex-controller: error: argument --wsapi-host: invalid value: 'nowhere'\n"),
        "netplex-controller simple_hub": (2, "netplex: netplex-controller in the foreground would block; run it in "
                                             "the background with &\n"),
        "netplex-controller no_such_app &": (1, "netplex-controller: no application no_such_app (built-in: "
                                                "simple_switch_13, simple_hub, ofctl_rest; or a Python file on the "
                                                "node)\n"),
        "netplex-controller --log-file /nowhere/c.log simple_hub &":
            (1, "netplex-controller: [Errno 2] No such file or directory: '/nowhere/c.log'\n"),
    }
    for line, want in cases.items():
        r = c0.run(line + (" wait $!" if line.endswith("&") else ""))
        assert (r.status, r.error) == want, line
    c0.machine.fs.write("/etc/bad.py", b"from netplex.ovs.ofapp import App\n\nclass A(App)\n")
    c0.machine.fs.write("/etc/none.py", b"x = 1\n")
    c0.machine.fs.write("/etc/raises.py", b"import os\nraise ValueError('at import')\n")
    r = c0.run("netplex-controller /etc/bad.py & wait $!")
    assert (r.status, r.error) == (1, "netplex-controller: /etc/bad.py: line 3: SyntaxError: expected ':' "
                                      "(bad.py, line 3)\n")
    r = c0.run("netplex-controller /etc/none.py & wait $!")
    assert (r.status, r.error) == (1, "netplex-controller: /etc/none.py: defines no application (a subclass of "
                                      "netplex.ovs.ofapp.App)\n")
    r = c0.run("netplex-controller /etc/raises.py & wait $!")
    assert (r.status, r.error) == (1, "netplex-controller: /etc/raises.py: line 2: ValueError: at import\n")
    assert "netplex-control" not in run_ok(c0, "ps ax")
    run_ok(c0, "netplex-controller simple_hub &")
    r = c0.run("netplex-controller simple_switch_13 & wait $!")
    assert (r.status, r.error) == (1, "netplex-controller: [Errno 98] Address already in use: port 6653\n")
    assert len(run_ok(c0, "pidof netplex-control").split()) == 1


def test_allow_apps_on_the_command_line(tmp_path):
    """`netplex run --allow-apps` is what lets a scenario's application file run."""
    app = tmp_path / "app.py"
    app.write_text(EVENTS_APP)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: allow\nnodes:\n  c0:\n    files:\n      /etc/app.py: app.py\n    setup: |\n"
        "      netplex-controller /etc/app.py &\n"
        "probes:\n  - cmd: {node: c0, run: 'pidof netplex-control'}\n    expect_output: '2'\n")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    refused = subprocess.run([sys.executable, "-m", "netplex.cli", "run", str(scenario)], capture_output=True,
                             text=True, env=env, cwd=ROOT, timeout=120)
    assert refused.returncode != 0
    assert (f"netplex: {scenario}:7: c0 runs the scenario's Python file /etc/app.py, which runs only with "
            "--allow-apps\n") in refused.stderr
    allowed = subprocess.run([sys.executable, "-m", "netplex.cli", "run", "--allow-apps", str(scenario)],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


@pytest.mark.parametrize("name", ["simple_switch_13", "netplex.ovs.ofapps.simple_switch_13",
                                  "ryu.app.simple_switch_13"])
def test_builtin_names(name):
    _net, _c0, _sw, h1, _h2 = lab(f"netplex-controller {name} &")
    assert pings(h1, "10.0.0.2")


TWIN_SCENARIO = """name: ofapp-events
nodes:
  c0:
    files:
      /etc/app.py: app.py
    setup: |
      ip addr add 192.168.0.100/24 dev eth0
      ip link set eth0 up
      netplex-controller --log-file /tmp/c.log /etc/app.py &
  s1:
    setup: |
      ip addr add 192.168.0.1/24 dev mgmt
      ip link set mgmt up
      ip link set p1 up
      ip link set p2 up
      ovs-vsctl add-br br0 -- set-fail-mode br0 secure
      ovs-vsctl add-port br0 p1
      ovs-vsctl add-port br0 p2
      ovs-vsctl set-controller br0 tcp:192.168.0.100:6653
      sleep 2
  h1:
    setup: |
      ip link set eth0 address 02:00:00:00:00:01
      ip addr add 10.0.0.1/24 dev eth0
      ip link set eth0 up
  h2:
    setup: |
      ip link set eth0 address 02:00:00:00:00:02
      ip addr add 10.0.0.2/24 dev eth0
      ip link set eth0 up
links:
  - ends: [c0:eth0, s1:mgmt]
  - ends: [h1:eth0, s1:p1]
  - ends: [h2:eth0, s1:p2]
probes:
  - cmd: {node: c0, run: "sleep 1"}
  - ping: {from: h1, to: 10.0.0.2}
  - cmd: {node: s1, run: "sleep 3"}
  - cmd: {node: h2, run: "ip link set eth0 down; sleep 1"}
  - cmd: {node: c0, run: "grep '^port_status reason=2 p2 ' /tmp/c.log | grep -v ' state=0 config=0 '"}
  - cmd: {node: h2, run: "ip link set eth0 up; sleep 1"}
  - cmd: {node: c0, run: "grep '^port_status reason=2 p2 ' /tmp/c.log | grep -v ' state=0 config=0 '"}
  - cmd: {node: s1, run: "ovs-ofctl add-flow br0 priority=7,udp,send_flow_rem,actions=drop; ovs-ofctl del-flows br0 udp; sleep 0.5"}
  - cmd: {node: s1, run: "ovs-ofctl mod-port br0 p1 down; sleep 1"}
  - cmd: {node: c0, run: "grep '^port_status reason=2 p1 ' /tmp/c.log"}
  - cmd: {node: s1, run: "ovs-ofctl mod-port br0 p1 up; sleep 1"}
  - cmd: {node: c0, run: "grep '^port_status reason=2 p1 ' /tmp/c.log"}
  - cmd: {node: s1, run: "ip link set p1 down; sleep 1"}
  - cmd: {node: c0, run: "grep '^port_status reason=2 p1 ' /tmp/c.log"}
  - cmd: {node: s1, run: "ovs-ofctl mod-port br0 p9 down; ovs-ofctl mod-port br0 p1 foo; ovs-ofctl mod-port br0 p1"}
  - cmd: {node: s1, run: "ovs-vsctl del-controller br0; sleep 1"}
  - cmd: {node: c0, run: "grep -v '^features\\\\|^leave\\\\|^port_' /tmp/c.log"}
  - cmd: {node: c0, run: "grep -c '^port_status reason=2 p2 state=1 config=0 ' /tmp/c.log"}
    expect_output: "1"
  - cmd: {node: c0, run: "grep -c '^leave ' /tmp/c.log"}
    expect_output: "1"
"""


@pytest.mark.linux
def test_the_application_hears_the_same_from_the_real_ovs_vswitchd(differential, tmp_path, monkeypatch):
    """The events application on the kernel twin (netplex-controller over real sockets, the real
    ovs-vswitchd 3.1) logs what it logs on the simulator: ports, flow stats, desc, packet-ins, the
    FLOW_REMOVED of its timed-out and deleted flows, the PORT_STATUS of a carrier lost, the switch
    leaving; every PORT_STATUS of `ovs-ofctl mod-port down|up` and `ip link set down` on a port, and
    of its peer's carrier lost and back, whole (reason, port number, name, config, state, curr,
    advertised, supported, peer, speeds; the address as the harness normalises MACs). Left out: the
    first MODIFY with state 0 that the real switch sometimes sends as a carrier goes (netdev-linux's
    timing: ofproto-dpif's port_run may see the port not live before update_port sees LINK_DOWN)."""
    monkeypatch.setenv("NETPLEX_ALLOW_APPS", "1")
    (tmp_path / "app.py").write_text(EVENTS_APP)
    (tmp_path / "s.yaml").write_text(TWIN_SCENARIO)
    report = differential.assert_agree(tmp_path / "s.yaml", tools=("ovs-vswitchd",))
    assert report is not None
