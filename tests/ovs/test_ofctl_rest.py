"""ofctl_rest on netplex-controller, as an application calls it with curl: the JSON of os-ken's
ofctl_v1_3 (checked against os-ken's own ofctl_v1_3 on the same OpenFlow bytes when os-ken is
installed), the flow entries it sends (the same FLOW_MOD bytes os-ken's mod_flow_entry builds),
and its answers to bad requests."""
from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from netplex import Network
from netplex.ovs.controller import ControllerProgram
from netplex.ovs.ofapp import Runtime
from netplex.ovs.ofapps.ofctl_rest import flow_to_json
from netplex.ovs.openflow import OFPMP_FLOW, FlowStatsRequest, Reader, decode_flow_stats, encode
from netplex.ovs.osken import osken_missing
from tests.conftest import run_ok
from tests.ovs.conftest import pings

URL = "http://192.168.0.100:8080"
HOST = "ip link set eth0 address {mac} && ip addr add {ip}/24 dev eth0 && ip link set eth0 up"
# ofctl_rest bodies a user POSTs: ofctl_v1_3's match names (old and OXM) and action types
ENTRIES = [
    {"priority": 100, "match": {"dl_type": 2048, "nw_src": "10.0.0.2"}, "actions": []},
    {"priority": 90, "cookie": 7, "idle_timeout": 30, "hard_timeout": 60, "table_id": 0,
     "match": {"in_port": 1, "dl_dst": "02:00:00:00:00:02", "dl_src": "02:00:00:00:00:00/ff:ff:ff:00:00:00"},
     "actions": [{"type": "OUTPUT", "port": 2}, {"type": "OUTPUT", "port": "CONTROLLER", "max_len": 128}]},
    {"priority": 80, "match": {"eth_type": 2048, "ipv4_dst": "10.0.0.0/24", "ip_proto": 6, "tcp_dst": 22},
     "actions": [{"type": "SET_FIELD", "field": "eth_dst", "value": "02:00:00:00:00:09"},
                 {"type": "DEC_NW_TTL"}, {"type": "OUTPUT", "port": "IN_PORT"}]},
    {"priority": 70, "match": {"dl_type": 2048, "nw_proto": 17, "tp_src": 53},
     "actions": [{"type": "PUSH_VLAN", "ethertype": 33024}, {"type": "SET_QUEUE", "queue_id": 1},
                 {"type": "OUTPUT", "port": 1}]},
    {"priority": 60, "match": {"dl_type": 2054, "nw_src": "10.0.0.1", "arp_op": 1},
     "actions": [{"type": "OUTPUT", "port": "FLOOD"}]},
    {"priority": 50, "match": {"dl_type": 2048, "ip_proto": 1, "icmpv4_type": 8, "ip_dscp": 46},
     "actions": [{"type": "WRITE_METADATA", "metadata": 5, "metadata_mask": 255}, {"type": "GOTO_TABLE", "table_id": 3}]},
    {"priority": 40, "match": {"dl_vlan": 10}, "actions": [{"type": "POP_VLAN"}, {"type": "OUTPUT", "port": "NORMAL"}]},
]


def rest_lab(apps: str = "simple_switch_13 ofctl_rest"):
    net = Network()
    c0, s1, h1, h2 = (net.add_node(n) for n in ("c0", "s1", "h1", "h2"))
    net.add_link("c0:eth0", "s1:mgmt")
    net.add_link("h1:eth0", "s1:p1")
    net.add_link("h2:eth0", "s1:p2")
    run_ok(c0, "ip link set lo up && ip addr add 192.168.0.100/24 dev eth0 && ip link set eth0 up")
    run_ok(c0, f"netplex-controller --log-file /tmp/c.log {apps} &")
    for i, h in enumerate((h1, h2), 1):
        run_ok(h, HOST.format(mac=f"02:00:00:00:00:0{i}", ip=f"10.0.0.{i}"))
    run_ok(s1, "ip addr add 192.168.0.1/24 dev mgmt && ip link set mgmt up && ip link set p1 up && ip link set p2 up")
    run_ok(s1, "ovs-vsctl add-br br0 -- set-fail-mode br0 secure -- add-port br0 p1")
    run_ok(s1, "ovs-vsctl add-port br0 p2 -- set-controller br0 tcp:192.168.0.100:6653")
    net.run_for(1_000_000_000)
    dpid = int(run_ok(s1, "ovs-vsctl get bridge br0 datapath_id").strip().strip('"'), 16)
    return net, c0, s1, h1, h2, dpid


def curl(node: Any, args: str) -> tuple[int, str]:
    """The HTTP status and body of `curl -s -w` (the status on the last line)."""
    out = run_ok(node, f"curl -s -w '\\n%{{http_code}}' {args}")
    body, _, code = out.rpartition("\n")
    return int(code), body


def test_a_flow_posted_blocks_a_host_and_shows_in_the_stats():
    net, c0, s1, h1, _h2, dpid = rest_lab()
    assert curl(c0, f"{URL}/stats/switches") == (200, json.dumps([dpid]))
    assert pings(h1, "10.0.0.2")
    body = json.dumps({"dpid": dpid, "priority": 100, "match": {"dl_type": 2048, "nw_src": "10.0.0.2"}})
    assert curl(c0, f"-d '{body}' {URL}/stats/flowentry/add") == (200, "")
    assert " priority=100,ip,nw_src=10.0.0.2 actions=drop\n" in run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 "
                                                                           "--no-stats")
    assert not pings(h1, "10.0.0.2")
    code, out = curl(c0, f"{URL}/stats/flow/{dpid}")
    flows = json.loads(out)[str(dpid)]
    drop = [f for f in flows if f["priority"] == 100]
    assert code == 200 and len(drop) == 1
    assert list(drop[0]) == ["priority", "cookie", "idle_timeout", "hard_timeout", "byte_count", "duration_sec",
                             "duration_nsec", "packet_count", "length", "flags", "actions", "match", "table_id"]
    assert (drop[0]["actions"], drop[0]["match"], drop[0]["packet_count"]) == \
        ([], {"dl_type": 2048, "nw_src": "10.0.0.2"}, 1)
    # a filter (POST /stats/flow) and the aggregate of what it selects
    filt = json.dumps({"match": {"dl_type": 2048, "nw_src": "10.0.0.2"}, "priority": 100})
    assert [f["priority"] for f in json.loads(curl(c0, f"-X POST -d '{filt}' {URL}/stats/flow/{dpid}")[1])[str(dpid)]] \
        == [100]
    assert json.loads(curl(c0, f"-d '{filt}' {URL}/stats/aggregateflow/{dpid}")[1]) == \
        {str(dpid): [{"packet_count": 1, "byte_count": 98, "flow_count": 1}]}
    # the flow deleted again (strictly), then every flow cleared: simple_switch_13 reinstalls nothing
    body = json.dumps({"dpid": dpid, "priority": 100, "match": {"dl_type": 2048, "nw_src": "10.0.0.2"}})
    assert curl(c0, f"-d '{body}' {URL}/stats/flowentry/delete_strict") == (200, "")
    assert pings(h1, "10.0.0.2")
    assert curl(c0, f"-X DELETE {URL}/stats/flowentry/clear/{dpid}") == (200, "")
    assert run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats") == ""
    assert json.loads(curl(c0, f"{URL}/stats/flow/{dpid}")[1]) == {str(dpid): []}


def test_switch_descriptions_and_ports():
    _net, c0, _s1, h1, _h2, dpid = rest_lab()
    assert pings(h1, "10.0.0.2")
    assert json.loads(curl(c0, f"{URL}/stats/desc/{dpid}")[1]) == {str(dpid): {
        "mfr_desc": "Nicira, Inc.", "hw_desc": "Open vSwitch", "sw_desc": "3.1.0", "serial_num": "None",
        "dp_desc": "None"}}
    ports = json.loads(curl(c0, f"{URL}/stats/port/{dpid}")[1])[str(dpid)]
    assert [p["port_no"] for p in ports] == [1, 2, "LOCAL"]
    assert ports[0]["rx_packets"] >= 2 and list(ports[0])[-1] == "port_no"
    assert [p["port_no"] for p in json.loads(curl(c0, f"{URL}/stats/port/{dpid}/2")[1])[str(dpid)]] == [2]
    desc = json.loads(curl(c0, f"{URL}/stats/portdesc/{dpid}")[1])[str(dpid)]
    assert [(p["port_no"], p["name"], p["state"]) for p in desc] == [(1, "p1", 4), (2, "p2", 4), ("LOCAL", "br0", 1)]


def test_bad_requests_get_ofctl_rest_answers():
    _net, c0, s1, _h1, _h2, dpid = rest_lab("ofctl_rest")
    good = json.dumps({"dpid": dpid, "match": {}, "actions": []})
    cases = [
        (f"-d '{{bad' {URL}/stats/flowentry/add", 400, ""),                     # ast.literal_eval: SyntaxError
        (f"-d '{{\"match\": {{}}}}' {URL}/stats/flowentry/add", 400, ""),        # no dpid
        (f"-d '{{\"dpid\": 99}}' {URL}/stats/flowentry/add", 404, ""),           # not connected
        (f"-d '{{\"dpid\": \"x1\"}}' {URL}/stats/flowentry/add", 400, ""),       # int(str(dpid), 0)
        (f"-d '{good}' {URL}/stats/flowentry/replace", 404, ""),                 # CommandNotFoundError
        (f"-d '{{\"dpid\": {dpid}, \"priority\": \"high\"}}' {URL}/stats/flowentry/add", 400, ""),
        (f"{URL}/stats/flow/99", 404, ""),
        (f"{URL}/stats/flow/0x{dpid:x}zz", 400, ""),
        (f"-X POST -d '{{\"match\": ' {URL}/stats/flow/{dpid}", 400, ""),        # req.json: ValueError
        (f"{URL}/stats/nothing/{dpid}", 404, "404 Not Found\n\nThe resource could not be found.\n\n   "),
        (f"-X PUT {URL}/stats/switches", 404, "404 Not Found\n\nThe resource could not be found.\n\n   "),
        (f"{URL}/stats/meter/{dpid}", 501, "netplex: ofctl_rest /stats/meter is not supported\n"),
    ]
    for args, code, body in cases:
        assert curl(c0, args) == (code, body), args
    assert curl(c0, f"{URL}/stats/flow/0x{dpid:x}")[0] == 200          # a dpid in hexadecimal
    log = run_ok(c0, "cat /tmp/c.log")
    assert "No such Datapath: 99\n" in log and "Cannot get dpid from request parameters\n" in log
    assert "Traceback" not in log
    # an unknown match field or action type is logged and left out, as ofctl_v1_3 does
    body = json.dumps({"dpid": dpid, "priority": 5, "match": {"in_port": 1, "colour": "red"},
                       "actions": [{"type": "OUTPUT", "port": 2}, {"type": "TELEPORT"}]})
    assert curl(c0, f"-d '{body}' {URL}/stats/flowentry/add") == (200, "")
    assert " priority=5,in_port=1 actions=output:2\n" in run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")
    log = run_ok(c0, "cat /tmp/c.log")
    assert "Unknown match field: colour\n" in log and "Unknown action type: TELEPORT\n" in log


# -- os-ken's ofctl_v1_3 as the oracle ------------------------------------------------------------
def _need_osken() -> None:
    missing = osken_missing()
    if missing is not None:
        pytest.skip(missing)


class _OsKenDp:
    """What os-ken's ofctl_v1_3 needs of a Datapath: its id, ofproto, xids, and where messages go;
    a stats request is answered with `replies` (raw OpenFlow messages), parsed by os-ken."""

    def __init__(self, dpid: int, replies: list[bytes] | None = None) -> None:
        from os_ken.ofproto import ofproto_v1_3, ofproto_v1_3_parser
        self.id = dpid
        self.ofproto = ofproto_v1_3
        self.ofproto_parser = ofproto_v1_3_parser
        self.xid = 0
        self.sent: list[bytes] = []
        self.replies = replies or []
        self.waiters: dict[int, dict[int, Any]] = {}

    def set_xid(self, msg: Any) -> int:
        self.xid += 1
        msg.set_xid(self.xid)
        return self.xid

    def send_msg(self, msg: Any) -> None:
        from os_ken.ofproto import ofproto_parser
        msg.serialize()
        self.sent.append(bytes(msg.buf))
        waiting = self.waiters.get(self.id, {}).get(msg.xid)
        if waiting is not None:
            for raw in self.replies:
                version, mtype, length, _xid = struct.unpack_from("!BBHI", raw, 0)
                waiting[1].append(ofproto_parser.msg(self, version, mtype, length, msg.xid, raw))
            waiting[0].set()


def test_flow_entries_are_the_flow_mods_os_ken_sends():
    """Each body through ofctl_rest gives the FLOW_MOD bytes os-ken's ofctl_v1_3.mod_flow_entry gives."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3
    for entry in ENTRIES:
        oracle = _OsKenDp(1)
        ofctl_v1_3.mod_flow_entry(oracle, json.loads(json.dumps(entry)), oracle.ofproto.OFPFC_ADD)
        ours = _rest_flow_mod({"dpid": 1, **entry})
        assert ours == oracle.sent[0][:4] + ours[4:8] + oracle.sent[0][8:], entry


class _Capture:
    """A Host for the runtime alone: the switch's side is a stream that keeps what is sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.lines: list[str] = []
        self.timers: list[tuple[int, Any, tuple[Any, ...]]] = []

    def now(self) -> int:
        return 0

    def call_later(self, delay_ns: int, fn: Any, *args: Any) -> None:
        self.timers.append((delay_ns, fn, args))

    def serve_tcp(self, addr: int, port: int, accept: Any) -> str | None:
        return None

    def log(self, text: str) -> None:
        self.lines.append(text)

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        pass


def _rest_flow_mod(body: dict[str, Any]) -> bytes:
    """The FLOW_MOD ofctl_rest sends a switch (dpid 1) for a POST /stats/flowentry/add body."""
    from netplex.ovs.ofapps.ofctl_rest import RestStatsApi
    host = _Capture()
    rt = Runtime(host, [RestStatsApi])
    conn = rt.accept(host)
    rt.handle(conn, 6, 2, struct.pack("!QIBB2xII", 1, 0, 254, 0, 0, 0))      # FEATURES_REPLY
    host.sent.clear()
    answers: list[tuple[int, bytes, str]] = []
    rest = rt.apps[0]
    assert isinstance(rest, RestStatsApi)
    rest.request("POST", "/stats/flowentry/add", json.dumps(body).encode(), lambda *a: answers.append(a))
    assert answers == [(200, b"", "text/html; charset=UTF-8")], (answers, host.lines)
    msgs = Reader().feed(b"".join(host.sent))
    assert len(msgs) == 1 and msgs[0][0] == 14
    return encode("FLOW_MOD", msgs[0][1], msgs[0][2])


def test_flow_stats_json_is_ofctl_v1_3s():
    """GET /stats/flow's JSON for the switch's own OFPMP_FLOW reply equals what os-ken's
    ofctl_v1_3.get_flow_stats makes of the same bytes."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3
    net, c0, s1, h1, _h2, dpid = rest_lab()
    assert pings(h1, "10.0.0.2")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-group br0 group_id=1,type=all,bucket=output:1")
    for entry in ENTRIES:
        assert curl(c0, f"-d '{json.dumps({'dpid': dpid, **entry})}' {URL}/stats/flowentry/add") == (200, ""), entry
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 priority=30,udp,actions=group:1,mod_tp_dst:99,output:2")
    proc = [p for p in c0.machine.procs if isinstance(p.program, ControllerProgram)][0]
    program = proc.program
    assert isinstance(program, ControllerProgram) and program.runtime is not None
    dp = program.runtime.datapaths[dpid]
    parts: list[list[bytes] | None] = []
    dp._multipart(OFPMP_FLOW, FlowStatsRequest().encode(), parts.append)
    net.run_for(10_000_000)
    assert parts and parts[0]
    ours = {str(dpid): [flow_to_json(s) for part in parts[0] for s in decode_flow_stats(part)]}
    raw = [encode("MULTIPART_REPLY", 1, struct.pack("!HH4x", OFPMP_FLOW, 0) + part) for part in parts[0]]
    oracle = _OsKenDp(dpid, raw)
    want = ofctl_v1_3.get_flow_stats(oracle, oracle.waiters, {})
    assert len(ours[str(dpid)]) == len(ENTRIES) + 4          # with simple_switch_13's three and the ovs-ofctl one
    assert json.loads(json.dumps(ours)) == json.loads(json.dumps(want))


def test_a_switch_that_does_not_answer_gives_an_empty_answer_in_time():
    """ofctl_utils.send_stats_request waits DEFAULT_TIMEOUT (1 s) for the reply, then answers with
    what it has: the HTTP request never hangs."""
    from netplex.ovs.ofapps.ofctl_rest import RestStatsApi
    host = _Capture()
    rt = Runtime(host, [RestStatsApi])
    conn = rt.accept(host)
    rt.handle(conn, 6, 2, struct.pack("!QIBB2xII", 1, 0, 254, 0, 0, 0))      # FEATURES_REPLY, then silence
    rest = rt.apps[0]
    assert isinstance(rest, RestStatsApi)
    answers: list[tuple[int, bytes, str]] = []
    for path in ("/stats/flow/1", "/stats/desc/1"):
        rest.request("GET", path, b"", lambda *a: answers.append(a))
    assert answers == []
    assert [t[0] for t in host.timers] == [1_000_000_000, 1_000_000_000]
    for _delay, fn, args in host.timers:
        fn(*args)
        fn(*args)                   # a second firing (or a late reply) answers nothing more
    assert answers == [(200, b'{"1": []}', "application/json"), (200, b'{"1": {}}', "application/json")]
