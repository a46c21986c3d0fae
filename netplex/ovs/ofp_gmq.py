"""OpenFlow 1.3's group, meter and queue messages on the wire (OpenFlow 1.3.5 §7.3.4.2
ofp_group_mod and ofp_bucket, §7.3.4.4 ofp_meter_mod and ofp_meter_band_*, §7.3.5.8-9 queue
statistics and OFPT_QUEUE_GET_CONFIG, §7.3.5.9-14 group and meter statistics, descriptions
and features), as lib/ofp-group.c, lib/ofp-meter.c and lib/ofp-queue.c encode them.

Both ends use it: the switch (`connmgr.py`: GROUP_MOD, METER_MOD and the replies) and the
controller runtime (`ofapp.py`: the requests, and decoding what a switch answers). Bucket
actions are `openflow.py`'s action lists ((kind, a, b) tuples).
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from netplex.ovs.openflow import decode_action_list, encode_action_list

__all__ = ["GROUP_FEATURES_OVS", "METER_FEATURES_OVS", "GroupDesc", "GroupFeatures", "GroupStats", "MeterBand",
           "MeterConfig", "MeterFeatures", "MeterStats", "OfBucket", "QueueStats", "decode_group_descs",
           "decode_group_stats", "decode_meter_configs", "decode_meter_stats", "decode_queue_config",
           "decode_queue_stats", "encode_queue_config", "queue_stats_entry"]

OFPMP_QUEUE, OFPMP_GROUP, OFPMP_GROUP_DESC, OFPMP_GROUP_FEATURES = 5, 6, 7, 8
OFPMP_METER, OFPMP_METER_CONFIG, OFPMP_METER_FEATURES = 9, 10, 11
OFPGC_ADD, OFPGC_MODIFY, OFPGC_DELETE = 0, 1, 2
OFPGT_ALL, OFPGT_SELECT, OFPGT_INDIRECT, OFPGT_FF = 0, 1, 2, 3
OFPMC_ADD, OFPMC_MODIFY, OFPMC_DELETE = 0, 1, 2
OFPMF_KBPS, OFPMF_PKTPS, OFPMF_BURST, OFPMF_STATS = 1, 2, 4, 8
OFPMBT_DROP, OFPMBT_DSCP_REMARK = 1, 2
OFPG_ALL, OFPG_ANY = 0xFFFFFFFC, 0xFFFFFFFF
OFPM_ALL = 0xFFFFFFFF
OFPQ_ALL = 0xFFFFFFFF
OFPP_ANY = 0xFFFFFFFF
# error types and codes (§7.4.4)
OFPET_GROUP_MOD_FAILED, OFPET_METER_MOD_FAILED = 6, 12
OFPGMFC_GROUP_EXISTS, OFPGMFC_INVALID_GROUP, OFPGMFC_UNKNOWN_GROUP = 0, 1, 8
OFPGMFC_BAD_TYPE, OFPGMFC_BAD_COMMAND, OFPGMFC_BAD_BUCKET = 10, 11, 12
OFPMMFC_METER_EXISTS, OFPMMFC_INVALID_METER, OFPMMFC_UNKNOWN_METER, OFPMMFC_BAD_COMMAND = 1, 2, 3, 4
OFPMMFC_BAD_FLAGS, OFPMMFC_BAD_BAND = 5, 8
OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_PORT, OFPQOFC_BAD_QUEUE = 9, 0, 1

_BUCKET = struct.Struct("!HHII4x")


_COUNTER_PAIR = struct.Struct("!QQ")    # a bucket's or band's (packet_count, byte_count)


def _counter_pairs(pairs: list[tuple[int, int]]) -> bytes:
    return b"".join(_COUNTER_PAIR.pack(p, b) for p, b in pairs)


def _decode_counted(body: bytes, st: struct.Struct, length_at: int,
                    what: str) -> Iterator[tuple[tuple[int, ...], list[tuple[int, int]], int]]:
    """Records of `st` (ofp_group_stats, ofp_meter_stats), each followed by its counter pairs up to
    the record's own length (field `length_at`): (fields, pairs, length) per record."""
    pos = 0
    while pos + st.size <= len(body):
        fields = st.unpack_from(body, pos)
        length = fields[length_at]
        if length < st.size:
            raise ValueError(f"{what} length")
        yield fields, [_COUNTER_PAIR.unpack_from(body, i) for i in range(pos + st.size, pos + length, 16)], length
        pos += length


@dataclass
class OfBucket:
    """ofp_bucket: weight (select), watch_port and watch_group (fast failover), actions."""

    weight: int
    watch_port: int
    watch_group: int
    actions: list[tuple[str, int, int]]

    def encode(self) -> bytes:
        acts = encode_action_list(self.actions)
        return _BUCKET.pack(_BUCKET.size + len(acts), self.weight, self.watch_port, self.watch_group) + acts


def _decode_buckets(data: bytes) -> tuple[list[OfBucket], tuple[int, int] | None]:
    """The buckets of a group_mod or group_desc; the first action error, or None."""
    out: list[OfBucket] = []
    pos = 0
    while pos + _BUCKET.size <= len(data):
        length, weight, port, group = _BUCKET.unpack_from(data, pos)
        if length < _BUCKET.size or pos + length > len(data):
            raise ValueError("bucket length")
        acts, err = decode_action_list(data[pos + _BUCKET.size:pos + length])
        if err is not None:
            return out, err
        out.append(OfBucket(weight, port, group, acts))
        pos += length
    return out, None


@dataclass
class GroupDesc:
    """ofp_group_mod's body (command, type, group_id, buckets) and an ofp_group_desc entry."""

    command: int
    type: int
    group_id: int
    buckets: list[OfBucket] = field(default_factory=list)

    def encode_mod(self) -> bytes:
        return struct.pack("!HBxI", self.command, self.type, self.group_id) + b"".join(
            b.encode() for b in self.buckets)

    def encode_desc(self) -> bytes:
        body = b"".join(b.encode() for b in self.buckets)
        return struct.pack("!HBxI", 8 + len(body), self.type, self.group_id) + body

    @classmethod
    def decode_mod(cls, body: bytes) -> tuple[GroupDesc, tuple[int, int] | None]:
        command, gtype, group_id = struct.unpack_from("!HBxI", body, 0)
        buckets, err = _decode_buckets(body[8:])
        return cls(command, gtype, group_id, buckets), err


def decode_group_descs(body: bytes) -> list[GroupDesc]:
    out = []
    pos = 0
    while pos + 8 <= len(body):
        length, gtype, group_id = struct.unpack_from("!HBxI", body, pos)
        if length < 8:
            raise ValueError("group_desc length")
        buckets, _err = _decode_buckets(body[pos + 8:pos + length])
        out.append(GroupDesc(0, gtype, group_id, buckets))
        pos += length
    return out


_GROUP_STATS = struct.Struct("!H2xII4xQQII")


@dataclass
class GroupStats:
    """ofp_group_stats: counters per group and per bucket ((packets, bytes) each)."""

    group_id: int
    ref_count: int
    packet_count: int
    byte_count: int
    duration_sec: int
    duration_nsec: int
    buckets: list[tuple[int, int]]
    length: int = 0

    def encode(self) -> bytes:
        return _GROUP_STATS.pack(_GROUP_STATS.size + 16 * len(self.buckets), self.group_id, self.ref_count,
                                 self.packet_count, self.byte_count, self.duration_sec, self.duration_nsec) + \
            _counter_pairs(self.buckets)


def decode_group_stats(body: bytes) -> list[GroupStats]:
    return [GroupStats(gid, refs, packets, nbytes, dsec, dnsec, pairs, length)
            for (_, gid, refs, packets, nbytes, dsec, dnsec), pairs, length
            in _decode_counted(body, _GROUP_STATS, 0, "group_stats")]


@dataclass
class GroupFeatures:
    """ofp_group_features: types and capabilities bitmaps, max_groups and action bitmaps per type."""

    types: int
    capabilities: int
    max_groups: tuple[int, int, int, int]
    actions: tuple[int, int, int, int]

    def encode(self) -> bytes:
        return struct.pack("!II4I4I", self.types, self.capabilities, *self.max_groups, *self.actions)

    @classmethod
    def decode(cls, body: bytes) -> GroupFeatures:
        v = struct.unpack_from("!II4I4I", body, 0)
        return cls(v[0], v[1], (v[2], v[3], v[4], v[5]), (v[6], v[7], v[8], v[9]))


# what ovs-vswitchd 3.1 answers (ofproto.c: every group type, SELECT_WEIGHT | SELECT_LIVENESS |
# CHAINING, OFPG_MAX groups; the OpenFlow 1.3 actions OVS runs in a bucket: output, set_mpls_ttl,
# dec_mpls_ttl, push_vlan, pop_vlan, push_mpls, pop_mpls, set_queue, group, set_nw_ttl,
# dec_nw_ttl, set_field), as `ovs-ofctl dump-group-features` shows it on the real switch
_OVS_GROUP_ACTIONS = sum(1 << a for a in (0, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25))
GROUP_FEATURES_OVS = GroupFeatures(0xF, 0x7, (0xFFFFFF00,) * 4, (_OVS_GROUP_ACTIONS,) * 4)


@dataclass
class MeterBand:
    """ofp_meter_band_drop (type 1) or ofp_meter_band_dscp_remark (type 2, prec_level)."""

    type: int
    rate: int
    burst_size: int
    prec_level: int = 0

    def encode(self) -> bytes:
        if self.type == OFPMBT_DSCP_REMARK:
            return struct.pack("!HHIIB3x", self.type, 16, self.rate, self.burst_size, self.prec_level)
        return struct.pack("!HHII4x", self.type, 16, self.rate, self.burst_size)


def _decode_bands(data: bytes) -> list[MeterBand]:
    out = []
    pos = 0
    while pos + 16 <= len(data):
        btype, length, rate, burst = struct.unpack_from("!HHII", data, pos)
        if length < 16:
            raise ValueError("meter band length")
        out.append(MeterBand(btype, rate, burst, data[pos + 12] if btype == OFPMBT_DSCP_REMARK else 0))
        pos += length
    return out


@dataclass
class MeterConfig:
    """ofp_meter_mod's body (command, flags, meter_id, bands) and an ofp_meter_config entry."""

    command: int
    flags: int
    meter_id: int
    bands: list[MeterBand] = field(default_factory=list)

    def encode_mod(self) -> bytes:
        return struct.pack("!HHI", self.command, self.flags, self.meter_id) + b"".join(b.encode() for b in self.bands)

    def encode_config(self) -> bytes:
        bands = b"".join(b.encode() for b in self.bands)
        return struct.pack("!HHI", 8 + len(bands), self.flags, self.meter_id) + bands

    @classmethod
    def decode_mod(cls, body: bytes) -> MeterConfig:
        command, flags, meter_id = struct.unpack_from("!HHI", body, 0)
        return cls(command, flags, meter_id, _decode_bands(body[8:]))


def decode_meter_configs(body: bytes) -> list[MeterConfig]:
    out = []
    pos = 0
    while pos + 8 <= len(body):
        length, flags, meter_id = struct.unpack_from("!HHI", body, pos)
        if length < 8:
            raise ValueError("meter_config length")
        out.append(MeterConfig(0, flags, meter_id, _decode_bands(body[pos + 8:pos + length])))
        pos += length
    return out


_METER_STATS = struct.Struct("!IH6xIQQII")


@dataclass
class MeterStats:
    """ofp_meter_stats: counters of the meter and of each band ((packets, bytes) each)."""

    meter_id: int
    flow_count: int
    packet_in_count: int
    byte_in_count: int
    duration_sec: int
    duration_nsec: int
    bands: list[tuple[int, int]]
    len: int = 0

    def encode(self) -> bytes:
        return _METER_STATS.pack(self.meter_id, _METER_STATS.size + 16 * len(self.bands), self.flow_count,
                                 self.packet_in_count, self.byte_in_count, self.duration_sec,
                                 self.duration_nsec) + _counter_pairs(self.bands)


def decode_meter_stats(body: bytes) -> list[MeterStats]:
    return [MeterStats(mid, flows, packets, nbytes, dsec, dnsec, pairs, length)
            for (mid, _, flows, packets, nbytes, dsec, dnsec), pairs, length
            in _decode_counted(body, _METER_STATS, 1, "meter_stats")]


@dataclass
class MeterFeatures:
    """ofp_meter_features."""

    max_meter: int
    band_types: int
    capabilities: int
    max_bands: int
    max_color: int

    def encode(self) -> bytes:
        return struct.pack("!IIIBB2x", self.max_meter, self.band_types, self.capabilities, self.max_bands,
                           self.max_color)

    @classmethod
    def decode(cls, body: bytes) -> MeterFeatures:
        return cls(*struct.unpack_from("!IIIBB", body, 0))


# ovs-vswitchd 3.1 with the userspace datapath (dpif-netdev's meter features, as `ovs-ofctl
# meter-features` shows them on the real switch): 262144 meters of 8 drop bands, kbps pktps burst stats
METER_FEATURES_OVS = MeterFeatures(262144, 1 << OFPMBT_DROP, OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS,
                                   8, 0)

_QUEUE_STATS = struct.Struct("!IIQQQII")


@dataclass
class QueueStats:
    """ofp_queue_stats."""

    port_no: int
    queue_id: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    duration_sec: int
    duration_nsec: int


def queue_stats_entry(q: QueueStats) -> bytes:
    return _QUEUE_STATS.pack(q.port_no, q.queue_id, q.tx_bytes, q.tx_packets, q.tx_errors, q.duration_sec,
                             q.duration_nsec)


def decode_queue_stats(body: bytes) -> list[QueueStats]:
    return [QueueStats(*_QUEUE_STATS.unpack_from(body, i)) for i in range(0, len(body) - _QUEUE_STATS.size + 1,
                                                                           _QUEUE_STATS.size)]


def encode_queue_config(port: int, queues: list[tuple[int, int]]) -> bytes:
    """OFPT_QUEUE_GET_CONFIG_REPLY's body: the port asked, then each (port, queue_id) as an
    ofp_packet_queue without properties (OVS 3.1 knows no min/max rate in OpenFlow's terms
    for a linux-htb queue: `ovs-ofctl queue-get-config` on the real switch prints none)."""
    return struct.pack("!I4x", port) + b"".join(struct.pack("!IIH6x", qid, p, 16) for p, qid in queues)


def decode_queue_config(body: bytes) -> tuple[int, list[tuple[int, int, bytes]]]:
    """The port, and each queue's (queue_id, port, properties bytes)."""
    port = struct.unpack_from("!I", body, 0)[0]
    out = []
    pos = 8
    while pos + 16 <= len(body):
        qid, qport, length = struct.unpack_from("!IIH", body, pos)
        if length < 16:
            raise ValueError("packet_queue length")
        out.append((qid, qport, body[pos + 16:pos + length]))
        pos += length
    return port, out
