"""OpenFlow 1.3 controller roles (§6.3.6, §7.3.9) as ovs-vswitchd keeps them: connmgr.c's
ofconn roles and master election id, ofproto.c's handle_role_request, reject_slave_controller,
and which asynchronous messages a role receives (ofputil_async_cfg_default).

A connection starts EQUAL (and is EQUAL again after a reconnect: ofconn_flush). A ROLE_REQUEST
with NOCHANGE only asks; MASTER or SLAVE carries a generation id that must not be older than the
bridge's last one (OFPRRFC_STALE); a new MASTER makes the bridge's other master a SLAVE. The
ROLE_REPLY says the connection's role and the bridge's election id (all ones while none was
given). A SLAVE cannot change the switch (OFPBRC_IS_SLAVE) and hears no PACKET_IN or
FLOW_REMOVED, only PORT_STATUS.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Protocol

from netplex.errors import NetplexError

__all__ = ["OFPCR_ROLE_EQUAL", "OFPCR_ROLE_MASTER", "OFPCR_ROLE_NOCHANGE", "OFPCR_ROLE_SLAVE", "RoleError",
           "ROLE_NAMES", "Election", "decode_role", "encode_role", "role_request"]

OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE = 0, 1, 2, 3
ROLE_NAMES = {OFPCR_ROLE_NOCHANGE: "NOCHANGE", OFPCR_ROLE_EQUAL: "EQUAL", OFPCR_ROLE_MASTER: "MASTER",
              OFPCR_ROLE_SLAVE: "SLAVE"}
OFPET_ROLE_REQUEST_FAILED = 11
OFPRRFC_STALE, OFPRRFC_BAD_ROLE = 0, 2
NO_ELECTION_ID = (1 << 64) - 1


class RoleError(NetplexError):
    """A ROLE_REQUEST refused: its OFPT_ERROR (type, code)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"OFPET_ROLE_REQUEST_FAILED {code}")
        self.err = (OFPET_ROLE_REQUEST_FAILED, code)


class _Conn(Protocol):
    role: int


class Election:
    """connmgr's master_election_id: one per bridge, defined by the first MASTER/SLAVE request."""

    def __init__(self) -> None:
        self.election_id: int | None = None

    def set(self, generation_id: int) -> bool:
        """ofconn_set_master_election_id: False when the id is older (two's complement distance)."""
        if self.election_id is not None:
            delta = (generation_id - self.election_id) & NO_ELECTION_ID
            if delta >= 1 << 63:
                return False
        self.election_id = generation_id
        return True


def encode_role(role: int, generation_id: int) -> bytes:
    """ofp_role_request / ofp_role_reply's body: role, pad, generation_id."""
    return struct.pack("!I4xQ", role, generation_id)


def decode_role(body: bytes) -> tuple[int, int]:
    role, generation_id = struct.unpack_from("!I4xQ", body, 0)
    return role, generation_id


def role_request(conn: _Conn, others: Iterable[_Conn], election: Election, body: bytes) -> bytes:
    """handle_role_request: the ROLE_REPLY's body, or RoleError; a new MASTER demotes the others'."""
    if len(body) < 16:
        raise RoleError(OFPRRFC_BAD_ROLE)
    role, generation_id = decode_role(body)
    if role not in ROLE_NAMES:
        raise RoleError(OFPRRFC_BAD_ROLE)
    if role != OFPCR_ROLE_NOCHANGE:
        if role != OFPCR_ROLE_EQUAL and not election.set(generation_id):
            raise RoleError(OFPRRFC_STALE)
        if role == OFPCR_ROLE_MASTER:
            for other in others:
                if other is not conn and other.role == OFPCR_ROLE_MASTER:
                    other.role = OFPCR_ROLE_SLAVE
        conn.role = role
    return encode_role(conn.role, NO_ELECTION_ID if election.election_id is None else election.election_id)
