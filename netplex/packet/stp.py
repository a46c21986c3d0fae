"""Spanning-tree BPDUs (IEEE 802.1D-2004 §9.3) in their 802.3/LLC frame.

A BPDU travels in an IEEE 802.3 frame whose type field is a length, to the
bridge group address 01:80:c2:00:00:00, behind an LLC header (DSAP 0x42,
SSAP 0x42, control 0x03 UI). Linux's br_send_config_bpdu / br_send_tcn_bpdu
build exactly these 35- and 4-byte bodies; times travel in 1/256 s.

    config: protocol id (2) = 0 | version (1) = 0 | type (1) = 0x00 | flags (1)
            root id (8) | root path cost (4) | bridge id (8) | port id (2)
            message age (2) | max age (2) | hello time (2) | forward delay (2)
    TCN:    protocol id (2) = 0 | version (1) = 0 | type (1) = 0x80
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["BPDU_TYPE_CONFIG", "BPDU_TYPE_TCN", "BR_GROUP_ADDRESS", "LLC_STP", "Bpdu",
           "STP_CONFIG_LEN", "STP_TCN_LEN"]

BPDU_TYPE_CONFIG = 0x00
BPDU_TYPE_TCN = 0x80
BR_GROUP_ADDRESS = b"\x01\x80\xc2\x00\x00\x00"
LLC_STP = b"\x42\x42\x03"
STP_CONFIG_LEN = 3 + 35      # the 802.3 length field of a config BPDU frame
STP_TCN_LEN = 3 + 4
TC_FLAG = 0x01
TCA_FLAG = 0x80

_CFG = struct.Struct("!HBBB8sI8sHHHHH")


@dataclass(slots=True)
class Bpdu:
    """A config or TCN BPDU with its LLC header. Identifiers are the 8-byte
    wire form (priority, then MAC); times are in 1/256 s as on the wire."""

    type: int = BPDU_TYPE_CONFIG
    flags: int = 0
    root: bytes = b"\x00" * 8
    root_path_cost: int = 0
    bridge: bytes = b"\x00" * 8
    port_id: int = 0
    message_age: int = 0
    max_age: int = 0
    hello_time: int = 0
    forward_delay: int = 0

    @property
    def topology_change(self) -> bool:
        return bool(self.flags & TC_FLAG)

    @property
    def topology_change_ack(self) -> bool:
        return bool(self.flags & TCA_FLAG)

    def encode(self) -> bytes:
        if self.type == BPDU_TYPE_TCN:
            return LLC_STP + b"\x00\x00\x00" + bytes([BPDU_TYPE_TCN])
        return LLC_STP + _CFG.pack(0, 0, BPDU_TYPE_CONFIG, self.flags, self.root, self.root_path_cost,
                                   self.bridge, self.port_id, self.message_age, self.max_age,
                                   self.hello_time, self.forward_delay)

    @classmethod
    def decode(cls, data: bytes) -> Bpdu:
        if len(data) < 7 or bytes(data[:3]) != LLC_STP:
            raise ValueError("not an STP BPDU (LLC 42 42 03 expected)")
        if data[3] or data[4] or data[5]:
            raise ValueError("unknown BPDU protocol or version")
        t = data[6]
        if t == BPDU_TYPE_TCN:
            return cls(BPDU_TYPE_TCN)
        if len(data) < 3 + 35:
            raise ValueError(f"truncated config BPDU ({len(data)} bytes)")
        (_, _, t, flags, root, cost, bridge, port, age, maxage, hello,
         fwd) = _CFG.unpack_from(data, 3)
        return cls(t, flags, root, cost, bridge, port, age, maxage, hello, fwd)

    def wire_len(self) -> int:
        return STP_TCN_LEN if self.type == BPDU_TYPE_TCN else STP_CONFIG_LEN

    def copy(self) -> Bpdu:
        return Bpdu(self.type, self.flags, self.root, self.root_path_cost, self.bridge, self.port_id,
                    self.message_age, self.max_age, self.hello_time, self.forward_delay)
