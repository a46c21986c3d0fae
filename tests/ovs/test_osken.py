"""A real os-ken application (examples/osken/simple_switch_13.py, over OpenFlow 1.3 TCP)
driving netplex's simulated switch through `osken-manager`, and the same application
driving the real ovs-vswitchd (datapath_type=netdev) in a namespace: the hosts ping, the
flows the application installed, the statistics (MULTIPART flow and port stats) and the
PORT_STATUS messages it logged are compared. Skips naming os-ken when it is not installed."""
from __future__ import annotations

import re
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from netplex import Network
from netplex.ovs.connmgr import OfChannel
from netplex.ovs.openflow import OFPMP_AGGREGATE, OFPMP_FLOW, OFPMP_PORT_DESC, OFPT, FlowStatsRequest, PortDesc
from netplex.ovs.osken import LAUNCHER, osken_missing
from netplex.ovs.vswitchd import ovs_daemons
from netplex.twin.ovs import RealOvsLab, real_ovs_missing
from tests.conftest import run_ok

APP = str(Path(__file__).resolve().parents[2] / "examples" / "osken" / "simple_switch_13.py")
MACS = {"h1": "02:00:00:00:00:01", "h2": "02:00:00:00:00:02"}
# one port per transaction: OVS numbers the ports of one transaction in its name hash's order
SWITCH = ["ip link set lo up && ip link set p1 up && ip link set p2 up",
          "ovs-vsctl add-br br0 -- set-fail-mode br0 secure", "ovs-vsctl add-port br0 p1",
          "ovs-vsctl add-port br0 p2", "ovs-vsctl set-controller br0 tcp:127.0.0.1:6653"]
PORT_CHANGES = [("s1", "ip link set p2 down"), ("s1", "ip link set p2 up"), ("h2", "ip link set eth0 down"),
                ("h2", "ip link set eth0 up"), ("s1", "ovs-vsctl del-port br0 p2")]
PORT_STATUS_SEEN = [2, 4, 5, 6, 7]      # what the real ovs-vswitchd 3.1 sent, one line of the log each
HOST = "ip link set eth0 address {mac} && ip addr add {ip}/24 dev eth0 && ip link set eth0 up"


@pytest.fixture(autouse=True)
def _allow_apps(monkeypatch):
    """The application is a Python file: the user allows it (`netplex run --allow-apps`)."""
    monkeypatch.setenv("NETPLEX_ALLOW_APPS", "1")


def _need_osken() -> None:
    missing = osken_missing()
    if missing is not None:
        pytest.skip(missing)


def _log_lines(text: str, kinds: tuple[str, ...]) -> list[str]:
    """The application's own lines of these kinds, the datapath id taken out."""
    return [re.sub(r"dpid=[0-9a-f]{16}", "dpid=D", ln) for ln in text.splitlines() if ln.startswith(kinds)]


def _wait_log(read: Callable[[], str], kind: str, n: int, step: Callable[[], None] | None = None,
              timeout: float = 20.0) -> None:
    """Until the log has n lines of `kind` (os-ken writes from its own threads)."""
    deadline = time.monotonic() + timeout
    while len(_log_lines(read(), (kind,))) < n and time.monotonic() < deadline:
        if step is not None:
            step()
        time.sleep(0.05)


def _sim():
    net = Network()
    s1, h1, h2 = (net.add_node(n) for n in ("s1", "h1", "h2"))
    net.add_link("h1:eth0", "s1:p1")
    net.add_link("h2:eth0", "s1:p2")
    for i, h in enumerate((h1, h2), 1):
        run_ok(h, HOST.format(mac=MACS[h.name], ip=f"10.0.0.{i}"))
    run_ok(s1, f"osken-manager --log-file /tmp/osken.log {APP} &")
    for line in SWITCH:
        run_ok(s1, line)
    net.run_for(1_000_000_000)

    def log() -> str:
        return s1.run("cat /tmp/osken.log").output

    return net, s1, h1, h2, log


def test_a_real_os_ken_app_drives_the_simulated_switch():
    _need_osken()
    net, s1, h1, h2, log = _sim()
    try:
        assert "is_connected: true" in run_ok(s1, "ovs-vsctl show")
        assert run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats") == \
            " priority=0 actions=CONTROLLER:65535\n"                 # the app's table-miss flow
        r = h1.run("ping -c 2 10.0.0.2")
        assert r.status == 0 and "2 received" in r.output, r.output
        flows = run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")
        assert (" priority=1,in_port=2,dl_src=02:00:00:00:00:02,dl_dst=02:00:00:00:00:01 actions=output:1\n"
                in flows)
        assert (" priority=1,in_port=1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02 actions=output:2\n"
                in flows)
        assert "osken-manager --log-file" in run_ok(s1, "ps aux")
        # MULTIPART: os-ken decoded the switch's flow and port statistics
        _wait_log(log, "port-stats", 6, lambda: net.run_for(100_000_000))
        stats = _log_lines(log(), ("flow-stats", "port-stats"))
        assert "flow-stats dpid=D table=0 priority=0 any packets=2 bytes=84" in stats       # the two ARPs
        assert "port-stats dpid=D port=4294967294 rx_packets=0 tx_packets=0 rx_bytes=0 tx_bytes=0" in stats
        assert any(s.startswith("port-stats dpid=D port=1 ") for s in stats)
        # PORT_STATUS: a port going down and up, its peer's carrier lost and back, the port deleted
        for n, (node, line) in enumerate(PORT_CHANGES, 1):
            run_ok({"s1": s1, "h2": h2}[node], line)
            _wait_log(log, "port-status", PORT_STATUS_SEEN[n - 1], lambda: net.run_for(100_000_000))
        up = "curr=0x840 speed=10000000"     # 10GB-FD COPPER, 10 Gbit/s
        assert _log_lines(log(), ("port-status",)) == [
            f"port-status dpid=D modify port=2 name=p2 config=0 link=up {up}",
            f"port-status dpid=D modify port=2 name=p2 config=PORT_DOWN link=down {up}",
            f"port-status dpid=D modify port=2 name=p2 config=0 link=up {up}",
            f"port-status dpid=D modify port=2 name=p2 config=0 link=up {up}",
            f"port-status dpid=D modify port=2 name=p2 config=0 link=down {up}",
            f"port-status dpid=D modify port=2 name=p2 config=0 link=up {up}",
            f"port-status dpid=D delete port=2 name=p2 config=0 link=up {up}"]
        # the controller gone: the switch says so, and os-ken's process is gone with it
        run_ok(s1, "kill $(pidof osken-manager)")
        net.run_for(1_000_000_000)
        assert "is_connected" not in run_ok(s1, "ovs-vsctl show")
    finally:
        run_ok(s1, "kill $(pidof osken-manager) 2>/dev/null; true")
    assert not [ln for ln in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
                if "netplex-osken-" in ln and ln.endswith(APP)]


def test_osken_manager_errors(tmp_path, monkeypatch):
    net = Network()
    c0 = net.add_node("c0")
    monkeypatch.setenv("NETPLEX_ALLOW_APPS", "0")
    run_ok(c0, "mkdir -p /etc/osken && echo 'import os' > /etc/osken/app.py")
    for app in ("/etc/osken/app.py", APP, "app.py"):      # the node's file, the host's, a relative path
        r = c0.run(f"osken-manager {app} & wait $!")
        assert (r.status, r.error) == (1, f"osken-manager: {app}: an application file from the scenario runs only "
                                          "when allowed (netplex run --allow-apps)\n")
    assert "osken-manager" not in run_ok(c0, "ps aux")
    monkeypatch.setenv("NETPLEX_ALLOW_APPS", "1")
    r = c0.run("osken-manager --ofp-tcp-listen-port x app.py")
    assert (r.status, r.error) == (2, "osken-manager: error: argument --ofp-tcp-listen-port: Invalid value 'x'\n")
    r = c0.run("osken-manager --ofp-ssl-listen-port 6654 app.py")
    assert r.status == 2 and r.error == "netplex: osken-manager --ofp-ssl-listen-port is not supported " \
                                        "(TCP listening only)\n"
    if osken_missing() is None:
        r = c0.run(f"osken-manager {tmp_path}/no_such_app.py")
        assert r.status == 1 and "No module named" in r.error, r.error
        assert "osken-manager" not in run_ok(c0, "ps aux")


@pytest.mark.linux
def test_the_same_app_drives_the_real_ovs_vswitchd(tmp_path):
    """The twin: os-ken inside the switch's namespace, the real ovs-vswitchd 3.1 (netdev
    datapath) connecting to it; the same pings, flows and statistics as the simulator's."""
    _need_osken()
    missing = real_ovs_missing()
    if missing is not None:
        pytest.skip(missing)
    lab = RealOvsLab(["s1", "h1", "h2"], [("s1:p1", "h1:eth0", MACS["h1"]), ("s1:p2", "h2:eth0", MACS["h2"])])
    real_log = tmp_path / "real.log"

    def real_text() -> str:
        return real_log.read_text() if real_log.exists() else ""

    osken = None
    try:
        for node, i in (("h1", 1), ("h2", 2)):
            assert lab.run(node, HOST.format(mac=MACS[node], ip=f"10.0.0.{i}"))[0] == 0
        for node in ("h1", "h2"):          # tx offloads off, as OVS's own system-userspace tests do
            lab.run(node, "ethtool -K eth0 tx off >/dev/null 2>&1")
        osken = subprocess.Popen(["ip", "netns", "exec", lab.ns("s1"), sys.executable, str(LAUNCHER),
                                  "--ofp-listen-host", "127.0.0.1", "--ofp-tcp-listen-port", "6653",
                                  "--log-file", str(real_log), "--nouse-stderr", APP],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for line in SWITCH:
            assert lab.run("s1", line)[0] == 0, line
        _wait_log(real_text, "switch", 1)
        time.sleep(0.3)         # the table-miss flow on its way
        status, out, _ = lab.run("h1", "ping -c 2 -W 2 10.0.0.2")
        assert status == 0, out
        real_flows = sorted(lab.run("s1", "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")[1].splitlines())
        _wait_log(real_text, "port-stats", 6)
        for n, (node, line) in enumerate(PORT_CHANGES, 1):
            lab.run(node, line)
            # the real switch's second MODIFY of `ip link set p2 up` can come late (before the next one)
            _wait_log(real_text, "port-status", PORT_STATUS_SEEN[n - 1], timeout=2.0)
        _wait_log(real_text, "port-status", PORT_STATUS_SEEN[-1])
    finally:
        if osken is not None:
            osken.terminate()
            osken.wait(10)
        lab.close()
    net, s1, h1, _h2, log = _sim()
    try:
        r = h1.run("ping -c 2 10.0.0.2")
        assert r.status == 0
        sim_flows = sorted(run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats").splitlines())
        _wait_log(log, "port-stats", 6, lambda: net.run_for(100_000_000))
        for n, (node, line) in enumerate(PORT_CHANGES, 1):
            run_ok({"s1": s1, "h2": _h2}[node], line)
            _wait_log(log, "port-status", PORT_STATUS_SEEN[n - 1], lambda: net.run_for(100_000_000))
            net.run_for(1_000_000_000)
    finally:
        run_ok(s1, "kill $(pidof osken-manager) 2>/dev/null; true")
    assert sim_flows == real_flows
    kinds = ("flow ", "flow-stats", "port-stats", "port-status")
    assert _log_lines(log(), kinds) == _log_lines(real_text(), kinds)


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "osken" / "sdn-os-ken.yaml"


def test_sdn_os_ken_example_on_the_simulator(differential):
    _need_osken()
    result = differential.sim(EXAMPLE)
    assert result.passed, [p.to_json() for p in result.probes if not p.passed]


@pytest.mark.linux
def test_sdn_os_ken_example_agrees_with_the_twin(differential):
    """The example on the kernel twin (os-ken in c0's namespace, the real ovs-vswitchd on s1)."""
    _need_osken()
    differential.assert_agree(EXAMPLE, tools=("ovs-vswitchd", "ethtool"))


def test_multipart_replies_on_the_wire(ovs_lab):
    """The switch's MULTIPART replies as the OpenFlow 1.3 specification lays them out (read back
    with os-ken's own parser where it is installed): 1,500 flows are more than one message holds,
    so the reply comes in parts flagged OFPMPF_REPLY_MORE; an unknown type gets OFPT_ERROR."""
    net, s1, _h1, _h2 = ovs_lab
    flows = "".join(f"priority={i},ip,nw_dst=10.1.{i // 256}.{i % 256},actions=output:2\n" for i in range(1, 1501))
    s1.machine.fs.write_bytes("/tmp/flows", flows.encode())
    run_ok(s1, "ovs-ofctl add-flows br0 /tmp/flows && ping -c1 -W1 10.0.0.9 >/dev/null; true")
    _server, vsd = ovs_daemons(s1.machine)
    xb = vsd.bridges["br0"]
    ch = OfChannel(vsd, xb, "tcp:", vsd.packet_out)      # a target that never connects: replies kept
    sent: list[bytes] = []
    ch.send = sent.append
    ch.handle(OFPT["MULTIPART_REQUEST"], 5, struct.pack("!HH4x", OFPMP_FLOW, 0) + FlowStatsRequest().encode())
    assert len(sent) == 3 and all(len(m) <= 0xFFFF for m in sent)
    flags = [struct.unpack_from("!HH", m, 8) for m in sent]
    assert flags == [(OFPMP_FLOW, 1), (OFPMP_FLOW, 1), (OFPMP_FLOW, 0)]
    ch.handle(OFPT["MULTIPART_REQUEST"], 6, struct.pack("!HH4x", OFPMP_PORT_DESC, 0))
    ports = sent[3][16:]
    assert [PortDesc.decode(ports[i:i + 64]).name for i in range(0, len(ports), 64)] == ["p1", "p2", "br0"]
    ch.handle(OFPT["MULTIPART_REQUEST"], 7, struct.pack("!HH4x", 99, 0))
    assert sent[4][:12] == struct.pack("!BBHIHH", 4, OFPT["ERROR"], 12 + 16, 7, 1, 2)     # BAD_REQUEST, BAD_MULTIPART
    ch.handle(OFPT["MULTIPART_REQUEST"], 8, struct.pack("!HH4x", OFPMP_AGGREGATE, 0) + FlowStatsRequest().encode())
    assert struct.unpack_from("!QQI", sent[5], 16)[2] == 1501      # and the default NORMAL flow
    if osken_missing() is not None:
        return
    from os_ken.ofproto import ofproto_parser, ofproto_v1_3, ofproto_v1_3_parser

    class Dp:       # what os-ken's parser asks of a datapath
        ofproto, ofproto_parser = ofproto_v1_3, ofproto_v1_3_parser

    bodies = []
    for m in sent[:3]:
        msg = ofproto_parser.msg(Dp(), *ofproto_parser.header(m), m)
        bodies += msg.body
    assert len(bodies) == 1501
    st = next(b for b in bodies if b.priority == 7)
    assert st.match["ipv4_dst"] == "10.1.0.7" and st.match["eth_type"] == 0x0800
    assert st.instructions[0].actions[0].port == 2
    pd = ofproto_parser.msg(Dp(), *ofproto_parser.header(sent[3]), sent[3])
    assert [(p.port_no, p.name, p.curr_speed) for p in pd.body] == [
        (1, b"p1", 10_000_000), (2, b"p2", 10_000_000), (0xFFFFFFFE, b"br0", 10_000_000)]


def test_flow_mods_with_actions_beyond_output(ovs_lab):
    """An os-ken application's FLOW_MOD and PACKET_OUT as os-ken encodes them (its own
    serializer): SET_FIELD, PUSH/POP_VLAN, DEC_NW_TTL, GROUP, SET_QUEUE, WRITE_METADATA and
    GOTO_TABLE, CLEAR_ACTIONS and WRITE_ACTIONS become the switch's actions as ovs-ofctl spells
    them; an action or instruction the switch cannot run gets OFPT_ERROR with the request, and
    nothing changes."""
    _need_osken()
    from os_ken.ofproto import ofproto_v1_3 as ofp
    from os_ken.ofproto import ofproto_v1_3_parser as parser

    class Dp:
        ofproto, ofproto_parser = ofp, parser

        def set_xid(self, msg):
            msg.set_xid(9)

    net, s1, _h1, _h2 = ovs_lab
    _server, vsd = ovs_daemons(s1.machine)
    ch = OfChannel(vsd, vsd.bridges["br0"], "tcp:", vsd.packet_out)
    sent: list[bytes] = []
    ch.send = sent.append

    def flow_mod(actions, *more, **kw):
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions), *more]
        msg = parser.OFPFlowMod(Dp(), instructions=inst, **kw)
        msg.set_xid(9)
        msg.serialize()
        ch.handle(OFPT["FLOW_MOD"], 9, bytes(msg.buf[8:]))

    flow_mod([parser.OFPActionSetField(eth_dst="02:00:00:00:00:09"), parser.OFPActionSetField(ipv4_src="10.9.9.9"),
              parser.OFPActionDecNwTtl(), parser.OFPActionSetQueue(3), parser.OFPActionOutput(2)],
             parser.OFPInstructionWriteMetadata(0x5, 0xff), parser.OFPInstructionGotoTable(1),
             priority=7, match=parser.OFPMatch(eth_type=0x800, ipv4_dst="10.0.0.2"))
    flow_mod([parser.OFPActionPushVlan(0x8100), parser.OFPActionPopVlan(), parser.OFPActionOutput(ofp.OFPP_FLOOD)],
             table_id=1, priority=3, match=parser.OFPMatch(in_port=1))
    assert sent == []
    flows = run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats").splitlines()
    assert (" priority=7,ip,nw_dst=10.0.0.2 actions=set_field:02:00:00:00:00:09->eth_dst,"
            "set_field:10.9.9.9->ip_src,dec_ttl,set_queue:3,output:2,write_metadata:0x5/0xff,goto_table:1") in flows
    assert " table=1, priority=3,in_port=1 actions=push_vlan:0x8100,pop_vlan,FLOOD" in flows
    # CLEAR_ACTIONS and WRITE_ACTIONS (ofpacts_pull_openflow_instructions takes them)
    flow_mod([], parser.OFPInstructionActions(ofp.OFPIT_WRITE_ACTIONS, [parser.OFPActionOutput(1)]),
             parser.OFPInstructionActions(ofp.OFPIT_CLEAR_ACTIONS, []), priority=11)
    assert sent == []
    assert " priority=11 actions=clear_actions,write_actions(output:1)" in run_ok(
        s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats").splitlines()
    # refused whole: an MPLS TTL action, a group that does not exist, an output to the controller
    # in an action set (OFPBAC_BAD_TYPE: ofpacts_decode_for_action_set)
    before = run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats")
    flow_mod([parser.OFPActionOutput(1), parser.OFPActionSetMplsTtl(5)], priority=9)
    flow_mod([parser.OFPActionGroup(77)], priority=9)
    flow_mod([], parser.OFPInstructionActions(ofp.OFPIT_WRITE_ACTIONS, [parser.OFPActionOutput(ofp.OFPP_CONTROLLER)]),
             priority=9)
    assert [struct.unpack_from("!BBHIHH", m, 0)[1:] for m in sent] == [
        (OFPT["ERROR"], len(sent[0]), 9, 2, 0), (OFPT["ERROR"], len(sent[1]), 9, 2, 9),
        (OFPT["ERROR"], len(sent[2]), 9, 2, 0)]
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == before
