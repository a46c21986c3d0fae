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
import posixpath
from collections.abc import Sequence

from netplex.apps.docker_proxy import DockerProxy
from netplex.apps.process import Program, RunFile
from netplex.apps.services import ProbeService
from netplex.container.cli import docker_main, dockerd_main
from netplex.container.engine import SOCKET_PATH
from netplex.machine import Machine
from netplex.packet.addr import ip_to_int
from netplex.shell import sysfs
from netplex.shell.nsexec import exec_in
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack import rtnl
from netplex.stack.netns import Namespace

__all__ = ["Dockerd", "SimHost"]

NSEC_PER_SEC = 1_000_000_000


class Dockerd(Program):
    """The daemon's process: it holds the API socket while it lives."""

    comm = "dockerd"
    vsz_kib, rss_kib = 2381132, 81920

    def start(self) -> None:
        assert self.fs is not None
        self.own(RunFile(self.fs, SOCKET_PATH))


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
        r = exec_in(self.ctx if stdin else dataclasses.replace(self.ctx, stdin=""), ns, list(argv))
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
