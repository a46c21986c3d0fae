"""docker and dockerd on the kernel twin: the `Host` of `netplex.container.engine` over the real tools.

    python -m netplex.container.real docker run -d --name web -p 10080:80 nginx
    python -m netplex.container.real dockerd --userland-proxy=false

netplex/twin/bin/docker and .../dockerd run this inside a twin node (its network
and mount namespaces), so the same engine that drives the simulator's shell
runs the real `ip`, `sysctl` and `iptables` here, keeps its state in the
node's private /var/lib and marks the running daemon with /var/run/docker.sock
in the node's private /run (there is no resident dockerd process on the twin:
each `docker` command does the daemon's work itself). Containers' programs are
real processes in the containers' namespaces (`ip netns exec NAME ...`): an
image's server is netplex/twin/service.py, docker-proxy is
netplex/twin/docker_proxy.py; the twin's teardown kills them with the node.
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from netplex.container.cli import docker_main, dockerd_main
from netplex.container.engine import SOCKET_PATH, DockerError
from netplex.container.etcdctl import EtcdUnreachable
from netplex.container.flannel import Flanneld, FlannelError, LeaseRevoked, parse_flanneld

__all__ = ["RealHost", "main"]

TWIN_DIR = Path(__file__).resolve().parent.parent / "twin"
SERVICE = TWIN_DIR / "service.py"
PROXY = TWIN_DIR / "docker_proxy.py"
TUNSETIFF = 0x400454CA       # linux/if_tun.h: _IOW('T', 202, int)
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
TUN_READ = 65536
READY_TIMEOUT = 10.0
ETCD_WAIT = 15.0            # etcd-server takes a moment to answer after it starts
WATCH_INTERVAL = 1.0
DNS_PID_DIR = "/run/docker/netplex-dns"     # the embedded DNS servers' pids, in the node's private /run


class RealHost:
    """engine.Host for the namespace this program runs in."""

    tun_fd: int | None = None

    def run_in(self, netns: str | None, argv: Sequence[str], stdin: bool = False) -> tuple[int, str, str]:
        cmd = list(argv) if netns is None else ["ip", "netns", "exec", netns, *argv]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                 stdin=None if stdin else subprocess.DEVNULL)
        except FileNotFoundError:
            return 127, "", f"{argv[0]}: command not found\n"
        if res.returncode == 255 and netns is not None and "exec of" in res.stderr:
            return 127, "", f"{argv[0]}: command not found\n"
        return res.returncode, res.stdout, res.stderr

    def run(self, argv: Sequence[str]) -> tuple[int, str, str]:
        return self.run_in(None, argv)

    def read(self, path: str) -> str | None:
        try:
            return Path(path).read_text()
        except OSError:
            return None

    def write(self, path: str, text: str) -> None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, p)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def now(self) -> float:
        return time.time()

    def open_tun(self, name: str) -> None:
        """flannel's ip.OpenTun: /dev/net/tun with TUNSETIFF IFF_TUN|IFF_NO_PI, held by this process."""
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
        self.tun_fd = fd

    def spawn(self, argv: Sequence[str], netns: str | None, services: Sequence[tuple[str, int]]) -> int:
        prefix = [] if netns is None else ["ip", "netns", "exec", netns]
        env = dict(os.environ)
        if os.path.basename(argv[0]) == "docker-proxy":
            env["NETPLEX_PROXY_FOREGROUND"] = "1"
            cmd = [sys.executable, "-I", str(PROXY), *argv[1:]]
        elif services:
            cmd = [sys.executable, "-I", str(SERVICE), *(f"{p}:{n}" for p, n in services)]
        else:
            cmd = ["sleep", "infinity"]
        proxy = "NETPLEX_PROXY_FOREGROUND" in env     # the proxy calls setsid() itself
        proc = subprocess.Popen([*prefix, *cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=not proxy, env=env)
        assert proc.stdout is not None
        if services:        # service.py says `ready` once it listens
            select.select([proc.stdout], [], [], READY_TIMEOUT)
            proc.stdout.readline()
        elif proxy:
            time.sleep(0.2)   # a proxy that cannot bind exits at once
        proc.stdout.close()
        return proc.pid

    def kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def join_net_cls(self, cgroup: str, pid: int, asked: bool) -> None:
        """The twin never touches the host's cgroups (this kernel has cgroup v2 only, no net_cls)."""
        if asked:
            raise DockerError("netplex: docker run --cgroup-parent is not supported on the linux backend "
                              "(the kernel twin leaves the host's cgroups alone)", 125)

    def leave_net_cls(self, cgroup: str) -> None:
        """Nothing was made (join_net_cls)."""

    def start_resolver(self, container: str, netns: str) -> tuple[int, int]:
        """The container's embedded DNS server: netplex/container/real_dns.py, a process of the node."""
        env = dict(os.environ, PYTHONPATH=str(TWIN_DIR.parent.parent))
        proc = subprocess.Popen([sys.executable, "-m", "netplex.container.real_dns", container, netns],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                start_new_session=True, env=env)
        assert proc.stdout is not None
        select.select([proc.stdout], [], [], READY_TIMEOUT)
        words = proc.stdout.readline().split()
        proc.stdout.close()
        if len(words) != 3 or words[0] != b"ready":
            proc.kill()
            raise DockerError(f"Error response from daemon: the embedded DNS server of {container} did not start",
                              125)
        self.write(f"{DNS_PID_DIR}/{container}.pid", f"{proc.pid}\n")
        return int(words[1]), int(words[2])

    def stop_resolver(self, container: str) -> None:
        text = self.read(f"{DNS_PID_DIR}/{container}.pid")
        if text and text.strip().isdigit():
            self.kill(int(text))
            os.unlink(f"{DNS_PID_DIR}/{container}.pid")

    def alive(self, pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def etcd_post(endpoints: list[str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A request to etcd's JSON gateway (the real etcd-server's), waiting for it to come up."""
    deadline = time.monotonic() + ETCD_WAIT
    while True:
        for ep in endpoints:
            url = (ep if "://" in ep else "http://" + ep).rstrip("/") + path
            req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=5) as res:
                    return dict(json.loads(res.read() or b"{}"))
            except urllib.error.HTTPError as e:
                return dict(json.loads(e.read() or b"{}"))
            except (OSError, ValueError):
                continue
        if time.monotonic() > deadline:
            raise EtcdUnreachable(",".join(endpoints))
        time.sleep(0.2)


def flanneld(host: RealHost, argv: list[str]) -> int:
    """flanneld: take the lease and build the backend, then watch the leases in the background."""
    try:
        opts = parse_flanneld(argv[1:])
        fl = Flanneld(host, opts, lambda path, body: etcd_post(opts.endpoints, path, body))
        fl.start()
    except EtcdUnreachable:
        sys.stderr.write("E main.go] Couldn't fetch network config: context deadline exceeded\n")
        return 1
    except FlannelError as e:
        sys.stderr.write(e.message + "\n")
        return 1
    sock = None
    if fl.proxy is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((fl.proxy.local, fl.proxy.port))
        except OSError as e:
            sys.stderr.write(f"E main.go] failed to start listening on UDP socket: {e}\n")
            return 1
    sys.stdout.flush()
    if os.fork() > 0:
        return 0
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    next_sync = time.monotonic() + WATCH_INTERVAL
    while True:
        wait = next_sync - time.monotonic()
        if sock is not None and host.tun_fd is not None and wait > 0:
            _udp_proxy(fl, host.tun_fd, sock, wait)
            continue
        if wait > 0:
            time.sleep(wait)
        next_sync = time.monotonic() + WATCH_INTERVAL
        try:
            fl.sync_peers()
        except LeaseRevoked:
            os._exit(1)
        except (EtcdUnreachable, FlannelError, OSError, ValueError):
            continue
        if fl.renew_due():
            fl.renew()


def _udp_proxy(fl: Flanneld, tun: int, sock: socket.socket, timeout: float) -> None:
    """One turn of flanneld's udp data path (proxy_amd64.c run_proxy) over the real TUN and socket."""
    proxy = fl.proxy
    assert proxy is not None
    ready, _, _ = select.select([tun, sock], [], [], timeout)
    if tun in ready:
        out = proxy.from_tun(os.read(tun, TUN_READ))
        if out is not None:
            dest, pkt = out
            try:
                if dest is None:
                    os.write(tun, pkt)
                else:
                    sock.sendto(pkt, dest)
            except OSError:
                pass
    if sock in ready:
        pkt = proxy.from_udp(sock.recv(TUN_READ))
        if pkt is not None:
            try:
                os.write(tun, pkt)
            except OSError:
                pass


def main(argv: list[str]) -> int:
    host = RealHost()
    if os.path.basename(argv[0]) == "flanneld":
        return flanneld(host, argv)
    name = os.environ.get("NETPLEX_NODE") or os.uname().nodename   # the twin names the node
    if os.path.basename(argv[0]) == "dockerd":
        def mark() -> int:
            host.write(SOCKET_PATH, "")
            return 0

        status, out, err = dockerd_main(host, name, argv, mark)
    else:
        status, out, err = docker_main(host, name, argv, host.run_in)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
