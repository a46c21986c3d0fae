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
from netplex.ovs.ofapp import ErrorMsg, Runtime
from netplex.ovs.ofapps.ofctl_rest import flow_to_json
from netplex.ovs.openflow import OFPMP_FLOW, FlowStatsRequest, PortDesc, Reader, decode_flow_stats, encode
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
    # instructions in the user's order, APPLY_ACTIONS last (os-ken's); the switch answers in OVS's order
    {"priority": 45, "match": {"in_port": 2}, "actions": [{"type": "GOTO_TABLE", "table_id": 1},
                                                          {"type": "METER", "meter_id": 1},
                                                          {"type": "OUTPUT", "port": 1}]},
    {"priority": 35, "match": {"in_port": 1, "dl_type": 2048}, "actions": [{"type": "METER", "meter_id": "1"}]},
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
        (f"{URL}/stats/meterdesc/{dpid}", 501, ""),                # no get_meter_desc in ofctl_v1_3
        (f"{URL}/stats/queuedesc/{dpid}/ALL/1", 501, ""),
        (f"{URL}/stats/meterdesc/99", 404, ""),
        (f"{URL}/stats/tablefeatures/{dpid}", 501, "netplex: ofctl_rest /stats/tablefeatures is not supported\n"),
        (f"-d '{{\"dpid\": {dpid}, \"role\": \"BOSS\"}}' {URL}/stats/role", 500, ""),
        (f"-d '{{\"role\": \"MASTER\"}}' {URL}/stats/role", 400, ""),
        (f"-d '{{\"data\": 5}}' {URL}/stats/experimenter/{dpid}", 501, ""),       # data.encode: AttributeError
        (f"-d '{{\"data_type\": \"base64\", \"data\": \"a\"}}' {URL}/stats/experimenter/{dpid}", 400, ""),
        (f"-d '{good}' {URL}/stats/groupentry/replace", 404, ""),
        (f"-d '{good}' {URL}/stats/meterentry/replace", 404, ""),
        (f"-d '{{\"group_id\": 1}}' {URL}/stats/groupentry/add", 400, ""),
        (f"-d '{{\"dpid\": {dpid}, \"type\": \"ROUND_ROBIN\"}}' {URL}/stats/groupentry/add", 500, ""),
        (f"-d '{{\"dpid\": {dpid}, \"meter_id\": \"fast\"}}' {URL}/stats/meterentry/add", 500, ""),
        (f"-d '{{\"dpid\": {dpid}, \"bands\": [{{\"type\": \"DROP\", \"rate\": \"x\"}}]}}' "
         f"{URL}/stats/meterentry/add", 400, ""),
        (f"{URL}/stats/groupentry/add", 404, "404 Not Found\n\nThe resource could not be found.\n\n   "),
        (f"{URL}/stats/queue/{dpid}/1/2/3", 404, "404 Not Found\n\nThe resource could not be found.\n\n   "),
        (f"{URL}/stats/meter/{dpid}/x", 400, ""),
        (f"{URL}/stats/group/99", 404, ""),
    ]
    for args, code, body in cases:
        assert curl(c0, args) == (code, body), args
    assert curl(c0, f"{URL}/stats/flow/0x{dpid:x}")[0] == 200          # a dpid in hexadecimal
    log = run_ok(c0, "cat /tmp/c.log")
    assert "No such Datapath: 99\n" in log and "Cannot get dpid from request parameters\n" in log
    assert "Unsupported OF request in this version: 4\n" in log
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
    msg = _rest_message("/stats/flowentry/add", body)
    assert msg[1] == 14
    return msg


def test_flow_stats_json_is_ofctl_v1_3s():
    """GET /stats/flow's JSON for the switch's own OFPMP_FLOW reply equals what os-ken's
    ofctl_v1_3.get_flow_stats makes of the same bytes."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3
    net, c0, s1, h1, _h2, dpid = rest_lab()
    assert pings(h1, "10.0.0.2")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-group br0 group_id=1,type=all,bucket=output:1")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-meter br0 meter=1,pktps,band=type=drop,rate=10")
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


# -- groups, meters and queues --------------------------------------------------------------------
GROUPS = [
    {"group_id": 1, "type": "SELECT", "buckets": [{"weight": 10, "actions": [{"type": "OUTPUT", "port": 1}]},
                                                  {"weight": 20, "actions": [{"type": "OUTPUT", "port": 2}]}]},
    {"group_id": 2, "type": "FF", "buckets": [{"watch_port": 2, "actions": [{"type": "OUTPUT", "port": 2}]},
                                              {"watch_port": 1, "actions": [{"type": "POP_VLAN"},
                                                                            {"type": "OUTPUT", "port": 1}]}]},
    {"group_id": 3, "buckets": [{"actions": [{"type": "SET_FIELD", "field": "eth_dst", "value": "02:00:00:00:00:02"},
                                             {"type": "OUTPUT", "port": 2}, {"type": "GOTO_TABLE", "table_id": 1}]},
                                {"actions": [{"type": "SET_QUEUE", "queue_id": 1}, {"type": "OUTPUT", "port": 1}]}]},
    {"group_id": "0x4", "type": "INDIRECT", "buckets": [{"actions": [{"type": "GROUP", "group_id": 3}]}]},
]
METERS = [
    {"meter_id": 1, "flags": ["KBPS", "BURST", "STATS"], "bands": [{"type": "DROP", "rate": 1000, "burst_size": 100}]},
    {"meter_id": 2, "flags": "PKTPS", "bands": [{"type": "DROP", "rate": 10}]},
    {"meter_id": 3, "flags": ["KBPS", "SLOW"], "bands": [{"type": "DSCP_REMARK", "rate": 5, "prec_level": 1},
                                                         {"type": "RED"}]},
]


def _rest_message(path: str, body: dict[str, Any]) -> bytes:
    """The one message ofctl_rest sends a switch (dpid 1) for a POST to `path`."""
    from netplex.ovs.ofapps.ofctl_rest import RestStatsApi
    host = _Capture()
    rt = Runtime(host, [RestStatsApi])
    conn = rt.accept(host)
    rt.handle(conn, 6, 2, struct.pack("!QIBB2xII", 1, 0, 254, 0, 0, 0))      # FEATURES_REPLY
    host.sent.clear()
    answers: list[tuple[int, bytes, str]] = []
    rest = rt.apps[0]
    assert isinstance(rest, RestStatsApi)
    rest.request("POST", path, json.dumps(body).encode(), lambda *a: answers.append(a))
    assert answers == [(200, b"", "text/html; charset=UTF-8")], (answers, host.lines)
    msgs = Reader().feed(b"".join(host.sent))
    assert len(msgs) == 1
    return struct.pack("!BBHI", 4, msgs[0][0], 8 + len(msgs[0][2]), msgs[0][1]) + msgs[0][2]


def test_group_and_meter_entries_are_the_messages_os_ken_sends():
    """Each groupentry/meterentry body gives the GROUP_MOD / METER_MOD bytes os-ken's
    ofctl_v1_3.mod_group_entry / mod_meter_entry give (xid aside), for add, modify and delete."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3
    for kind, bodies, send in (("groupentry", GROUPS, ofctl_v1_3.mod_group_entry),
                               ("meterentry", METERS, ofctl_v1_3.mod_meter_entry)):
        for cmd, num in (("add", 0), ("modify", 1), ("delete", 2)):
            for body in bodies:
                oracle = _OsKenDp(1)
                send(oracle, json.loads(json.dumps(body)), num)
                ours = _rest_message(f"/stats/{kind}/{cmd}", {"dpid": 1, **body})
                assert ours[:4] + ours[8:] == oracle.sent[0][:4] + oracle.sent[0][8:], (kind, cmd, body)


def _gmq_lab() -> tuple[Any, Any, Any, Any, int]:
    """The REST lab with GROUPS[:2] and METERS[:2] posted, queues on p1, and traffic through group 2
    and meter 2 (so counters are not all zero)."""
    net, c0, s1, h1, _h2, dpid = rest_lab()
    assert pings(h1, "10.0.0.2")
    for kind, bodies in (("groupentry", GROUPS[:2]), ("meterentry", METERS[:2])):
        for body in bodies:
            assert curl(c0, f"-d '{json.dumps({'dpid': dpid, **body})}' {URL}/stats/{kind}/add") == (200, "")
    run_ok(s1, "ovs-vsctl -- set port p1 qos=@q -- --id=@q create qos type=linux-htb other-config:max-rate=1000000 "
               "queues:1=@q1 -- --id=@q1 create queue other-config:max-rate=300000")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 priority=200,icmp,nw_dst=10.0.0.2,actions=meter:2,group:2")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 priority=200,icmp,nw_dst=10.0.0.1,actions=set_queue:1,output:1")
    assert pings(h1, "10.0.0.2")
    return net, c0, s1, h1, dpid


def test_group_meter_queue_json_is_ofctl_v1_3s():
    """For each group, meter and queue path, the JSON ofctl_rest makes of the switch's reply equals
    what os-ken's ofctl_v1_3.get_* makes of the same bytes; and a curl of the path answers it."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3

    from netplex.ovs.ofapps.ofctl_rest import _GMQ_REQUESTS, queue_config_to_json
    from netplex.ovs.ofp_gmq import OFPG_ALL, OFPM_ALL, OFPQ_ALL
    net, c0, s1, _h1, dpid = _gmq_lab()
    proc = [p for p in c0.machine.procs if isinstance(p.program, ControllerProgram)][0]
    program = proc.program
    assert isinstance(program, ControllerProgram) and program.runtime is not None
    dp = program.runtime.datapaths[dpid]
    cases = [("group", struct.pack("!I4x", OFPG_ALL), lambda o: ofctl_v1_3.get_group_stats(o, o.waiters)),
             ("group", struct.pack("!I4x", 2), lambda o: ofctl_v1_3.get_group_stats(o, o.waiters, 2)),
             ("groupdesc", b"", lambda o: ofctl_v1_3.get_group_desc(o, o.waiters)),
             ("groupfeatures", b"", lambda o: ofctl_v1_3.get_group_features(o, o.waiters)),
             ("meter", struct.pack("!I4x", OFPM_ALL), lambda o: ofctl_v1_3.get_meter_stats(o, o.waiters)),
             ("meterconfig", struct.pack("!I4x", 1), lambda o: ofctl_v1_3.get_meter_config(o, o.waiters, 1)),
             ("meterfeatures", b"", lambda o: ofctl_v1_3.get_meter_features(o, o.waiters)),
             ("queue", struct.pack("!II", 0xFFFFFFFF, OFPQ_ALL), lambda o: ofctl_v1_3.get_queue_stats(o, o.waiters)),
             ("queue", struct.pack("!II", 1, 1), lambda o: ofctl_v1_3.get_queue_stats(o, o.waiters, 1, 1))]
    for what, body, oracle_get in cases:
        mp_type, decode, to_json = _GMQ_REQUESTS[what]
        parts: list[list[bytes] | None] = []
        dp.request_stats(mp_type, body, parts.append)
        net.run_for(10_000_000)
        assert parts and parts[0] is not None, what
        ours = {str(dpid): [to_json(x) for p in parts[0] for x in decode(p)]}
        raw = [encode("MULTIPART_REPLY", 1, struct.pack("!HH4x", mp_type, 0) + p) for p in parts[0]]
        oracle = _OsKenDp(dpid, raw)
        assert json.loads(json.dumps(ours)) == json.loads(json.dumps(oracle_get(oracle))), what
        assert ours[str(dpid)], what
    for port in (0xFFFFFFFF, 1, 2):
        got: list[list[bytes] | None] = []
        dp.request_queue_config(got.append, port)
        net.run_for(10_000_000)
        assert got and got[0]
        oracle = _OsKenDp(dpid, [encode("QUEUE_GET_CONFIG_REPLY", 1, got[0][0])])
        want = ofctl_v1_3.get_queue_config(oracle, oracle.waiters, None if port == 0xFFFFFFFF else port)
        assert json.loads(json.dumps({str(dpid): [queue_config_to_json(got[0][0])]})) == want, port
    # counters that moved: group 2 and meter 2 saw the pings, queue 1 of p1 their replies
    group = json.loads(curl(c0, f"{URL}/stats/group/{dpid}/2")[1])[str(dpid)]
    assert group[0]["group_id"] == 2 and group[0]["ref_count"] == 1 and group[0]["packet_count"] >= 1
    assert sum(b["packet_count"] for b in group[0]["bucket_stats"]) == group[0]["packet_count"]
    meter = json.loads(curl(c0, f"{URL}/stats/meter/{dpid}/2")[1])[str(dpid)]
    assert [(m["meter_id"], m["flow_count"], m["packet_in_count"] >= 1) for m in meter] == [(2, 1, True)]
    queues = json.loads(curl(c0, f"{URL}/stats/queue/{dpid}")[1])[str(dpid)]
    assert [(q["port_no"], q["queue_id"]) for q in queues] == [(1, 0), (1, 1)]
    assert queues[1]["tx_packets"] >= 1
    # every route a user types answers 200 with the switch's answer
    for path in ("group", "group/{}/ALL", "groupdesc", "groupdesc/{}/1", "groupfeatures", "meter", "meter/{}/1",
                 "meterconfig", "meterconfig/{}/ALL", "meterfeatures", "queue", "queue/{}/1", "queue/{}/ALL/1",
                 "queue/{}/1/0", "queueconfig", "queueconfig/{}/1"):
        url = f"{URL}/stats/" + (path.format(dpid) if "{}" in path else f"{path}/{dpid}")
        code, out = curl(c0, url)
        assert code == 200 and json.loads(out)[str(dpid)], url
    # changes through the API: the meter modified, group 2 (and the flow using it) deleted, all groups deleted
    body = json.dumps({"dpid": dpid, "meter_id": 2, "flags": "PKTPS", "bands": [{"type": "DROP", "rate": 99}]})
    assert curl(c0, f"-d '{body}' {URL}/stats/meterentry/modify") == (200, "")
    assert curl(c0, f"-d '{json.dumps({'dpid': dpid, 'group_id': 2})}' {URL}/stats/groupentry/delete") == (200, "")
    net.run_for(10_000_000)
    assert "type=drop rate=99\n" in run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-meters br0 meter=2")
    assert [g["group_id"] for g in json.loads(curl(c0, f"{URL}/stats/groupdesc/{dpid}")[1])[str(dpid)]] == [1]
    assert curl(c0, f"-d '{json.dumps({'dpid': dpid, 'group_id': 'ALL'})}' {URL}/stats/groupentry/delete") == (200, "")
    assert json.loads(curl(c0, f"{URL}/stats/groupdesc/{dpid}")[1]) == {str(dpid): []}
    # a group the switch refuses (it exists already) changes nothing: the switch answers OFPT_ERROR
    assert curl(c0, f"-d '{json.dumps({'dpid': dpid, **GROUPS[0]})}' {URL}/stats/groupentry/add") == (200, "")
    assert curl(c0, f"-d '{json.dumps({'dpid': dpid, **GROUPS[1], 'group_id': 1})}' {URL}/stats/groupentry/add") \
        == (200, "")
    assert "type=select" in run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-groups br0")


def test_a_flow_s_meter_instruction_polices_its_packets():
    """POST /stats/flowentry/add with {"type": "METER"}: the FLOW_MOD carries OFPIT_METER, dump-flows
    shows `meter:1`, the meter's drop band drops what is over its rate, GET /stats/flow says
    "METER:1"; a meter the switch lacks is refused (OFPMMFC_INVALID_METER) and changes nothing."""
    net, c0, s1, h1, _h2, dpid = rest_lab()
    assert pings(h1, "10.0.0.2")
    meter = {"dpid": dpid, "meter_id": 1, "flags": "PKTPS", "bands": [{"type": "DROP", "rate": 1}]}
    assert curl(c0, f"-d '{json.dumps(meter)}' {URL}/stats/meterentry/add") == (200, "")
    flow = {"dpid": dpid, "priority": 200, "match": {"in_port": 1, "dl_type": 2048, "ip_proto": 1},
            "actions": [{"type": "OUTPUT", "port": 2}, {"type": "METER", "meter_id": 1}]}
    assert curl(c0, f"-d '{json.dumps(flow)}' {URL}/stats/flowentry/add") == (200, "")
    assert " priority=200,icmp,in_port=1 actions=meter:1,output:2\n" in run_ok(
        s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")
    out = run_ok(h1, "ping -c 10 -i 0.1 -W 1 10.0.0.2; true")
    received = int(out.split(" received")[0].rsplit(" ", 1)[1])
    assert 1 <= received <= 3, out
    stats = json.loads(curl(c0, f"{URL}/stats/meter/{dpid}/1")[1])[str(dpid)][0]
    assert stats["flow_count"] == 1 and stats["packet_in_count"] == 10
    assert stats["band_stats"][0]["packet_band_count"] == 10 - received
    got = [f for f in json.loads(curl(c0, f"{URL}/stats/flow/{dpid}")[1])[str(dpid)] if f["priority"] == 200]
    assert got[0]["actions"] == ["METER:1", "OUTPUT:2"] and got[0]["packet_count"] == 10
    # a meter that is not there: 200 from ofctl_rest (it does not wait), OFPT_ERROR from the switch
    flow = {**flow, "priority": 201, "actions": [{"type": "METER", "meter_id": 9}, {"type": "OUTPUT", "port": 2}]}
    assert curl(c0, f"-d '{json.dumps(flow)}' {URL}/stats/flowentry/add") == (200, "")
    net.run_for(10_000_000)
    assert "priority=201" not in run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")
    proc = [p for p in c0.machine.procs if isinstance(p.program, ControllerProgram)][0]
    assert isinstance(proc.program, ControllerProgram) and proc.program.runtime is not None
    errors: list[tuple[int, int]] = []
    runtime = proc.program.runtime
    dispatch = runtime.dispatch
    runtime.dispatch = lambda ev: errors.append((ev.type, ev.code)) if isinstance(ev, ErrorMsg) else dispatch(ev)
    assert curl(c0, f"-d '{json.dumps(flow)}' {URL}/stats/flowentry/add") == (200, "")
    net.run_for(10_000_000)
    assert errors == [(12, 2)]                  # OFPET_METER_MOD_FAILED, OFPMMFC_INVALID_METER


ROLES = [{"role": "MASTER"}, {"role": "SLAVE"}, {"role": "OFPCR_ROLE_EQUAL"}, {}, {"role": 2}]
EXPERIMENTERS = [{"experimenter": 0x2320, "exp_type": 7, "data": "abc"},
                 {"experimenter": 1, "data_type": "base64", "data": "AAEC"}, {}]


def test_role_and_experimenter_requests_are_the_messages_os_ken_sends():
    """POST /stats/role and /stats/experimenter/<dpid> give the ROLE_REQUEST / EXPERIMENTER bytes
    os-ken's ofctl_v1_3.set_role / send_experimenter give (xid aside)."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3
    for path, bodies, send in (("/stats/role", ROLES, ofctl_v1_3.set_role),
                               ("/stats/experimenter/1", EXPERIMENTERS, ofctl_v1_3.send_experimenter)):
        for body in bodies:
            oracle = _OsKenDp(1)
            send(oracle, json.loads(json.dumps(body)))
            ours = _rest_message(path, {"dpid": 1, **body} if path == "/stats/role" else body)
            assert ours[:4] + ours[8:] == oracle.sent[0][:4] + oracle.sent[0][8:], (path, body)


def test_table_stats_and_roles_through_the_api():
    """GET /stats/table and /stats/role answer os-ken's ofctl_v1_3 JSON of the switch's replies;
    POST /stats/role makes the controller MASTER or SLAVE as ovs-vswitchd does (a SLAVE cannot
    change the switch and hears no PACKET_IN); /stats/flowdesc is /stats/flow."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3
    net, c0, s1, h1, _h2, dpid = rest_lab()
    assert pings(h1, "10.0.0.2")
    proc = [p for p in c0.machine.procs if isinstance(p.program, ControllerProgram)][0]
    assert isinstance(proc.program, ControllerProgram) and proc.program.runtime is not None
    runtime = proc.program.runtime
    dp = runtime.datapaths[dpid]
    errors: list[tuple[int, int]] = []
    dispatch = runtime.dispatch
    runtime.dispatch = lambda ev: errors.append((ev.type, ev.code)) if isinstance(ev, ErrorMsg) else dispatch(ev)
    parts: list[list[bytes] | None] = []
    dp.request_stats(3, b"", parts.append)
    net.run_for(10_000_000)
    assert parts and parts[0]
    oracle = _OsKenDp(dpid, [encode("MULTIPART_REPLY", 1, struct.pack("!HH4x", 3, 0) + p) for p in parts[0]])
    want = ofctl_v1_3.get_table_stats(oracle, oracle.waiters)
    code, out = curl(c0, f"{URL}/stats/table/{dpid}")
    tables = json.loads(out)[str(dpid)]
    assert code == 200 and len(tables) == 254 and tables[253]["table_id"] == 253
    assert tables[0]["active_count"] == 3 and tables[0]["lookup_count"] >= tables[0]["matched_count"] > 0
    assert json.loads(json.dumps(want)) == {str(dpid): tables}

    def role() -> Any:
        got: list[list[bytes] | None] = []
        dp.request_role(got.append)
        net.run_for(10_000_000)
        assert got and got[0]
        oracle = _OsKenDp(dpid, [encode("ROLE_REPLY", 1, got[0][0])])
        want = ofctl_v1_3.get_role(oracle, oracle.waiters)
        answer = json.loads(curl(c0, f"{URL}/stats/role/{dpid}")[1])
        assert answer == json.loads(json.dumps(want))
        return answer[str(dpid)]
    assert role() == [{"generation_id": 2 ** 64 - 1, "role": "EQUAL"}]
    assert curl(c0, f"-d '{json.dumps({'dpid': dpid, 'role': 'MASTER'})}' {URL}/stats/role") == (200, "")
    assert role() == [{"generation_id": 0, "role": "MASTER"}]
    assert curl(c0, f"-d '{json.dumps({'dpid': dpid, 'role': 'SLAVE'})}' {URL}/stats/role") == (200, "")
    assert role() == [{"generation_id": 0, "role": "SLAVE"}]
    flow = {"dpid": dpid, "priority": 7, "match": {"in_port": 1}, "actions": []}
    assert curl(c0, f"-d '{json.dumps(flow)}' {URL}/stats/flowentry/add") == (200, "")
    net.run_for(10_000_000)
    assert "priority=7" not in run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")
    assert errors == [(1, 10)]                  # OFPET_BAD_REQUEST, OFPBRC_IS_SLAVE
    run_ok(s1, "ovs-appctl fdb/flush br0")
    run_ok(c0, "echo > /tmp/c.log")
    pings(h1, "10.0.0.9")               # a miss: no PACKET_IN to a slave
    assert "packet in" not in run_ok(c0, "cat /tmp/c.log")
    assert curl(c0, f"-d '{json.dumps({'dpid': dpid})}' {URL}/stats/role") == (200, "")      # EQUAL again
    assert role() == [{"generation_id": 0, "role": "EQUAL"}]
    assert curl(c0, f"-d '{json.dumps(flow)}' {URL}/stats/flowentry/add") == (200, "")
    net.run_for(10_000_000)
    assert "priority=7" in run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats")
    assert curl(c0, f"-d '{json.dumps(EXPERIMENTERS[0])}' {URL}/stats/experimenter/{dpid}") == (200, "")
    net.run_for(10_000_000)
    assert errors == [(1, 10), (1, 4)]          # no such experimenter message: OFPBRC_BAD_SUBTYPE
    flows = json.loads(curl(c0, f"{URL}/stats/flow/{dpid}")[1])
    assert json.loads(curl(c0, f"{URL}/stats/flowdesc/{dpid}")[1]) == flows


def test_port_mod_through_the_api():
    """POST /stats/portdesc/modify: the PORT_MOD os-ken's ofctl_v1_3.mod_port_behavior sends (the
    port's address and advertisement by default); PORT_DOWN turns the port down and up as
    `ovs-ofctl mod-port` does; an unknown port or command is 404, another config bit 501."""
    _need_osken()
    from os_ken.lib import ofctl_v1_3
    net, c0, s1, h1, _h2, dpid = rest_lab()
    assert pings(h1, "10.0.0.2")
    mac = run_ok(s1, "cat /sys/class/net/p2/address").strip()
    down = {"dpid": dpid, "port_no": 2, "config": 1, "mask": 1}
    assert curl(c0, f"-d '{json.dumps(down)}' {URL}/stats/portdesc/modify") == (200, "")
    net.run_for(10_000_000)
    assert " 2(p2): addr:" in run_ok(s1, "ovs-ofctl show br0")
    assert "     config:     PORT_DOWN\n" in run_ok(s1, "ovs-ofctl show br0").split(" 2(p2)")[1]
    assert not pings(h1, "10.0.0.2")
    desc = json.loads(curl(c0, f"{URL}/stats/portdesc/{dpid}")[1])[str(dpid)]
    assert [p["config"] for p in desc if p["port_no"] == 2] == [1]
    up = {**down, "config": 0}
    assert curl(c0, f"-d '{json.dumps(up)}' {URL}/stats/portdesc/modify") == (200, "")
    assert pings(h1, "10.0.0.2")
    for body, code, out in ((dict(down, port_no=9), 404, ""), (dict(down, port_no="two"), 400, ""),
                            (dict(down, mask=16, config=16), 501,
                             "netplex: ofctl_rest PORT_MOD config bits other than PORT_DOWN is not supported\n")):
        assert curl(c0, f"-d '{json.dumps(body)}' {URL}/stats/portdesc/modify") == (code, out), body
    assert curl(c0, f"-d '{json.dumps(down)}' {URL}/stats/portdesc/change") == (404, "")
    assert "No such port info: 9\n" in run_ok(c0, "cat /tmp/c.log")
    # the bytes: os-ken's message for the same body, with the address and advertisement it defaults to
    oracle = _OsKenDp(1)
    ofctl_v1_3.mod_port_behavior(oracle, {"port_no": 2, "hw_addr": mac, "config": 1, "mask": 1, "advertise": 0})
    from netplex.ovs.ofapps.ofctl_rest import RestStatsApi
    host = _Capture()
    rt = Runtime(host, [RestStatsApi])
    conn = rt.accept(host)
    rt.handle(conn, 6, 2, struct.pack("!QIBB2xII", 1, 0, 254, 0, 0, 0))
    assert conn.dp is not None
    conn.dp.ports[2] = PortDesc(2, bytes.fromhex(mac.replace(":", "")), "p2")
    host.sent.clear()
    rest = rt.apps[0]
    assert isinstance(rest, RestStatsApi)
    answers: list[tuple[int, bytes, str]] = []
    rest.request("POST", "/stats/portdesc/modify", json.dumps({"dpid": 1, "port_no": 2, "config": 1, "mask": 1})
                 .encode(), lambda *a: answers.append(a))
    assert answers == [(200, b"", "text/html; charset=UTF-8")]
    ours = b"".join(host.sent)
    assert ours[:4] + ours[8:] == oracle.sent[0][:4] + oracle.sent[0][8:]
