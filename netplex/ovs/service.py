"""How the ovs-* commands reach a machine's Open vSwitch (the unix socket
/var/run/openvswitch/db.sock and ovs-vswitchd's control socket).

A Linux node in netplex has Debian's openvswitch-switch installed: its
service starts with the first ovs-* command (`ovs-ctl start`, as systemd
would have at boot), creating /etc/openvswitch/conf.db. Once that file
exists, a node whose daemons were killed gets the real tools' connection
errors until they are started again (`ovs-ctl start`).
"""
from __future__ import annotations

from typing import Any

from netplex.ovs.ovsdb import DbError
from netplex.ovs.vswitchd import CONF_DB, OvsdbServer, OvsVswitchd, ovs_daemons, ovs_start
from netplex.ovs.xlate import packet_out, upcall_handler

__all__ = ["DB_SOCK", "VSWITCHD_CTL", "connect", "running_vswitchd", "start_service"]

DB_SOCK = "unix:/var/run/openvswitch/db.sock"
VSWITCHD_CTL = "/var/run/openvswitch/ovs-vswitchd.ctl"


def start_service(machine: Any) -> None:
    """ovs-ctl start: both daemons in the machine's root namespace."""
    ovs_start(machine, machine.root, upcall_handler, packet_out)


def connect(machine: Any, tool: str) -> tuple[OvsdbServer, OvsVswitchd | None]:
    """The daemons a command talks to; DbError with the tool's message when the
    database cannot be reached."""
    if machine is None:
        raise DbError(f"{DB_SOCK}: database connection failed (No such file or directory)")
    server, vsd = ovs_daemons(machine)
    if server is None and not machine.fs.exists(CONF_DB):
        start_service(machine)
        server, vsd = ovs_daemons(machine)
    if server is None:
        raise DbError(f"{DB_SOCK}: database connection failed (No such file or directory)")
    return server, vsd


def running_vswitchd(machine: Any) -> OvsVswitchd | None:
    """The machine's ovs-vswitchd if it runs (nothing is started: the kernel's datapath is
    what `ovs-dpctl` asks)."""
    return None if machine is None else ovs_daemons(machine)[1]
