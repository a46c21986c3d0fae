"""The namespace's TCP and UDP sockets as one list, as the kernel's inet_diag
(net/ipv4/inet_diag.c) and /proc/net/tcp|udp give them to `ss` and `netstat`.

`inet_sockets(ctx)` returns one `InetSock` per socket: protocol, state (the
TCP state, numbered as netplex.stack.tcp; UDP: ESTABLISHED when
connected, CLOSED otherwise, as udp4_seq_show reports), addresses, queue
lengths (Recv-Q: bytes not yet read, or a listener's accept queue; Send-Q:
bytes not yet acknowledged, or a listener's backlog) and the processes that
hold it (`users`: comm, pid, fd), from the machine's process table. A
connection accepted by a listener belongs to the listener's process, as the
accepted file descriptor of a server does. Listeners come first, by port,
then the connections in the table's order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netplex.machine import Machine
from netplex.shell.registry import Context
from netplex.stack.tcp import CLOSED, ESTABLISHED, LISTEN

__all__ = ["InetSock", "User", "inet_sockets"]

SOMAXCONN_BACKLOG = 128  # what the probe services (and Python's listen()) ask for


@dataclass(frozen=True, slots=True)
class User:
    comm: str
    pid: int
    fd: int


@dataclass(slots=True)
class InetSock:
    proto: str             # "tcp" or "udp"
    state: int             # netplex.stack.tcp state number (LISTEN, ESTABLISHED, ...)
    laddr: int
    lport: int
    raddr: int
    rport: int
    recv_q: int
    send_q: int
    users: list[User] = field(default_factory=list)

    @property
    def listening(self) -> bool:
        """A server socket: a TCP listener or an unconnected UDP socket."""
        return self.state == LISTEN or (self.proto == "udp" and not self.raddr)


def _owners(ctx: Context) -> dict[int, list[User]]:
    """id(socket) -> the processes that hold it, with the fd each would have (3 on, in opening order)."""
    owners: dict[int, list[User]] = {}
    if not isinstance(ctx.machine, Machine):
        return owners
    for proc in ctx.machine.procs:
        # ss reads every /proc/PID/fd: a process of another namespace holding a socket of this one
        # (dockerd's embedded DNS listeners in a container) is its user too
        if not proc.alive:
            continue
        fd = 3
        for sk in proc.sockets:
            owners.setdefault(id(sk), []).append(User(proc.comm, proc.pid, fd))
            fd += 1
    return owners


def inet_sockets(ctx: Context) -> list[InetSock]:
    """Every TCP and UDP socket of the command's namespace."""
    table: Any = ctx.node.sockets
    owners = _owners(ctx)
    out: list[InetSock] = []
    for port in sorted(table.tcp_listen):
        sk = table.tcp_listen[port]
        out.append(InetSock("tcp", LISTEN, sk.laddr, sk.lport, 0, 0, len(sk.accept_queue), SOMAXCONN_BACKLOG,
                            owners.get(id(sk), [])))
    for sk in list(table.tcp_conns.values()):
        users = owners.get(id(sk)) or (owners.get(id(sk.listener), []) if sk.listener is not None else [])
        out.append(InetSock("tcp", sk.state, sk.laddr, sk.lport, sk.raddr, sk.rport, len(sk.rcvbuf),
                            len(sk.sndbuf), users))
    for port in sorted(table.udp):
        sk = table.udp[port]
        out.append(InetSock("udp", ESTABLISHED if sk.raddr else CLOSED, sk.laddr, sk.lport, sk.raddr or 0,
                            sk.rport or 0, sum(len(d[0]) for d in sk.rxq), 0, owners.get(id(sk), [])))
    return out
