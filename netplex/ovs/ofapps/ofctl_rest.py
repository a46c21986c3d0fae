"""`ofctl_rest`: the northbound REST API of os-ken's and Ryu's ryu/app/ofctl_rest.py over the
switches connected to the controller, with ryu/lib/ofctl_v1_3.py's JSON (field names, match and
action syntax; the replies' side in ofctl_json.py) and its answers: 200 with JSON, 200 with no body for a change, 400 for a body or
dpid that does not parse, 404 for a switch that is not connected or a command it does not know,
webob's `404 Not Found` page for another path.

    GET    /stats/switches                      [1, 2]
    GET    /stats/desc/<dpid>                   {"1": {"mfr_desc": ..., ...}}
    GET    /stats/flow/<dpid>  (POST: a filter)  {"1": [{"priority": 1, ..., "actions": ["OUTPUT:2"], "match": {...}}]}
    GET    /stats/aggregateflow/<dpid>          {"1": [{"packet_count": .., "byte_count": .., "flow_count": ..}]}
    GET    /stats/port/<dpid>[/<port>]          {"1": [{"rx_packets": .., ..., "port_no": 1}]}
    GET    /stats/portdesc/<dpid>               {"1": [{"hw_addr": .., "name": .., ..., "port_no": 1}]}
    POST   /stats/flowentry/add|modify|modify_strict|delete|delete_strict   {"dpid": 1, "match": {...}, "actions": [...]}
    DELETE /stats/flowentry/clear/<dpid>
    GET    /stats/group/<dpid>[/<group_id>], /stats/groupdesc/<dpid>, /stats/groupfeatures/<dpid>
    POST   /stats/groupentry/add|modify|delete   {"dpid": 1, "group_id": 1, "type": "SELECT", "buckets": [...]}
    GET    /stats/meter/<dpid>[/<meter_id>], /stats/meterconfig/<dpid>[/<meter_id>], /stats/meterfeatures/<dpid>
    POST   /stats/meterentry/add|modify|delete   {"dpid": 1, "meter_id": 1, "flags": ["KBPS"], "bands": [...]}
    GET    /stats/queue/<dpid>[/<port>[/<queue_id>]], /stats/queueconfig/<dpid>[/<port>]
    GET    /stats/table/<dpid>                  {"1": [{"active_count": .., "lookup_count": .., ..., "table_id": 0}, ...]}
    GET    /stats/role/<dpid>                   {"1": [{"generation_id": .., "role": "EQUAL"}]}
    POST   /stats/role                          {"dpid": 1, "role": "MASTER"}
    POST   /stats/portdesc/modify               {"dpid": 1, "port_no": 2, "config": 1, "mask": 1}  (PORT_DOWN only)
    POST   /stats/experimenter/<dpid>           {"experimenter": .., "exp_type": .., "data_type": "ascii", "data": ..}
    GET    /stats/flowdesc/<dpid>               (ofctl_rest maps it to get_flow_stats: /stats/flow's answer)

The HTTP server listens on `--wsapi-host` (0.0.0.0) port `--wsapi-port` (8080), os-ken's wsgi
options. A body is read as ofctl_rest reads it (ast.literal_eval for the flowentry commands,
JSON for a stats filter). The switch speaks OpenFlow 1.3, so meterdesc and queuedesc (ofctl_v1_4's
and ofctl_v1_5's) get ofctl_rest's answer for them: 501 with no body, "Unsupported OF request in
this version: 4" logged. tablefeatures, and a portdesc/modify mask with a bit other than
PORT_DOWN, are answered 501 with netplex's words.
"""
from __future__ import annotations

import ast
import base64
import binascii
import json
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from netplex.ovs.ofapp import (
    OFPTT_ALL,
    OFPVID_PRESENT,
    Action,
    App,
    AppError,
    Datapath,
    Fields,
    Runtime,
    Stream,
    match,
)
from netplex.ovs.ofapps.ofctl_json import (
    GROUP_NAMES,
    GROUP_TYPE_NAMES,
    METER_FLAGS,
    METER_NAMES,
    PORT_NAMES,
    ROLE_NAMES,
    SET_FIELD_NAMES,
    TABLE_NAMES,
    TABLE_STATS,
    flow_to_json,
    group_desc_to_json,
    group_features_to_json,
    group_stats_to_json,
    mac_text,
    match_to_str,
    meter_config_to_json,
    meter_features_to_json,
    meter_stats_to_json,
    port_desc_to_json,
    port_stats_to_json,
    queue_config_to_json,
    queue_stats_to_json,
    role_to_json,
    table_stats_to_json,
)
from netplex.ovs.ofp_gmq import (
    OFPG_ALL,
    OFPG_ANY,
    OFPGC_ADD,
    OFPGC_DELETE,
    OFPGC_MODIFY,
    OFPM_ALL,
    OFPMBT_DROP,
    OFPMBT_DSCP_REMARK,
    OFPMC_ADD,
    OFPMC_DELETE,
    OFPMC_MODIFY,
    OFPMP_GROUP,
    OFPMP_GROUP_DESC,
    OFPMP_GROUP_FEATURES,
    OFPMP_METER,
    OFPMP_METER_CONFIG,
    OFPMP_METER_FEATURES,
    OFPMP_QUEUE,
    OFPQ_ALL,
    GroupDesc,
    GroupFeatures,
    MeterBand,
    MeterConfig,
    MeterFeatures,
    OfBucket,
    decode_group_descs,
    decode_group_stats,
    decode_meter_configs,
    decode_meter_stats,
    decode_queue_stats,
)
from netplex.ovs.ofrole import (
    OFPCR_ROLE_EQUAL,
    OFPCR_ROLE_MASTER,
    OFPCR_ROLE_NOCHANGE,
    OFPCR_ROLE_SLAVE,
)
from netplex.ovs.openflow import (
    OFP_NO_BUFFER,
    OFP_VERSION,
    OFPFC_ADD,
    OFPFC_DELETE,
    OFPFC_DELETE_STRICT,
    OFPFC_MODIFY,
    OFPFC_MODIFY_STRICT,
    OFPMP_TABLE,
    OFPP_ANY,
    OFPPC_PORT_DOWN,
)
from netplex.packet.addr import int_to_ip

__all__ = ["RestStatsApi", "flow_to_json", "match_to_str", "queue_config_to_json"]

WSAPI_PORT = 8080
OFPCML_MAX = 0xFFE5
REQUEST_TIMEOUT_NS = 1_000_000_000        # ofctl_v1_3.DEFAULT_TIMEOUT
MAX_REQUEST = 1 << 20
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
            413: "Request Entity Too Large", 500: "Internal Server Error", 501: "Not Implemented"}
# ofproto_v1_3's reserved ports, as ofctl_utils writes and reads them (OFPP_<NAME>)
_PORT_NUMBERS = {name: no for no, name in PORT_NAMES.items()}
_FLOW_COMMANDS = {"add": OFPFC_ADD, "modify": OFPFC_MODIFY, "modify_strict": OFPFC_MODIFY_STRICT,
                  "delete": OFPFC_DELETE, "delete_strict": OFPFC_DELETE_STRICT}
# ofctl_v1_3.to_match's old names
_OLD_NAMES = {"dl_dst": "eth_dst", "dl_src": "eth_src", "dl_type": "eth_type", "dl_vlan": "vlan_vid",
              "nw_src": "ipv4_src", "nw_dst": "ipv4_dst", "nw_proto": "ip_proto"}
_NOT_HERE = ("tablefeatures",)
# GET /stats/<what>/<dpid>[/...]: how many path segments each takes (ofctl_rest's mapper)
_STATS_ROUTES = {"desc": (2,), "flow": (2,), "flowdesc": (2,), "aggregateflow": (2,), "port": (2, 3),
                 "portdesc": (2,), "group": (2, 3), "groupdesc": (2, 3), "groupfeatures": (2,), "meter": (2, 3),
                 "meterconfig": (2, 3), "meterdesc": (2, 3), "meterfeatures": (2,), "queue": (2, 3, 4),
                 "queueconfig": (2, 3), "queuedesc": (2, 3, 4), "table": (2,), "role": (2,)}
_POST_STATS = ("flow", "flowdesc", "aggregateflow")
# what ofctl_v1_3 has no function for: ofctl_rest's AttributeError, 501 (OpenFlow 1.4's and 1.5's requests)
_NOT_IN_V1_3 = ("meterdesc", "queuedesc")
_ROLES = {"NOCHANGE": OFPCR_ROLE_NOCHANGE, "EQUAL": OFPCR_ROLE_EQUAL, "MASTER": OFPCR_ROLE_MASTER,
          "SLAVE": OFPCR_ROLE_SLAVE}
_GROUP_COMMANDS = {"add": OFPGC_ADD, "modify": OFPGC_MODIFY, "delete": OFPGC_DELETE}
_METER_COMMANDS = {"add": OFPMC_ADD, "modify": OFPMC_MODIFY, "delete": OFPMC_DELETE}
# ofctl_v1_3's names, in its dicts' order (the JSON lists follow it)
_GROUP_TYPE_NUMS = {name: n for n, name in GROUP_TYPE_NAMES.items()}
# ofproto_v1_3's reserved group, meter and queue numbers (OFCtlUtil's OFPG_/OFPM_/OFPQ_ names)
_NOT_FOUND_PAGE = b"404 Not Found\n\nThe resource could not be found.\n\n   "


class _BadRequest(Exception):
    """ValueError's place in ofctl_rest: the request is answered 400."""


def _str_to_int(value: Any) -> int:
    """ofctl_utils.str_to_int: int(str(x), 0)."""
    try:
        return int(str(value), 0)
    except ValueError:
        raise _BadRequest(value) from None


def port_from_user(value: Any) -> int:
    """ofp_port_from_user: a number, or a reserved port's name (`CONTROLLER`, `OFPP_FLOOD`)."""
    try:
        return int(str(value), 0)
    except ValueError:
        name = str(value).upper().removeprefix("OFPP_")
        if name in _PORT_NUMBERS:
            return _PORT_NUMBERS[name]
        raise _BadRequest(value) from None


def _reserved_from_user(value: Any, names: dict[int, str], prefix: str) -> int:
    """OFCtlUtil._reserved_num_from_user: a number, or a reserved name (`ALL`, `OFPG_ANY`: the
    prefix as written, the rest in any case); another word goes on as a string in os-ken and
    breaks the message: an error escaping the handler (500)."""
    try:
        return int(str(value), 0)
    except ValueError:
        word = str(value)
        word = word.upper() if word.startswith(prefix) else prefix + word.upper()
        for no, name in names.items():
            if word == prefix + name:
                return no
        raise TypeError(f"not a reserved number: {value}") from None


def to_match(attrs: dict[str, Any], log: Callable[[str], None]) -> Fields:
    """ofctl_v1_3.to_match: ofctl's field names (old and OXM) and values → the switch's fields."""
    if not isinstance(attrs, dict):
        raise _BadRequest(attrs)
    attrs = dict(attrs)
    if attrs.get("dl_type") == 0x0806 or attrs.get("eth_type") == 0x0806:
        if "nw_src" in attrs and "arp_spa" not in attrs:
            attrs["arp_spa"] = attrs.pop("nw_src")
        if "nw_dst" in attrs and "arp_tpa" not in attrs:
            attrs["arp_tpa"] = attrs.pop("nw_dst")
    kw: dict[str, Any] = {}
    for key, value in attrs.items():
        key = _OLD_NAMES.get(key, key)
        if key in ("tp_src", "tp_dst"):
            proto = attrs.get("nw_proto", attrs.get("ip_proto", 0))
            if proto not in (6, 17):
                raise KeyError(proto)       # ofctl_v1_3: conv[ip_proto][key]
            key = ("tcp_" if proto == 6 else "udp_") + key[3:]
        try:
            kw[key] = _match_value(key, value)
        except AppError:
            log(f"Unknown match field: {key}")
    try:
        return match(**kw)
    except AppError as e:
        raise _BadRequest(str(e)) from None


def _match_value(key: str, value: Any) -> Any:
    if key == "in_port":
        return port_from_user(value)
    if key in ("eth_dst", "eth_src", "arp_sha", "arp_tha"):
        if not isinstance(value, str):
            raise _BadRequest(value)
        return tuple(value.split("/", 1)) if "/" in value else value
    if key in ("ipv4_src", "ipv4_dst", "arp_spa", "arp_tpa"):
        if not isinstance(value, str):
            raise _BadRequest(value)
        if "/" not in value:
            return value
        addr, mask = value.split("/", 1)
        if mask.isdigit():
            if int(mask) > 32:
                raise _BadRequest(value)
            mask = int_to_ip((0xFFFFFFFF << (32 - int(mask))) & 0xFFFFFFFF)
        return addr, mask
    if key == "vlan_vid":
        if isinstance(value, int):
            return value | OFPVID_PRESENT
        text = str(value)
        if "/" in text:
            v, m = text.split("/", 1)
            return _str_to_int(v), _str_to_int(m)
        return int(text, 10) | OFPVID_PRESENT if text.isdigit() else _str_to_int(text)
    if key in ("eth_type", "ip_proto", "ip_dscp", "tcp_src", "tcp_dst", "udp_src", "udp_dst", "icmpv4_type",
               "icmpv4_code", "arp_op"):
        return _str_to_int(value)
    raise AppError(key)


_SET_FIELD_NUMS = {name: num for num, name in SET_FIELD_NAMES.items()}


class Instructions(NamedTuple):
    """What ofctl_v1_3.to_actions makes of a flow's "actions": the APPLY_ACTIONS list, GOTO_TABLE,
    WRITE_METADATA, METER, and the instructions' order (each as the user gave it, APPLY_ACTIONS last)."""

    actions: list[Action]
    goto: int | None
    metadata: tuple[int, int] | None
    meter: int | None
    order: tuple[str, ...]


def to_actions(acts: Any, log: Callable[[str], None]) -> Instructions:
    """ofctl_v1_3.to_actions: the APPLY_ACTIONS list, GOTO_TABLE, WRITE_METADATA and METER; an
    action type it does not know is logged and left out, as ofctl does."""
    if not isinstance(acts, list):
        raise _BadRequest(acts)
    out: list[Action] = []
    goto: int | None = None
    metadata: tuple[int, int] | None = None
    meter: int | None = None
    order: list[str] = []
    for a in acts:
        if not isinstance(a, dict):
            raise _BadRequest(a)
        t = a.get("type")
        if t == "OUTPUT":
            out.append(("output", port_from_user(a.get("port", OFPP_ANY)),
                        _str_to_int(a.get("max_len", OFPCML_MAX)) if a.get("max_len") != "NO_BUFFER" else 0xFFFF))
        elif t in ("POP_VLAN", "DEC_NW_TTL"):
            out.append(("pop_vlan" if t == "POP_VLAN" else "dec_ttl", 0, 0))
        elif t == "PUSH_VLAN":
            out.append(("push_vlan", _str_to_int(a.get("ethertype")), 0))
        elif t in ("GROUP", "SET_QUEUE"):
            key = "group_id" if t == "GROUP" else "queue_id"
            out.append((t.lower(), _str_to_int(a.get(key)), 0))
        elif t == "SET_FIELD":
            name = str(a.get("field"))
            num = _SET_FIELD_NUMS.get(name)
            if num is None:
                raise _NotHere(f"SET_FIELD {name}")
            m = match(**{name: _match_value(name, a.get("value"))})
            out.append(("set_field", num, next(iter(m.values()))[0]))
        elif t == "GOTO_TABLE":
            goto = _reserved_from_user(a.get("table_id"), TABLE_NAMES, "OFPTT_")
            order.append("goto")
        elif t == "WRITE_METADATA":
            metadata = (_str_to_int(a.get("metadata")),
                        _str_to_int(a["metadata_mask"]) if "metadata_mask" in a else (1 << 64) - 1)
            order.append("metadata")
        elif t == "METER":
            meter = _reserved_from_user(a.get("meter_id"), METER_NAMES, "OFPM_")
            order.append("meter")
        elif t in ("COPY_TTL_OUT", "COPY_TTL_IN", "DEC_MPLS_TTL", "PUSH_MPLS", "POP_MPLS", "SET_MPLS_TTL",
                   "SET_NW_TTL", "PUSH_PBB", "POP_PBB", "WRITE_ACTIONS", "CLEAR_ACTIONS", "EXPERIMENTER"):
            raise _NotHere(f"action {t}")
        else:
            log(f"Unknown action type: {t}")
    return Instructions(out, goto, metadata, meter, tuple(dict.fromkeys(order)) + (("apply",) if out else ()))


class _NotInVersion(Exception):
    """ofctl_rest's AttributeError: a request ofctl_v1_3 cannot make, answered 501 with no body."""


class _NotHere(Exception):
    """Something ofctl_rest would send that netplex's switch does not take: 501 in netplex's words."""


def experimenter_data(exp: dict[str, Any], log: Callable[[str], None]) -> bytes | None:
    """ofctl_utils.send_experimenter's data: `data` as ASCII or base64 (`data_type`); another type
    is logged and nothing is sent."""
    data_type = exp.get("data_type", "ascii")
    data = exp.get("data", "")
    if data_type == "base64":
        try:
            return base64.b64decode(data)
        except binascii.Error:
            raise _BadRequest(data) from None
    if data_type == "ascii":
        if not isinstance(data, str):       # data.encode: ofctl_rest's AttributeError, a 501
            raise _NotInVersion()
        try:
            return data.encode("ascii")
        except UnicodeEncodeError:
            raise _BadRequest(data) from None
    log(f"Unknown data type: {data_type}")
    return None


def to_group_mod(group: dict[str, Any], cmd: int) -> GroupDesc:
    """ofctl_v1_3.mod_group_entry: type (ALL), group_id, buckets (weight 0, watch_port OFPP_ANY,
    watch_group OFPG_ANY, actions read one by one: an instruction or an unknown type left out)."""
    gtype = _GROUP_TYPE_NUMS.get(group.get("type", "ALL"))
    if gtype is None:           # logged by ofctl, then the message cannot be built: 500
        raise TypeError(f"Unknown group type: {group.get('type')}")
    buckets = []
    for bucket in group.get("buckets", []):
        if not isinstance(bucket, dict):
            raise AttributeError("bucket is not a dict")
        acts: list[Action] = []
        for dic in bucket.get("actions", []):
            if not isinstance(dic, dict):
                raise AttributeError("action is not a dict")
            if dic.get("type") not in ("GOTO_TABLE", "WRITE_METADATA", "WRITE_ACTIONS", "CLEAR_ACTIONS", "METER"):
                acts += to_actions([dic], lambda _text: None).actions
        buckets.append(OfBucket(_str_to_int(bucket.get("weight", 0)), _str_to_int(bucket.get("watch_port", OFPP_ANY)),
                                _str_to_int(bucket.get("watch_group", OFPG_ANY)), acts))
    return GroupDesc(cmd, gtype, _reserved_from_user(group.get("group_id", 0), GROUP_NAMES, "OFPG_"), buckets)


def to_meter_mod(meter: dict[str, Any], cmd: int, log: Callable[[str], None]) -> MeterConfig:
    """ofctl_v1_3.mod_meter_entry: flags (a name or a list; an unknown one logged), meter_id,
    bands DROP and DSCP_REMARK (rate, burst_size, prec_level; another type logged and left out)."""
    flags = 0
    names = meter.get("flags", [])
    for name in names if isinstance(names, list) else [names]:
        if name in METER_FLAGS:
            flags |= METER_FLAGS[name]
        else:
            log(f"Unknown meter flag: {name}")
    bands = []
    for band in meter.get("bands", []):
        if not isinstance(band, dict):
            raise AttributeError("band is not a dict")
        btype = band.get("type")
        rate, burst = _str_to_int(band.get("rate", 0)), _str_to_int(band.get("burst_size", 0))
        if btype == "DROP":
            bands.append(MeterBand(OFPMBT_DROP, rate, burst))
        elif btype == "DSCP_REMARK":
            bands.append(MeterBand(OFPMBT_DSCP_REMARK, rate, burst, _str_to_int(band.get("prec_level", 0))))
        elif btype == "EXPERIMENTER":
            raise _NotHere("meter band EXPERIMENTER")
        else:
            log(f"Unknown band type: {btype}")
    return MeterConfig(cmd, flags, _reserved_from_user(meter.get("meter_id", 0), METER_NAMES, "OFPM_"), bands)


# -- HTTP ---------------------------------------------------------------------------------------
Respond = Callable[[int, bytes, str], None]


class _HttpConn:
    """One HTTP/1.1 client connection (eventlet.wsgi's): requests in order, each answered once."""

    def __init__(self, app: RestStatsApi, stream: Stream) -> None:
        self.app = app
        self.stream = stream
        self.buf = b""
        self.busy = False
        self.gone = False

    def data(self, data: bytes) -> None:
        self.buf += data
        self.next()

    def closed(self) -> None:
        self.gone = True

    def next(self) -> None:
        if self.busy or self.gone or b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_REQUEST:
                self.answer(413, b"", "text/plain")
            return
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                if not value.strip().isdigit():
                    self.answer(400, b"", "text/plain")
                    return
                length = int(value.strip())
        if len(rest) < length:
            return
        body, self.buf = rest[:length], rest[length:]
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self.answer(400, b"", "text/plain")
            return
        self.busy = True
        self.app.request(parts[0], parts[1].split("?", 1)[0], body, self.answer)

    def answer(self, status: int, body: bytes, ctype: str) -> None:
        if self.gone:
            return
        head = (f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        self.stream.send(head.encode() + body)
        self.busy = False
        self.next()


# what each statistics path asks the switch and how its reply's entries read
_GMQ_REQUESTS: dict[str, tuple[int, Callable[[bytes], list[Any]], Callable[[Any], dict[str, Any]]]] = {
    "group": (OFPMP_GROUP, decode_group_stats, group_stats_to_json),
    "groupdesc": (OFPMP_GROUP_DESC, decode_group_descs, group_desc_to_json),
    "groupfeatures": (OFPMP_GROUP_FEATURES, lambda b: [GroupFeatures.decode(b)], group_features_to_json),
    "meter": (OFPMP_METER, decode_meter_stats, meter_stats_to_json),
    "meterconfig": (OFPMP_METER_CONFIG, decode_meter_configs, meter_config_to_json),
    "meterfeatures": (OFPMP_METER_FEATURES, lambda b: [MeterFeatures.decode(b)], meter_features_to_json),
    "queue": (OFPMP_QUEUE, decode_queue_stats, queue_stats_to_json),
    "queueconfig": (0, lambda b: [b], queue_config_to_json),
}


class RestStatsApi(App):
    """os-ken's RestStatsApi (ofctl_rest) on the runtime's switches."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.port = int(runtime.config.get("wsapi_port", WSAPI_PORT))
        self.addr = int(runtime.config.get("wsapi_host", 0))

    def start(self) -> None:
        err = self.runtime.host.serve_tcp(self.addr, self.port, lambda stream: _HttpConn(self, stream))
        if err is not None:
            self.log(f"ofctl_rest: wsapi port {self.port}: {err}")

    # -- routing -----------------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes, respond: Respond) -> None:
        """Route one request (ofctl_rest's mapper.connect table); answers through `respond`."""
        def ok(value: Any) -> None:
            respond(200, json.dumps(value).encode(), "application/json")
        seg = [s for s in path.split("/") if s][1:] if path.startswith("/stats/") else []
        try:
            self.route(method, seg, body, ok, respond)
        except _BadRequest:
            respond(400, b"", "text/html; charset=UTF-8")
        except _NotInVersion:
            self.log(f"Unsupported OF request in this version: {OFP_VERSION}")
            respond(501, b"", "text/html; charset=UTF-8")
        except _NotHere as e:
            respond(501, f"netplex: ofctl_rest {e} is not supported\n".encode(), "text/plain")
        except Exception as e:     # what escapes ofctl_rest's handlers: a 500, logged, never a traceback
            self.log(f"ofctl_rest: {method} {path}: {type(e).__name__}: {e}")
            respond(500, b"", "text/plain")

    def route(self, method: str, seg: list[str], body: bytes, ok: Callable[[Any], None], respond: Respond) -> None:
        n = len(seg)
        if seg == ["switches"] and method == "GET":
            ok(list(self.runtime.datapaths))
            return
        if n >= 1 and seg[0] in _NOT_HERE:
            raise _NotHere(f"/stats/{seg[0]}")
        if n == 2 and seg[0] in ("flowentry", "groupentry", "meterentry") and method == "POST":
            self.flowentry(seg[1], body, respond, seg[0])
            return
        if (seg == ["role"] or n == 2 and seg[0] == "experimenter") and method == "POST":
            self.flowentry(seg[0], body, respond, seg[0], seg[1] if n == 2 else None)
            return
        if n == 2 and seg[0] == "portdesc" and method == "POST":
            self.flowentry(seg[1], body, respond, "portdesc")
            return
        if n == 3 and seg[:2] == ["flowentry", "clear"] and method == "DELETE":
            dp = self.datapath(seg[2], respond)
            if dp is not None:
                dp.send_flow_mod({}, [], 0, command=OFPFC_DELETE, table_id=OFPTT_ALL)
                respond(200, b"", "text/html; charset=UTF-8")
            return
        if n and n in _STATS_ROUTES.get(seg[0], ()) and (method == "GET" or method == "POST" and
                                                            seg[0] in _POST_STATS):
            dp = self.datapath(seg[1], respond)
            if dp is not None:
                self.stats(dp, seg, body, ok, respond)
            return
        respond(404, _NOT_FOUND_PAGE, "text/plain")

    def datapath(self, text: str, respond: Respond) -> Datapath | None:
        """stats_method's `dpset.get(int(str(dpid), 0))`: 400 when it does not parse, 404 when absent."""
        dpid = _str_to_int(text)
        dp = self.runtime.datapaths.get(dpid)
        if dp is None:
            self.log(f"No such Datapath: {text}")
            respond(404, b"", "text/html; charset=UTF-8")
        return dp

    def stats(self, dp: Datapath, seg: list[str], body: bytes, answer: Callable[[Any], None],
              respond: Respond) -> None:
        """A statistics request to the switch; its answer when the reply is in, or, as
        ofctl_utils.send_stats_request gives up after DEFAULT_TIMEOUT, what an empty reply gives."""
        key = str(dp.id)
        what = seg[0]
        answered = False

        def ok(value: Any) -> None:
            nonlocal answered
            if not answered:
                answered = True
                answer(value)
        if what in _NOT_IN_V1_3:
            raise _NotInVersion()
        if what == "desc":
            dp.request_desc(lambda d: ok({key: d or {}}))
        elif what == "table":
            dp.request_stats(OFPMP_TABLE, b"", lambda parts: ok({key: [
                table_stats_to_json(*TABLE_STATS.unpack_from(p, i)) for p in parts or []
                for i in range(0, len(p) - TABLE_STATS.size + 1, TABLE_STATS.size)]}))
        elif what == "role":
            dp.request_role(lambda parts: ok({key: [role_to_json(parts[0])] if parts else []}))
        elif what in _GMQ_REQUESTS:
            self.gmq_stats(dp, seg, lambda v: ok({key: v}))
        elif what == "portdesc":
            dp.request_port_desc(lambda ps: ok({key: [port_desc_to_json(p) for p in ps or []]}))
        elif what == "port":
            port = None if len(seg) < 3 or seg[2] == "ALL" else _str_to_int(seg[2])
            dp.request_port_stats(lambda ps: ok({key: [port_stats_to_json(p) for p in ps or []]}),
                                  OFPP_ANY if port is None else port)
        else:
            try:
                flow = json.loads(body) if body else {}
            except ValueError:
                raise _BadRequest(body) from None
            if not isinstance(flow, dict):
                raise _BadRequest(body)
            table = flow.get("table_id", OFPTT_ALL)
            table_id = OFPTT_ALL if table == "ALL" else _str_to_int(table)
            out_port = port_from_user(flow.get("out_port", OFPP_ANY))
            cookie, cookie_mask = _str_to_int(flow.get("cookie", 0)), _str_to_int(flow.get("cookie_mask", 0))
            m = to_match(flow.get("match", {}), self.log)
            if what == "aggregateflow":
                dp.request_aggregate(lambda agg: ok({key: [] if agg is None else [
                    {"packet_count": agg[0], "byte_count": agg[1], "flow_count": agg[2]}]}),
                    m, table_id, out_port, cookie, cookie_mask)
            else:
                priority = _str_to_int(flow.get("priority", -1))
                dp.request_flow_stats(lambda fl: ok({key: [
                    flow_to_json(s) for s in fl or [] if not 0 <= priority != s.priority]}),
                    m, table_id, out_port, cookie, cookie_mask)
        # the request is out: no answer in time is an empty one
        self.runtime.host.call_later(REQUEST_TIMEOUT_NS, ok, {key: {} if what == "desc" else []})

    def gmq_stats(self, dp: Datapath, seg: list[str], ok: Callable[[Any], None]) -> None:
        """A group, meter or queue request (ofctl_v1_3's get_group_*, get_meter_*, get_queue_*):
        its optional id segments ("ALL": every one) read as ofctl reads them, then the reply's JSON."""
        what = seg[0]
        arg = [None if s == "ALL" else s for s in seg[2:]]
        mp_type, decode, to_json = _GMQ_REQUESTS[what]
        if what == "queueconfig":
            port = OFPP_ANY if not arg or arg[0] is None else _str_to_int(arg[0])
            dp.request_queue_config(lambda parts: ok([queue_config_to_json(p) for p in parts or []]), port)
            return
        if what == "queue":
            body = struct.pack("!II", OFPP_ANY if not arg or arg[0] is None else _str_to_int(arg[0]),
                               OFPQ_ALL if len(arg) < 2 or arg[1] is None else _str_to_int(arg[1]))
        elif what in ("group", "meter", "meterconfig"):
            body = struct.pack("!I4x", (OFPG_ALL if what == "group" else OFPM_ALL) if not arg or arg[0] is None
                               else _str_to_int(arg[0]))
        else:           # groupdesc (its group id is OpenFlow 1.5's), groupfeatures, meterfeatures
            body = b""
        dp.request_stats(mp_type, body, lambda parts: ok([to_json(x) for p in parts or [] for x in decode(p)]))

    def port_mod(self, dp: Datapath, cmd: str, conf: dict[str, Any], respond: Respond) -> None:
        """mod_port_behavior + ofctl_v1_3.mod_port_behavior: the port must be one the switch told of
        (404), the command `modify` (404); hw_addr and advertise default to the port's; the
        PORT_MOD carries config under mask. netplex's switch keeps only OFPPC_PORT_DOWN: a mask
        with another bit is answered 501 in netplex's words rather than sent."""
        try:
            port_no = int(str(conf.get("port_no")), 0)
        except ValueError:
            raise _BadRequest(conf.get("port_no")) from None
        info = dp.ports.get(port_no)
        if info is None:
            self.log(f"No such port info: {port_no}")
            respond(404, b"", "text/html; charset=UTF-8")
            return
        if cmd != "modify":
            self.log(f"No such command : {cmd}")
            respond(404, b"", "text/html; charset=UTF-8")
            return
        hw_addr = conf["hw_addr"] if "hw_addr" in conf else mac_text(int.from_bytes(info.hw_addr, "big"))
        mac = bytes(int(b, 16) for b in str(hw_addr).split(":"))
        if len(mac) != 6:
            raise TypeError(f"not a MAC address: {hw_addr}")     # addrconv's error escapes: 500
        config, mask = _str_to_int(conf.get("config", 0)), _str_to_int(conf.get("mask", 0))
        advertise = _str_to_int(conf["advertise"] if "advertise" in conf else info.advertised)
        if mask & ~OFPPC_PORT_DOWN:
            raise _NotHere("PORT_MOD config bits other than PORT_DOWN")
        dp.send_port_mod(port_from_user(conf.get("port_no", 0)), mac, config, mask, advertise)
        respond(200, b"", "text/html; charset=UTF-8")

    def flowentry(self, cmd: str, body: bytes, respond: Respond, kind: str = "flowentry",
                  url_dpid: str | None = None) -> None:
        """command_method + mod_flow_entry (mod_group_entry, mod_meter_entry, set_role,
        send_experimenter): the body read with ast.literal_eval, its `dpid` (or the path's), then
        the FLOW_MOD (ofctl_v1_3.mod_flow_entry's defaults: priority 0, table 0, no timeouts),
        GROUP_MOD, METER_MOD, ROLE_REQUEST or EXPERIMENTER."""
        try:
            flow = ast.literal_eval(body.decode("utf-8")) if body else {}
        except (SyntaxError, UnicodeDecodeError):
            raise _BadRequest(body) from None
        except ValueError:          # literal_eval's "malformed node": escapes ofctl_rest's handler
            raise KeyError("malformed node or string") from None
        if not isinstance(flow, dict):
            raise AttributeError("body is not a dict")
        dpid = flow.get("dpid") or url_dpid
        if not dpid:
            self.log("Cannot get dpid from request parameters")
            raise _BadRequest(body)
        dp = self.datapath(str(dpid), respond)
        if dp is None:
            return
        if kind == "portdesc":
            self.port_mod(dp, cmd, flow, respond)
            return
        if kind in ("role", "experimenter"):
            if kind == "role":          # ofctl_v1_3.set_role: generation id 0, the switch's reply not awaited
                dp.send_role(_reserved_from_user(flow.get("role", OFPCR_ROLE_EQUAL), ROLE_NAMES, "OFPCR_ROLE_"))
            else:
                data = experimenter_data(flow, self.log)
                if data is not None:
                    dp.send_experimenter(flow.get("experimenter", 0), flow.get("exp_type", 0), data)
            respond(200, b"", "text/html; charset=UTF-8")
            return
        command = {"flowentry": _FLOW_COMMANDS, "groupentry": _GROUP_COMMANDS, "meterentry": _METER_COMMANDS}[
            kind].get(cmd)
        if command is None:
            self.log(f"No such command : {cmd}")
            respond(404, b"", "text/html; charset=UTF-8")
            return
        if kind == "groupentry":
            dp.send_group_mod(to_group_mod(flow, command))
            respond(200, b"", "text/html; charset=UTF-8")
            return
        if kind == "meterentry":
            dp.send_meter_mod(to_meter_mod(flow, command, self.log))
            respond(200, b"", "text/html; charset=UTF-8")
            return
        table_id = flow.get("table_id", 0)
        fields = to_match(flow.get("match", {}), self.log)
        inst = to_actions(flow.get("actions", []), self.log)
        buffer_id = flow.get("buffer_id", OFP_NO_BUFFER)
        dp.send_flow_mod(fields, inst.actions, _str_to_int(flow.get("priority", 0)), command=command,
                         table_id=OFPTT_ALL if table_id == "ALL" else _str_to_int(table_id),
                         idle_timeout=_str_to_int(flow.get("idle_timeout", 0)),
                         hard_timeout=_str_to_int(flow.get("hard_timeout", 0)),
                         cookie=_str_to_int(flow.get("cookie", 0)), cookie_mask=_str_to_int(flow.get("cookie_mask", 0)),
                         flags=_str_to_int(flow.get("flags", 0)),
                         buffer_id=_str_to_int(buffer_id),
                         out_port=port_from_user(flow.get("out_port", OFPP_ANY)), goto_table=inst.goto,
                         metadata=inst.metadata, meter=inst.meter, order=inst.order)
        respond(200, b"", "text/html; charset=UTF-8")

