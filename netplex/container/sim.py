"""docker and dockerd on a simulated host: the `Host` of `netplex.container.engine` over the node's shell.

`dockerd` and `docker` are commands of every node's shell (registered here);
dockerd runs as a process of the machine (`ps` shows it) that owns
/var/run/docker.sock, so `kill` ends it and docker then says it cannot
connect. Containers' programs are processes in their namespaces: an image's
server is netplex's probe service (`netplex-service tcp:80`, as SCENARIO.md's
services), `sleep` and the like a process that waits; each published port with
the userland proxy on is a `docker-proxy` process (`netplex.apps.docker_proxy`).
"""
from __future__ import annotations

import dataclasses
import json
import posixpath
from collections.abc import Callable, Sequence
from typing import Any

from netplex.apps.docker_proxy import DockerProxy
from netplex.apps.process import Program, RunFile
from netplex.apps.services import ProbeService
from netplex.container.cli import docker_main, dockerd_main
from netplex.container.dns import DNS_IP, EXT_TIMEOUT, NO_OVERRIDES, ext_servers, ndots_set, overrides_of
from netplex.container.dns import answer as dns_answer
from netplex.container.engine import SOCKET_PATH, STATE_PATH, DockerError
from netplex.machine import Machine
from netplex.packet.addr import ip_to_int
from netplex.packet.dns import DNS_PORT, RCODE_REFUSED, RCODE_SERVFAIL, DnsError, DnsMessage
from netplex.shell import sysfs
from netplex.shell.nsexec import exec_in
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack import rtnl
from netplex.stack.netns import Namespace
from netplex.stack.tcp import TcpSocket

__all__ = ["Dockerd", "SimHost"]

NSEC_PER_SEC = 1_000_000_000


class Dockerd(Program):
    """The daemon's process: it holds the API socket while it lives, and each container's embedded
    DNS server's sockets (they live in the container's namespace, as `ss -lunp` there shows)."""

    comm = "dockerd"
    vsz_kib, rss_kib = 2381132, 81920

    def __init__(self) -> None:
        super().__init__()
        self.resolvers: dict[str, EmbeddedDns] = {}

    def start(self) -> None:
        assert self.fs is not None
        self.own(RunFile(self.fs, SOCKET_PATH))

    def state(self) -> dict[str, Any]:
        assert self.fs is not None
        data = self.fs.read(STATE_PATH)
        return json.loads(data) if data else {"networks": {}, "containers": {}}

    def serve_dns(self, container: str, ns: Namespace, root: Namespace) -> tuple[int, int]:
        """Resolver.Start for `container`: its listeners on 127.0.0.11 in `ns`; the ports."""
        self.stop_dns(container)
        r = EmbeddedDns(self, container, ns, root)
        self.resolvers[container] = r
        return r.udp.lport, r.tcp.lport

    def stop_dns(self, container: str) -> None:
        r = self.resolvers.pop(container, None)
        if r is not None:
            r.close()


class EmbeddedDns:
    """resolver.go's Resolver for one container (netplex.container.dns answers): a UDP and a TCP
    listener on 127.0.0.11, random ports, in the container's namespace. A name it does not know
    is forwarded over UDP from the host's namespace to the host's resolv.conf servers in turn
    (HostLoopback: dockerd dials them itself), 4 s each; none answering is SERVFAIL."""

    def __init__(self, dockerd: Dockerd, container: str, ns: Namespace, root: Namespace) -> None:
        self.dockerd, self.container, self.ns, self.root = dockerd, container, ns, root
        ip = ip_to_int(DNS_IP)
        self.udp = dockerd.own(ns.sockets.udp_socket())
        self.udp.bind(ip, 0)
        self.udp.on_recv = self._udp_query
        self.tcp = dockerd.own(TcpSocket(ns.sockets))
        self.tcp.listen(ns.sockets.ephemeral_port("tcp"), ip)
        self.tcp.on_accept = self._accept
        self.upstream: list[Any] = []

    def close(self) -> None:
        for sk in (self.udp, self.tcp, *self.upstream):
            sk.close()

    def _serve(self, data: bytes, reply: Callable[[bytes], None]) -> None:
        try:
            query = DnsMessage.decode(data)
        except DnsError:
            return
        if query.qr or not query.questions:
            return
        state = self.dockerd.state()
        raw = self.dockerd.fs.read("/etc/resolv.conf") if self.dockerd.fs is not None else None
        host_rc = raw.decode() if raw else None
        c = state["containers"].get(self.container)
        overrides = overrides_of(c) if c is not None else NO_OVERRIDES
        resp = dns_answer(state, self.container, query, ndots_set=ndots_set(host_rc, overrides))
        if resp is not None:
            reply(resp.encode())
            return
        self._forward(query, data, ext_servers(host_rc, overrides), reply)

    def _forward(self, query: DnsMessage, data: bytes, servers: list[tuple[str, bool]],
                 reply: Callable[[bytes], None]) -> None:
        """forwardExtDNS: each server in turn until one gives an answer that is not SERVFAIL/REFUSED;
        the host's from the host's namespace, --dns's from the container's (dialExtDNS)."""
        if not servers:
            reply(query.reply(RCODE_SERVFAIL).encode())
            return
        cur: dict[str, Any] = {"i": -1, "sk": None, "done": False}

        def drop() -> None:
            sk = cur["sk"]
            if sk is not None:
                sk.close()
                self.upstream.remove(sk)
                cur["sk"] = None

        def next_server(i: int) -> None:
            if not cur["done"] and cur["i"] == i:
                drop()
                attempt(i + 1)

        def recv(i: int, d: bytes) -> None:
            try:
                m = DnsMessage.decode(d)
            except DnsError:
                return
            if cur["done"] or cur["i"] != i or m.id != query.id or not m.qr:
                return
            if m.rcode in (RCODE_SERVFAIL, RCODE_REFUSED):
                next_server(i)
                return
            cur["done"] = True
            drop()
            reply(d)

        def attempt(i: int) -> None:
            if i >= len(servers):
                cur["done"] = True
                reply(query.reply(RCODE_SERVFAIL).encode())
                return
            server, host_loopback = servers[i]
            sk = (self.root if host_loopback else self.ns).sockets.udp_socket()
            self.upstream.append(sk)
            cur["i"], cur["sk"] = i, sk
            sk.on_recv = lambda d, src, sport: recv(i, d)
            sk.on_error = lambda e: next_server(i)
            if sk.connect(ip_to_int(server), DNS_PORT) or sk.sendto(data):
                next_server(i)
                return
            self.dockerd.after(int(EXT_TIMEOUT * NSEC_PER_SEC), next_server, i)

        attempt(0)

    def _udp_query(self, data: bytes, src: int, sport: int) -> None:
        self._serve(data, lambda out: self.udp.sendto(out, src, sport))

    def _accept(self, client: TcpSocket) -> None:
        """DNS over TCP (RFC 1035 4.2.2): each message behind its two-byte length."""
        self.dockerd.own(client)
        buf = bytearray()

        def on_data(sk: Any, payload: bytes) -> None:
            buf.extend(payload)
            while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                n = int.from_bytes(buf[:2], "big")
                msg = bytes(buf[2:2 + n])
                del buf[:2 + n]
                self._serve(msg, lambda out: client.send(len(out).to_bytes(2, "big") + out))

        client.on_data = on_data


class Waiting(Program):
    """A container's process that does nothing until it is killed (`sleep infinity`)."""

    def __init__(self, comm: str) -> None:
        super().__init__()
        self.comm = comm


class SimHost:
    """engine.Host for a simulated machine, through a shell command's Context."""

    def __init__(self, ctx: Context, machine: Machine) -> None:
        self.ctx, self.machine = ctx, machine

    def _ns(self, netns: str | None) -> Namespace:
        return self.machine.root if netns is None else self.machine.netns_get(netns)

    def run_in(self, netns: str | None, argv: Sequence[str], stdin: bool = False) -> tuple[int, str, str]:
        """`argv` in a namespace of the machine; its standard input is the command's own only with `stdin`
        (`docker exec -i`)."""
        try:
            ns = self._ns(netns)
        except Exception as e:   # noqa: BLE001 - a NetnsError: the namespace is gone
            return 1, "", str(e) + "\n"
        r = exec_in(self.ctx if stdin else dataclasses.replace(self.ctx, stdin=""), ns, list(argv),
                    etc_netns=netns or "")
        if r is None:
            return 127, "", f"{argv[0]}: command not found\n"
        return r.status, r.output, r.error

    def run(self, argv: Sequence[str]) -> tuple[int, str, str]:
        return self.run_in(None, argv)

    def read(self, path: str) -> str | None:
        if path.startswith(("/proc/", "/sys/")) and self.machine.fs.is_virtual(path):
            return sysfs.read_file(self.machine.root, path)
        data = self.machine.fs.read(path)
        return None if data is None else data.decode()

    def write(self, path: str, text: str) -> None:
        self.machine.fs.write(path, text.encode())

    def exists(self, path: str) -> bool:
        return self.read(path) is not None

    def now(self) -> float:
        return self.machine.world.now / NSEC_PER_SEC

    def open_tun(self, name: str) -> None:
        """open("/dev/net/tun") + TUNSETIFF IFF_TUN|IFF_NO_PI: a non-persistent TUN device
        (its holder, flanneld's process, attaches to it: stack/tun.py)."""
        rtnl.newlink(self.machine.root, "tun", name, mode="tun", persist=False)

    def spawn(self, argv: Sequence[str], netns: str | None, services: Sequence[tuple[str, int]]) -> int:
        ns = self._ns(netns)
        program: Program
        if posixpath.basename(argv[0]) == "docker-proxy":
            opt = dict(zip(argv[1::2], argv[2::2]))
            program = DockerProxy(opt["-proto"], ip_to_int(opt["-host-ip"]), int(opt["-host-port"]),
                                  ip_to_int(opt["-container-ip"]), int(opt["-container-port"]))
        elif services:
            program = ProbeService(list(services))
        else:
            program = Waiting(posixpath.basename(argv[0])[:15])
        p = self.machine.procs.spawn(list(argv), ns, program)
        return p.pid

    def kill(self, pid: int) -> None:
        self.machine.procs.kill(pid, 9)

    def _dockerd(self) -> Dockerd | None:
        for p in self.machine.procs.by_program(Dockerd):
            if p.alive and isinstance(p.program, Dockerd):
                return p.program
        return None

    def start_resolver(self, container: str, netns: str) -> tuple[int, int]:
        """The embedded DNS server of `container`: dockerd's listeners in its namespace; their ports."""
        d = self._dockerd()
        if d is None:
            raise DockerError("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                              "Is the docker daemon running?", 1)
        return d.serve_dns(container, self._ns(netns), self.machine.root)

    def stop_resolver(self, container: str) -> None:
        d = self._dockerd()
        if d is not None:
            d.stop_dns(container)

    def alive(self, pid: int) -> bool:
        p = self.machine.procs.get(pid)
        return p is not None and p.alive

    def join_net_cls(self, cgroup: str, pid: int, asked: bool) -> None:
        """mkdir -p the cgroup in the machine's net_cls hierarchy and move `pid` into it."""
        net_cls = self.machine.net_cls
        parts = [c for c in cgroup.split("/") if c]
        for i in range(len(parts)):
            sub = "/" + "/".join(parts[:i + 1])
            if sub not in net_cls.classid:
                net_cls.make(sub)
        net_cls.attach(cgroup, pid)

    def leave_net_cls(self, cgroup: str) -> None:
        """rmdir the container's cgroup (its task is gone); the parents stay, as runc leaves them."""
        if cgroup in self.machine.net_cls.classid and not self.machine.net_cls.tasks(cgroup):
            self.machine.net_cls.rmdir(cgroup)


@command("dockerd", "docker")
def docker(ctx: Context, argv: list[str]) -> Result:
    """dockerd(8) sets the host up as dockerd does and runs as a daemon (returning at once, as `dockerd &`);
    docker(1) is the CLI talking to it."""
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", f"netplex: {argv[0]}: this shell runs on no machine\n")
    machine = ctx.machine
    host = SimHost(ctx, machine)
    if argv[0] == "dockerd":
        def spawn() -> int:
            return machine.procs.spawn(["/usr/bin/dockerd", *argv[1:]], machine.root, Dockerd()).pid

        status, out, err = dockerd_main(host, machine.name, argv, spawn)
    else:
        status, out, err = docker_main(host, machine.name, argv, host.run_in)
    return Result(status, out, err)
