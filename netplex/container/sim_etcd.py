"""etcd, etcdctl and flanneld on simulated hosts.

`etcd` runs netplex's etcd (`netplex.container.etcd`: the v3 keyspace behind
etcd's JSON gateway) as a process listening on its client port; `etcdctl` and
`flanneld` send their requests to it over the simulated network (HTTP/1.1 over
TCP, the command waiting in simulated time as a real client waits), so a
firewall or a missing route between a host and the etcd node fails them as it
would. flanneld's watch is a process that asks for the leases once a second
and adds or removes peers (`Flanneld.sync_peers`), renews its own lease when it
is due and exits when its lease was revoked; with the udp backend it also
holds flannel0 open and carries its packets (`Flanneld.proxy`: read from the
TUN, sent in UDP to the peer's port 8285, and back).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.container.etcd import EtcdStore, handle_http, parse_request
from netplex.container.etcdctl import EtcdUnreachable, etcdctl_main
from netplex.container.flannel import LEASE_TTL, UDP_DEV, Flanneld, FlannelError, LeaseRevoked, parse_flanneld
from netplex.container.sim import SimHost
from netplex.machine import Machine
from netplex.packet.addr import ip_to_int
from netplex.packet.ipv4 import IPv4
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.netns import Namespace
from netplex.stack.tcp import TcpSocket
from netplex.stack.tun import Tun

__all__ = ["EtcdServer", "FlannelWatch", "http_post"]

NSEC_PER_SEC = 1_000_000_000
REQUEST_TIMEOUT_NS = 5 * NSEC_PER_SEC
WATCH_INTERVAL_NS = NSEC_PER_SEC
ETCDCTL_WATCH_POLL_NS = NSEC_PER_SEC // 10          # how often the simulator's `etcdctl watch` asks
ETCDCTL_WATCH_LIMIT_NS = 60 * NSEC_PER_SEC          # off a terminal and without `timeout`: stops here
EXIT_SIGINT = 130


class EtcdServer(Program):
    """etcd's client port: one HTTP request per connection, answered from the store."""

    comm = "etcd"
    vsz_kib, rss_kib = 11214692, 40960

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.store = EtcdStore()

    def start(self) -> None:
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(self.port):
            raise ProgramExit(1, f'{{"level":"fatal","msg":"listen tcp 0.0.0.0:{self.port}: bind: address '
                                 'already in use"}\n')
        lst.on_accept = self._accept

    def _accept(self, sk: TcpSocket) -> None:
        self.own(sk)
        buf = {"data": b""}

        def data(s: TcpSocket, chunk: bytes) -> None:
            buf["data"] += chunk
            req, _ = parse_request(buf["data"])
            if req is not None:
                s.send(handle_http(self.store, req, self.ns.sched.now / NSEC_PER_SEC))
                s.close()

        sk.on_data = data


def _endpoint(ep: str) -> tuple[int, int]:
    hostport = ep.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    return ip_to_int(host or hostport), int(port or 2379)


def _request(ep: str, path: str, body: dict[str, Any]) -> bytes:
    host = ep.split("://", 1)[-1].rstrip("/")
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data


def _answer(raw: bytes) -> dict[str, Any]:
    _, _, body = raw.partition(b"\r\n\r\n")
    try:
        out = json.loads(body or b"{}")
    except ValueError:
        raise EtcdUnreachable("bad answer") from None
    return dict(out)


def _open(ns: Namespace, ep: str, path: str, body: dict[str, Any],
          done: Any) -> TcpSocket:
    """An HTTP request over a new connection; done(answer bytes or None) when it ends."""
    sk = TcpSocket(ns.sockets)
    got = {"data": b"", "done": False}

    def finish(ok: bool) -> None:
        if not got["done"]:
            got["done"] = True
            done(got["data"] if ok else None)

    sk.on_connect = lambda s: s.send(_request(ep, path, body))
    sk.on_data = lambda s, d: got.__setitem__("data", got["data"] + d)
    sk.on_close = lambda s: (finish(True), s.close())
    sk.on_error = lambda s, err: finish(False)
    try:
        addr, port = _endpoint(ep)
    except ValueError:
        finish(False)
        return sk
    if sk.connect(addr, port):
        finish(False)
    return sk


def http_post(ns: Namespace, ep: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A client's request to etcd's gateway, waiting for the answer in simulated time."""
    res: dict[str, Any] = {}

    def done(raw: bytes | None) -> None:
        res["raw"] = raw

    sk = _open(ns, ep, path, body, done)
    ns.world.run_until(lambda: "raw" in res, REQUEST_TIMEOUT_NS)
    sk.close()
    if res.get("raw") is None:
        raise EtcdUnreachable(ep)
    return _answer(res["raw"])


class FlannelWatch(Program):
    """flanneld after its start: the watch on the leases (polled once a second)."""

    comm = "flanneld"
    vsz_kib, rss_kib = 1320864, 36864

    def __init__(self, flanneld: Flanneld, endpoints: list[str]) -> None:
        super().__init__()
        self.flanneld, self.endpoints = flanneld, endpoints

    def start(self) -> None:
        self.after(WATCH_INTERVAL_NS, self._poll)
        proxy = self.flanneld.proxy
        if proxy is not None:
            tun = self.ns.devices.get(UDP_DEV)
            assert isinstance(tun, Tun)
            tun.attach(self._from_tun)
            self.own(_TunFd(tun))                 # the process's fd: its exit takes the device away
            sk = self.own(self.ns.sockets.udp_socket())
            if sk.bind(ip_to_int(proxy.local), proxy.port):
                raise ProgramExit(1, f"E main.go] failed to start listening on UDP socket: "
                                     f"listen udp4 {proxy.local}:{proxy.port}: bind: address already in use\n")
            self.tun, self.sock = tun, sk
            sk.on_recv = self._from_udp

    def _from_tun(self, ip: IPv4) -> None:
        proxy = self.flanneld.proxy
        if proxy is None or not self.alive:       # read after the fd was closed: nothing
            return
        out = proxy.from_tun(ip.encode())
        if out is None:
            return
        dest, pkt = out
        if dest is None:
            self.tun.write(IPv4.decode(pkt))
        else:
            self.sock.sendto(pkt, ip_to_int(dest[0]), dest[1])

    def _from_udp(self, data: bytes, src: int, sport: int) -> None:
        proxy = self.flanneld.proxy
        if proxy is None or not self.alive:
            return
        pkt = proxy.from_udp(data)
        if pkt is not None:
            try:
                self.tun.write(IPv4.decode(pkt))
            except ValueError:
                return

    def _poll(self) -> None:
        path, body = self.flanneld.subnets_request()

        def done(raw: bytes | None) -> None:
            if raw is not None and self.alive:
                try:
                    self.flanneld.sync_peers(self.flanneld.parse_subnets(_answer(raw)))
                except LeaseRevoked:
                    self.exit(1)
                except (EtcdUnreachable, FlannelError):
                    pass
            if self.alive:
                if self.flanneld.renew_due():
                    self._renew()
                self.after(WATCH_INTERVAL_NS, self._poll)

        self.own(_open(self.ns, self.endpoints[0], path, body, done))

    def _renew(self) -> None:
        """RenewLease as two requests in simulated time: a new 24 h lease, then our key under it."""
        fl = self.flanneld
        assert fl.lease is not None
        name, value = fl.lease
        fl.renewed(False)                       # in flight: not again before a minute

        def put_done(raw: bytes | None) -> None:
            fl.renewed(raw is not None)

        def granted(raw: bytes | None) -> None:
            if raw is None or not self.alive:
                return
            try:
                lid = str(_answer(raw)["ID"])
            except (EtcdUnreachable, KeyError):
                return
            self.own(_open(self.ns, self.endpoints[0], "/v3/kv/put", fl.lease_put(name, value, lid), put_done))

        self.own(_open(self.ns, self.endpoints[0], "/v3/lease/grant", {"TTL": LEASE_TTL}, granted))


class _TunFd:
    """flanneld's fd on /dev/net/tun: closing it (the process ending) detaches, and the device goes."""

    def __init__(self, tun: Tun) -> None:
        self.tun = tun

    def close(self) -> None:
        self.tun.detach()


ETCD_FLAGS = {"name", "data-dir", "listen-client-urls", "advertise-client-urls", "listen-peer-urls",
              "initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token"}


@command("etcd", "etcdctl", "flanneld")
def etcd_tools(ctx: Context, argv: list[str]) -> Result:
    """etcd(1) (netplex's store), etcdctl(1) and flanneld on this machine."""
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", f"netplex: {argv[0]}: this shell runs on no machine\n")
    machine = ctx.machine
    ns = ctx.node if isinstance(ctx.node, Namespace) else machine.root

    def post(ep: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return http_post(ns, ep, path, body)

    if argv[0] == "etcdctl":
        return Result(*etcdctl_main(argv, ctx.env, post, ctx.stdin, lambda poll: _watch_loop(ctx, machine, poll)))
    if argv[0] == "etcd":
        port = 2379
        args = list(argv[1:])
        while args:
            name, eq, value = args.pop(0).lstrip("-").partition("=")
            if name not in ETCD_FLAGS:
                return Result(1, "", f"netplex: etcd --{name} is not supported\n")
            if not eq:
                if not args:
                    return Result(1, "", f"flag needs an argument: -{name}\n")
                value = args.pop(0)
            if name == "listen-client-urls":
                try:
                    port = _endpoint(value.split(",")[0])[1]
                except ValueError:
                    return Result(1, "", f"netplex: etcd --listen-client-urls {value}: not a URL\n")
        p = machine.procs.spawn(["/usr/bin/etcd", *argv[1:]], ns, EtcdServer(port))
        return Result(0 if p.alive else 1, "", "" if p.alive else p.error)
    try:
        opts = parse_flanneld(argv[1:])
        host = SimHost(ctx, machine)
        fl = Flanneld(host, opts, lambda path, body: _first(post, opts.endpoints, path, body))
        fl.start()
    except EtcdUnreachable:
        return Result(1, "", "E main.go] Couldn't fetch network config: context deadline exceeded\n")
    except FlannelError as e:
        return Result(1, "", e.message + "\n")
    p = machine.procs.spawn(["/opt/bin/flanneld", *argv[1:]], ns, FlannelWatch(fl, opts.endpoints))
    return Result(0 if p.alive else 1, "", "" if p.alive else p.error)


def _watch_loop(ctx: Context, machine: Machine, poll: Callable[[], str]) -> tuple[int, str, str]:
    """`etcdctl watch` runs until stopped: Ctrl-C on a terminal (status 130), `timeout`'s deadline,
    else netplex's limit (status 2 and a message, as `ping` without -c)."""
    world, term = machine.world, ctx.terminal
    limit = ctx.deadline
    unbounded = limit is None and term is None
    if unbounded:
        limit = world.now + ETCDCTL_WATCH_LIMIT_NS
    out = ""
    while True:
        try:
            text = poll()
        except EtcdUnreachable:
            return 1, out, "Error: context deadline exceeded\n"
        if term is not None:
            term.write(text)
            if term.interrupted():
                return EXIT_SIGINT, "", ""
        else:
            out += text
        if limit is not None and world.now >= limit:
            break
        step = ETCDCTL_WATCH_POLL_NS if limit is None else min(ETCDCTL_WATCH_POLL_NS, limit - world.now)
        ctx.sleep(step)
        if term is not None:
            term.tick(step)
    if unbounded:
        return 2, out, (f"etcdctl: netplex: watch stopped at netplex's limit ({ETCDCTL_WATCH_LIMIT_NS // NSEC_PER_SEC} s "
                        "of simulated time): only an interactive terminal watches until Ctrl-C; bound it with "
                        "`timeout`\n")
    return 143, out, ""       # `timeout` sent SIGTERM


def _first(post: Any, endpoints: list[str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    for ep in endpoints:
        try:
            return dict(post(ep, path, body))
        except EtcdUnreachable:
            continue
    raise EtcdUnreachable(",".join(endpoints))
