"""The stub resolver of netplex's ping, nc, curl and getent: getaddrinfo(3) for IPv4, as glibc 2.36 does it.

Order (nsswitch.conf `hosts: files dns`, Debian's default): a numeric address;
then /etc/hosts (hosts(5): first line whose name or alias matches, case-insensitive);
then DNS as resolv.conf(5) says and glibc's resolv/res_init.c reads it: up to 3
`nameserver`s (none: 127.0.0.1), the last `search` or `domain` line (none: the
domain of the host name), `options ndots:N timeout:N attempts:N rotate` (ndots
1, timeout 5 s, attempts 2 by default; ndots caps at 15, timeout at 30,
attempts at 5); other options are accepted and change nothing here.

The search (res_nsearch in resolv/res_query.c): a name with a trailing dot is
asked as it is; one with at least `ndots` dots is asked as it is first; then,
unless it ended in a dot, the name with each search domain; then the bare name
if it was not tried yet. NXDOMAIN and an empty answer go on to the next
candidate; SERVFAIL too (counted); a server that does not answer or refuses the
port (ICMP port unreachable on the connected socket) is skipped. Sending
(res_send.c send_dg): for each attempt, each server in turn, an A query (id
random, RD set) on a connected UDP socket, waiting `timeout << index` seconds,
divided by the number of servers after the first (at least 1 s).

The result maps as getaddrinfo maps it: an address; `Name or service not
known` (EAI_NONAME: NXDOMAIN everywhere); `No address associated with hostname`
(EAI_NODATA: the name exists without an A record); `Temporary failure in name
resolution` (EAI_AGAIN: no answer, SERVFAIL, refused). Files are read as the
command sees them (`ip netns exec NAME` binds /etc/netns/NAME's over /etc). Only IPv4 (A) lookups: the
tools that call this speak IPv4 only.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.packet.dns import (
    DNS_PORT,
    RCODE_NOERROR,
    RCODE_NXDOMAIN,
    RCODE_SERVFAIL,
    TYPE_A,
    TYPE_PTR,
    DnsError,
    DnsMessage,
    DnsQuestion,
)
from netplex.shell.registry import Context

__all__ = ["GaiError", "ResolvConf", "etc_read", "getaddrinfo", "gethostbyname", "getnameinfo", "hosts_lookup", "parse_resolv_conf"]

NSEC_PER_SEC = 1_000_000_000
MAXNS, MAXDNSRCH = 3, 6            # resolv.h
RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY = 15, 30, 5


class GaiError(Enum):
    """getaddrinfo's failures and gai_strerror(3)'s text for each."""

    NONAME = "Name or service not known"
    NODATA = "No address associated with hostname"
    AGAIN = "Temporary failure in name resolution"


@dataclass(slots=True)
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    ndots: int = 1
    timeout: int = 5
    attempts: int = 2
    rotate: bool = False


def etc_read(ctx: Context, name: str) -> str | None:
    """/etc/`name` as the command sees it (`ip netns exec` binds /etc/netns/NS's files over /etc:
    netplex.machine.fs.NetnsEtcView)."""
    data = ctx.fs.read(posixpath.join("/etc", name))
    return None if data is None else data.decode("utf-8", "replace")


def _number(text: str, cap: int) -> int | None:
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    return None if not digits else min(int(digits), cap)


def parse_resolv_conf(text: str | None, hostname: str = "") -> ResolvConf:
    """resolv.conf(5) as res_init reads it (comments start with # or ;)."""
    rc = ResolvConf()
    search: list[str] | None = None
    for line in (text or "").splitlines():
        if not line or line[0] in "#;":
            continue
        words = line.split()
        if not words:
            continue
        key, args = words[0], words[1:]
        if key == "nameserver" and args and len(rc.nameservers) < MAXNS:
            try:
                ip_to_int(args[0])
            except ValueError:
                continue        # an IPv6 or bad address: not one netplex's IPv4 tools can use
            rc.nameservers.append(args[0])
        elif key == "domain" and args:
            search = [args[0]]
        elif key == "search" and args:
            search = args[:MAXDNSRCH]
        elif key == "options":
            for opt in args:
                name, _, value = opt.partition(":")
                if name == "ndots" and (n := _number(value, RES_MAXNDOTS)) is not None:
                    rc.ndots = n
                elif name == "timeout" and (n := _number(value, RES_MAXRETRANS)) is not None:
                    rc.timeout = max(n, 1)
                elif name == "attempts" and (n := _number(value, RES_MAXRETRY)) is not None:
                    rc.attempts = max(n, 1)
                elif name == "rotate":
                    rc.rotate = True
    if search is None:
        _, dot, domain = hostname.partition(".")
        search = [domain] if dot and domain else []
    rc.search = [d.rstrip(".") for d in search if d.rstrip(".")]
    if not rc.nameservers:
        rc.nameservers = ["127.0.0.1"]
    return rc


def hosts_lookup(text: str | None, name: str) -> tuple[int, list[str]] | None:
    """The address and names of the first hosts(5) line naming `name` (case-insensitive); IPv6 lines
    are skipped."""
    want = name.rstrip(".").lower()
    for line in (text or "").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) > 1 and want in (w.lower() for w in words[1:]):
            try:
                return ip_to_int(words[0]), words[1:]
            except ValueError:
                continue
    return None


class _Answer(Enum):
    FOUND = 1
    NXDOMAIN = 2
    NODATA = 3
    SERVFAIL = 4
    NOANSWER = 5       # no usable reply (a server was reached: a timeout, or an error reply)
    REFUSED = 6        # no server reached: each refused the port (ECONNREFUSED) or could not be sent to


def _query(ns: Any, rc: ResolvConf, qname: str, deadline: int | None,
           qtype: int = TYPE_A) -> tuple[_Answer, tuple[int, str] | str | None]:
    """res_send: ask each server for attempts rounds; the first usable reply wins."""
    world = ns.world
    servers = list(rc.nameservers)
    if rc.rotate:
        k = world.rng.randrange(len(servers))
        servers = servers[k:] + servers[:k]
    refused = [False] * len(servers)
    got_servfail = gotsomewhere = False
    for _ in range(rc.attempts):
        for i, server in enumerate(servers):
            if refused[i]:
                continue
            seconds = rc.timeout << i
            if i > 0:
                seconds //= len(servers)
            wait_ns = max(seconds, 1) * NSEC_PER_SEC
            if deadline is not None:
                wait_ns = min(wait_ns, deadline - world.sched.now)
                if wait_ns <= 0:
                    return _Answer.NOANSWER, None
            qid = world.rng.randrange(65536)
            query = DnsMessage(id=qid, rd=True, questions=[DnsQuestion(qname, qtype)])
            sk = ns.sockets.udp_socket()
            state: dict[str, Any] = {"reply": None, "errno": 0}

            def recv(data: bytes, src: int, sport: int, qid: int = qid, state: dict[str, Any] = state) -> None:
                try:
                    m = DnsMessage.decode(data)
                except DnsError:
                    return
                if m.qr and m.id == qid and state["reply"] is None:
                    state["reply"] = m

            sk.on_recv = recv
            sk.on_error = lambda e, state=state: state.update(errno=e)
            try:
                e = sk.connect(ip_to_int(server), DNS_PORT)
                if not e:
                    e = sk.sendto(query.encode())
                if e:
                    refused[i] = True
                    continue
                world.run_until(lambda state=state: state["reply"] is not None or bool(state["errno"]), wait_ns)
            finally:
                sk.close()
            if state["errno"]:
                refused[i] = True
                continue
            gotsomewhere = True
            reply: DnsMessage | None = state["reply"]
            if reply is None:
                continue
            if reply.rcode == RCODE_NXDOMAIN:
                return _Answer.NXDOMAIN, None
            if reply.rcode == RCODE_NOERROR:
                for rr in reply.answers:
                    addr = rr.address()
                    if qtype == TYPE_A and addr is not None:
                        return _Answer.FOUND, (ip_to_int(addr), rr.name)
                    if qtype == TYPE_PTR and rr.rtype == TYPE_PTR and isinstance(rr.data, str):
                        return _Answer.FOUND, rr.data
                return _Answer.NODATA, None
            if reply.rcode == RCODE_SERVFAIL:
                got_servfail = True
            refused[i] = True       # SERVFAIL, REFUSED, ...: the next server
        if all(refused):
            break
    if got_servfail:
        return _Answer.SERVFAIL, None
    return (_Answer.NOANSWER if gotsomewhere else _Answer.REFUSED), None


def getaddrinfo(ctx: Context, name: str) -> int | GaiError:
    """The IPv4 address `name` stands for, or getaddrinfo's failure."""
    found = gethostbyname(ctx, name)
    return found if isinstance(found, GaiError) else found[0]


def gethostbyname(ctx: Context, name: str) -> tuple[int, list[str]] | GaiError:
    """The address of `name` and its names (the canonical one first: the hosts line's, or the
    owner of the DNS answer), or the failure."""
    try:
        return ip_to_int(name), [name]
    except ValueError:
        pass
    hit = hosts_lookup(etc_read(ctx, "hosts"), name)
    if hit is not None:
        return hit
    ns: Any = ctx.node
    hostname = etc_read(ctx, "hostname") or ""
    rc = parse_resolv_conf(etc_read(ctx, "resolv.conf"), hostname.strip())
    trailing = name.endswith(".")
    bare = name.rstrip(".")
    if not bare or ns is None:
        return GaiError.NONAME
    dots = bare.count(".")
    as_is_first = trailing or dots >= rc.ndots
    answers: list[_Answer] = []

    def ask(qname: str) -> tuple[int, list[str]] | None:
        answer, found = _query(ns, rc, qname, ctx.deadline)
        answers.append(answer)
        return (found[0], [found[1]]) if answer is _Answer.FOUND and isinstance(found, tuple) else None

    got_nodata = got_servfail = False
    if as_is_first:
        if (addr := ask(bare)) is not None:
            return addr
        if trailing:
            return _gai(answers[0])
    for domain in [] if trailing else rc.search:
        if (addr := ask(f"{bare}.{domain}")) is not None:
            return addr
        last = answers[-1]
        if last is _Answer.REFUSED:       # res_nsearch: ECONNREFUSED ends it with TRY_AGAIN
            return GaiError.AGAIN
        got_nodata |= last is _Answer.NODATA
        got_servfail |= last is _Answer.SERVFAIL
        if last is _Answer.NOANSWER:      # TRY_AGAIN without SERVFAIL: done searching
            break
    if not as_is_first and (addr := ask(bare)) is not None:
        return addr
    if as_is_first:
        return _gai(answers[0])
    if got_nodata:
        return GaiError.NODATA
    if got_servfail:
        return GaiError.AGAIN
    return _gai(answers[-1])


def _gai(answer: _Answer) -> GaiError:
    """h_errno as getaddrinfo reports it: HOST_NOT_FOUND, NO_DATA, TRY_AGAIN."""
    if answer is _Answer.NODATA:
        return GaiError.NODATA
    if answer is _Answer.NXDOMAIN:
        return GaiError.NONAME
    return GaiError.AGAIN


def getnameinfo(ctx: Context, addr: int) -> str:
    """getnameinfo(3) without NI_NAMEREQD: the first /etc/hosts name of `addr`, else its DNS PTR
    record (res_nquery for d.c.b.a.in-addr.arpa, no search list), else the address itself."""
    text = int_to_ip(addr)
    for line in (etc_read(ctx, "hosts") or "").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) > 1 and words[0] == text:
            return words[1]
    ns: Any = ctx.node
    if ns is None:
        return text
    rc = parse_resolv_conf(etc_read(ctx, "resolv.conf"), (etc_read(ctx, "hostname") or "").strip())
    answer, name = _query(ns, rc, ".".join(reversed(text.split("."))) + ".in-addr.arpa", ctx.deadline, TYPE_PTR)
    return name if answer is _Answer.FOUND and isinstance(name, str) else text
