"""dnsmasq as a DHCPv4 server (dnsmasq(8) 2.90; the protocol of RFC 2131 section 4.3).

The configuration is dnsmasq's command line (`parse_args`, also what the shell's
`dnsmasq` command runs): `--dhcp-range=[set:TAG,]START,END|static[,NETMASK][,LEASE]`,
`--dhcp-host=MAC[,set:TAG][,IP][,NAME][,LEASE]` and `--dhcp-hostsfile=FILE` (one such
entry a line), `--dhcp-option[-force]=[tag:TAG,]CODE|option:NAME,VALUE...` and
`--dhcp-optsfile=FILE`, `--dhcp-match=set:TAG,CODE`, `--dhcp-leasefile`, `--pid-file`,
`--interface`, `--dhcp-broadcast`, `--dhcp-authoritative`, `--domain`,
`--dhcp-lease-max`; DHCP runs with a --dhcp-range. DNS (`--port`, 53 by default; 0 turns
it off) answers from its own data only (`netplex.apps.dnsmasq_dns`: `--host-record`,
/etc/hosts unless `--no-hosts`, `--addn-hosts`, `--local=/DOMAIN/` or `--server=/DOMAIN/`,
`--local-ttl`, one `--listen-address`, over UDP): it does not forward, so with DNS on the
command line must say `--no-resolv`. `--local-service` and `--strict-order` change nothing
here and are accepted. Anything else is refused in netplex's words.

The server (`Dnsmasq`): a UDP socket on port 67 learns the arrival interface
(IP_PKTINFO); a DISCOVER is offered the client's lease, its `--dhcp-host` address,
the requested address or the first free one from where the SDBM hash of its MAC
falls in the range (dnsmasq's address_allocate) (a `static` range serves only
listed hosts); a REQUEST is ACKed or NAKed as section 4.3.2 says for SELECTING,
INIT-REBOOT, RENEWING and REBINDING; RELEASE frees the lease; DECLINE marks the
address in use elsewhere for ten minutes (dnsmasq's DECLINE_BACKOFF). A reply goes to
the relay (giaddr), to ciaddr, broadcast when the client asked for it (or
`--dhcp-broadcast`, or a NAK), else unicast to yiaddr at chaddr with the ARP entry
written first, as dnsmasq does on Linux. Options: subnet mask, broadcast, router (the
interface's address unless configured), lease time, T1/T2 (1/2 and 7/8 of it unless
forced), server identifier, domain name, and every configured option the client asks
for in its parameter request list (forced ones always). The leases file is written in
dnsmasq's format (`EXPIRY MAC IP NAME CLIENT-ID`, expiry in seconds of the clock).
Not modelled: the ICMP ping check before an offer, DHCPv6, relays' option 82, BOOTP.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from netplex.apps.dnsmasq_dns import DnsData, HostRecord
from netplex.apps.process import Program, ProgramExit, RunFile
from netplex.errors import NetplexError
from netplex.packet.addr import bytes_to_mac, int_to_ip, mac_to_bytes, prefix_to_mask
from netplex.packet.dhcp import (
    BOOTREPLY,
    BOOTREQUEST,
    DHCP_CLIENT_PORT,
    DHCP_SERVER_PORT,
    DHCPACK,
    DHCPDECLINE,
    DHCPDISCOVER,
    DHCPINFORM,
    DHCPNAK,
    DHCPOFFER,
    DHCPRELEASE,
    DHCPREQUEST,
    FLAG_BROADCAST,
    OPT_BROADCAST,
    OPT_CLASSLESS_ROUTES,
    OPT_DNS,
    OPT_DOMAIN_NAME,
    OPT_HOSTNAME,
    OPT_LEASE_TIME,
    OPT_MESSAGE,
    OPT_MESSAGE_TYPE,
    OPT_MTU,
    OPT_PARAMS,
    OPT_REBINDING_TIME,
    OPT_RENEWAL_TIME,
    OPT_REQUESTED_IP,
    OPT_ROUTER,
    OPT_SERVER_ID,
    OPT_SUBNET_MASK,
    Dhcp,
    addrs,
    encode_routes,
    u16,
    u32,
)
from netplex.packet.dns import DnsError, DnsMessage
from netplex.stack.neigh import NUD_REACHABLE

__all__ = ["DhcpHost", "DhcpOption", "DhcpRange", "Dnsmasq", "DnsmasqConfig", "DnsmasqError", "Lease", "parse_args"]

NSEC = 1_000_000_000
DEFAULT_LEASE = 3600            # dnsmasq's default lease time: one hour
DECLINE_BACKOFF = 600
INFINITE = 0xFFFFFFFF
# option:NAME -> (code, kind); kinds: ip (list of addresses), u16, u32 (a time with s/m/h/d/w), str, routes
OPTION_NAMES = {"netmask": (OPT_SUBNET_MASK, "ip"), "router": (OPT_ROUTER, "ip"), "dns-server": (OPT_DNS, "ip"),
                "hostname": (OPT_HOSTNAME, "str"), "domain-name": (OPT_DOMAIN_NAME, "str"), "mtu": (OPT_MTU, "u16"),
                "broadcast": (OPT_BROADCAST, "ip"), "ntp-server": (42, "ip"), "lease-time": (OPT_LEASE_TIME, "u32"),
                "T1": (OPT_RENEWAL_TIME, "u32"), "T2": (OPT_REBINDING_TIME, "u32"),
                "classless-static-route": (OPT_CLASSLESS_ROUTES, "routes"), "domain-search": (119, "str")}
KINDS = {c: k for c, k in OPTION_NAMES.values()} | {249: "routes"}
# options the server itself fills in and a configuration may override (dnsmasq's do_options)
_SERVER_SET = (OPT_SUBNET_MASK, OPT_BROADCAST, OPT_ROUTER)


class DnsmasqError(NetplexError):
    """A command line or file dnsmasq rejects: its message, exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 0, 1)


def _bad(what: str) -> DnsmasqError:
    return DnsmasqError(f"\ndnsmasq: bad command line options: {what}")


@dataclass
class DhcpRange:
    start: int
    end: int | None            # None: `static`, only --dhcp-host addresses are given out
    netmask: int | None
    lease: int                 # seconds; INFINITE for `infinite`
    tag: str | None = None


@dataclass
class DhcpHost:
    mac: bytes
    ip: int | None
    name: str | None
    lease: int | None
    tags: set[str] = field(default_factory=set)


@dataclass
class DhcpOption:
    code: int
    value: bytes
    tags: set[str]
    force: bool


@dataclass
class DnsmasqConfig:
    ranges: list[DhcpRange] = field(default_factory=list)
    hosts: list[DhcpHost] = field(default_factory=list)
    options: list[DhcpOption] = field(default_factory=list)
    matches: list[tuple[str, int]] = field(default_factory=list)   # --dhcp-match=set:TAG,CODE
    hostsfiles: list[str] = field(default_factory=list)
    optsfiles: list[str] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    leasefile: str = "/var/lib/misc/dnsmasq.leases"
    pidfile: str = "/run/dnsmasq.pid"
    domain: str | None = None
    broadcast: bool = False
    authoritative: bool = False
    lease_max: int = 1000
    port: int = 53                       # DNS; 0 turns it off
    host_records: list[HostRecord] = field(default_factory=list)
    local_domains: list[str] = field(default_factory=list)
    listen: list[int] = field(default_factory=list)
    addn_hosts: list[str] = field(default_factory=list)
    no_hosts: bool = False
    local_ttl: int = 0


@dataclass
class Lease:
    mac: bytes
    ip: int
    expires: int               # simulated nanoseconds; -1 never
    hostname: str = "*"
    client_id: str = "*"


def _ip(text: str) -> int:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        raise _bad("bad IP address") from None


def _time(text: str, what: str) -> int:
    """dnsmasq's lease times: seconds, or a number with s, m, h, d or w; `infinite`."""
    if text == "infinite":
        return INFINITE
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}.get(text[-1:].lower(), 0)
    digits = text[:-1] if mult else text
    if not digits.isdigit():
        raise _bad(what)
    return int(digits) * (mult or 1)


def _range(value: str) -> DhcpRange:
    parts = value.split(",")
    tag = None
    if parts and parts[0].startswith("set:"):
        tag = parts.pop(0)[4:]
    if parts and parts[0].startswith("tag:"):
        raise DnsmasqError("netplex: dnsmasq --dhcp-range with tag: is not supported")
    try:
        start = int(ipaddress.IPv4Address(parts[0])) if parts else None
        end: int | None
        if len(parts) < 2:
            raise ValueError
        end = None if parts[1] == "static" else int(ipaddress.IPv4Address(parts[1]))
    except ValueError:
        raise _bad("bad dhcp-range") from None
    assert start is not None
    netmask, lease = None, DEFAULT_LEASE
    for p in parts[2:]:
        if p.count(".") == 3:
            netmask = _ip(p)
        else:
            lease = _time(p, "bad dhcp-range")
    if end is not None and end < start:
        raise _bad("inconsistent DHCP range")
    return DhcpRange(start, end, netmask, lease, tag)


def _host(value: str) -> DhcpHost:
    mac, ip, name, lease, tags = None, None, None, None, set()
    for p in value.split(","):
        if p.startswith("set:"):
            tags.add(p[4:])
        elif p.count(":") == 5 and all(len(x) == 2 for x in p.split(":")):
            mac = mac_to_bytes(p)
        elif p.count(".") == 3 and p.replace(".", "").isdigit():
            ip = _ip(p)
        elif p and (p[:-1].isdigit() and p[-1] in "smhdw" or p.isdigit() or p == "infinite"):
            lease = _time(p, "bad dhcp-host")
        elif p.startswith(("id:", "tag:", "[")) or "*" in p:
            raise DnsmasqError(f"netplex: dnsmasq --dhcp-host entry {p} is not supported")
        elif p:
            name = p
    if mac is None:
        raise DnsmasqError("netplex: dnsmasq --dhcp-host without a MAC address is not supported")
    return DhcpHost(mac, ip, name, lease, tags)


def _option(value: str, force: bool) -> DhcpOption:
    parts = value.split(",")
    tags = set()
    while parts and parts[0].startswith(("tag:", "encap:", "vendor:", "option6:")):
        p = parts.pop(0)
        if not p.startswith("tag:"):
            raise DnsmasqError(f"netplex: dnsmasq --dhcp-option {p} is not supported")
        tags.add(p[4:])
    if not parts:
        raise _bad("bad dhcp-option")
    key = parts.pop(0)
    if key.startswith("option:"):
        if key[7:] not in OPTION_NAMES:
            raise _bad("bad dhcp-option")
        code, kind = OPTION_NAMES[key[7:]]
    elif key.isdigit() and 0 < int(key) < 255:
        code = int(key)
        kind = KINDS.get(code, "")
        if not kind:
            raise DnsmasqError(f"netplex: dnsmasq --dhcp-option {code} is not supported")
    else:
        raise _bad("bad dhcp-option")
    if kind == "ip":
        data = addrs(*(_ip(p) for p in parts if p))
    elif kind == "u16":
        data = b"".join(u16(int(p)) for p in parts if p.isdigit())
    elif kind == "u32":
        data = b"".join(u32(_time(p, "bad dhcp-option")) for p in parts if p)
    elif kind == "str":
        data = ",".join(parts).encode()
    else:
        if len(parts) % 2:
            raise _bad("bad dhcp-option")
        routes = []
        for dst, gw in zip(parts[::2], parts[1::2]):
            net = ipaddress.IPv4Network(dst if "/" in dst else dst + "/32", strict=False)
            routes.append((int(net.network_address), net.prefixlen, _ip(gw)))
        data = encode_routes(routes)
    return DhcpOption(code, data, tags, force)


# option -> takes a value; short forms as dnsmasq's getopt table
_FLAGS = {"--no-hosts", "--no-resolv", "--strict-order", "--local-service", "--bind-dynamic", "--bind-interfaces", "--dhcp-broadcast",
          "--dhcp-authoritative", "--no-ping", "--no-daemon", "--keep-in-foreground", "--test"}
_VALUED = {"--port", "--interface", "--except-interface", "--dhcp-range", "--dhcp-host", "--dhcp-hostsfile",
           "--dhcp-optsfile", "--dhcp-option", "--dhcp-option-force", "--dhcp-leasefile", "--pid-file", "--conf-file",
           "--domain", "--dhcp-lease-max", "--dhcp-match", "--dhcp-userclass", "--addn-hosts", "--listen-address",
           "--host-record", "--local", "--server", "--local-ttl"}
_SHORT = {"-p": "--port", "-i": "--interface", "-I": "--except-interface", "-F": "--dhcp-range", "-G": "--dhcp-host",
          "-O": "--dhcp-option", "-l": "--dhcp-leasefile", "-x": "--pid-file", "-C": "--conf-file", "-s": "--domain",
          "-X": "--dhcp-lease-max", "-h": "--no-hosts", "-R": "--no-resolv", "-z": "--bind-interfaces",
          "-K": "--dhcp-authoritative", "-d": "--no-daemon", "-k": "--keep-in-foreground", "-a": "--listen-address"}


_UNMODELLED = {"enable-tftp", "dhcp-boot", "dhcp-relay", "log-dhcp", "log-facility", "log-queries", "address",
               "dhcp-script", "txt-record", "bridge-interface", "dhcp-sequential-ip", "enable-ra"}


def parse_args(args: list[str]) -> tuple[DnsmasqConfig, set[str]]:
    """dnsmasq's command line: the configuration and the flags given (DnsmasqError when bad)."""
    cfg = DnsmasqConfig()
    seen: set[str] = set()
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        name, eq, value = a.partition("=")
        if name in _SHORT:
            name = _SHORT[name]
            if name in _VALUED and not eq:
                if len(a) > 2:
                    value = a[2:]
                elif i < len(args):
                    value, i = args[i], i + 1
                else:
                    raise _bad("try --help")
        elif name in _VALUED:
            if not eq:
                if i >= len(args):
                    raise _bad("try --help")
                value, i = args[i], i + 1
        elif name not in _FLAGS:
            if name[2:] in _UNMODELLED and name.startswith("--"):
                raise DnsmasqError(f"netplex: dnsmasq {name} is not supported")
            raise _bad("try --help")
        seen.add(name)
        if name == "--port":
            if not value.isdigit() or int(value) > 65535:
                raise _bad("bad port")
            cfg.port = int(value)
        elif name == "--host-record":
            cfg.host_records += _host_record(value)
        elif name in ("--local", "--server"):
            dom, slash, rest = value.removeprefix("/").partition("/")
            if not value.startswith("/") or not slash or rest:
                raise DnsmasqError(f"netplex: dnsmasq {name}={value} is not supported (only /DOMAIN/: netplex's "
                                   "dnsmasq does not forward)")
            cfg.local_domains.append(dom.lower().strip("."))
        elif name == "--local-ttl":
            if not value.isdigit():
                raise _bad("bad TTL")
            cfg.local_ttl = int(value)
        elif name == "--addn-hosts":
            cfg.addn_hosts.append(value)
        elif name == "--no-hosts":
            cfg.no_hosts = True
        elif name == "--interface":
            cfg.interfaces.append(value)
        elif name == "--except-interface":
            if value != "lo":
                raise DnsmasqError(f"netplex: dnsmasq --except-interface={value} is not supported")
        elif name == "--dhcp-range":
            cfg.ranges.append(_range(value))
        elif name == "--dhcp-host":
            cfg.hosts.append(_host(value))
        elif name == "--dhcp-hostsfile":
            cfg.hostsfiles.append(value)
        elif name == "--dhcp-optsfile":
            cfg.optsfiles.append(value)
        elif name in ("--dhcp-option", "--dhcp-option-force"):
            cfg.options.append(_option(value, name == "--dhcp-option-force"))
        elif name == "--dhcp-leasefile":
            cfg.leasefile = value
        elif name == "--pid-file":
            cfg.pidfile = value
        elif name == "--conf-file":
            if value not in ("/dev/null", ""):
                raise DnsmasqError(f"netplex: dnsmasq --conf-file={value} is not supported (only /dev/null)")
        elif name == "--domain":
            cfg.domain = value
        elif name == "--dhcp-lease-max":
            if not value.isdigit():
                raise _bad("try --help")
            cfg.lease_max = int(value)
        elif name == "--dhcp-match":
            tag, _, code = value.partition(",")
            if not tag.startswith("set:") or not code.isdigit():
                raise DnsmasqError(f"netplex: dnsmasq --dhcp-match={value} is not supported (set:TAG,CODE)")
            cfg.matches.append((tag[4:], int(code)))
        elif name == "--listen-address":
            cfg.listen.append(_ip(value))
        elif name in ("--no-daemon", "--keep-in-foreground"):
            raise DnsmasqError(f"netplex: dnsmasq {name} is not supported (it runs as a daemon)")
        elif name == "--dhcp-broadcast":
            cfg.broadcast = True
        elif name == "--dhcp-authoritative":
            cfg.authoritative = True
        # --dhcp-userclass (option 77 matching), --local-service, --strict-order: PXE or forwarding;
        # with no iPXE client and no upstream server they decide nothing.
    if cfg.port and "--no-resolv" not in seen:
        raise DnsmasqError("netplex: dnsmasq's forwarding to the servers of /etc/resolv.conf is not modelled: "
                           "give --no-resolv (or --port=0)")
    if len(cfg.listen) > 1:
        raise DnsmasqError("netplex: dnsmasq with more than one --listen-address is not supported")
    return cfg, seen


def _host_record(value: str) -> list[HostRecord]:
    """--host-record=NAME[,NAME...],ADDRESS[,TTL]: IPv4 addresses only."""
    parts = value.split(",")
    if parts and parts[-1].isdigit():
        parts = parts[:-1]
    names, addrs = [], []
    for p in parts:
        try:
            addrs.append(int(ipaddress.IPv4Address(p)))
        except ValueError:
            if ":" in p:
                raise DnsmasqError(f"netplex: dnsmasq --host-record with the IPv6 address {p} is not supported") \
                    from None
            names.append(p.lower().rstrip("."))
    if not names or not addrs:
        raise _bad("bad hostname")
    return [HostRecord(names, a) for a in addrs]



class Dnsmasq(Program):
    """The DHCP server of one dnsmasq process."""

    comm = "dnsmasq"
    vsz_kib, rss_kib = 10740, 2400

    def __init__(self, config: DnsmasqConfig) -> None:
        super().__init__()
        self.cfg = config
        self.leases: dict[bytes, Lease] = {}
        self.declined: dict[int, int] = {}    # address -> until (ns)
        self.offered: dict[bytes, int] = {}   # chaddr -> the address offered
        self.hosts: list[DhcpHost] = []
        self.options: list[DhcpOption] = []
        self.dns = DnsData()

    # -- start and configuration files -------------------------------------------------
    def start(self) -> None:
        fs = self.fs
        self.hosts, self.options = list(self.cfg.hosts), list(self.cfg.options)
        try:
            for path in self.cfg.hostsfiles:
                for line in self._lines(path):
                    self.hosts.append(_host(line))
            for path in self.cfg.optsfiles:
                self.options += [_option(line, False) for line in self._lines(path)]
        except DnsmasqError as e:
            raise ProgramExit(1, e.message.lstrip("\n").replace("bad command line options: ", "") + "\n") from e
        if self.cfg.port:
            self._start_dns()
        if self.cfg.ranges:       # DHCP is on with a --dhcp-range only
            sk = self.own(self.ns.sockets.udp_socket())
            if sk.bind(0, DHCP_SERVER_PORT):
                raise ProgramExit(2, "\ndnsmasq: failed to bind DHCP server socket: Address already in use\n")
            sk.broadcast = True
            sk.on_recv = self.receive
            self.sock = sk
        if fs is not None:
            lease_dir = fs.norm(self.cfg.leasefile).rsplit("/", 1)[0] or "/"
            if not fs.is_dir(lease_dir):
                raise ProgramExit(3, f"\ndnsmasq: cannot open or create lease file {self.cfg.leasefile}: "
                                     "No such file or directory\n")
            self.own(RunFile(fs, self.cfg.pidfile, f"{self.proc.pid if self.proc else 0}\n".encode()))
            self._write_leases()

    def _start_dns(self) -> None:
        """The DNS socket (UDP): the --listen-address, else every address (answering on --interface's and lo)."""
        data = DnsData(list(self.cfg.host_records), list(self.cfg.local_domains), self.cfg.local_ttl)
        fs = self.fs
        for path in ([] if self.cfg.no_hosts else ["/etc/hosts"]) + self.cfg.addn_hosts:
            raw = fs.read(fs.norm(path)) if fs is not None else None
            if raw is not None:
                data.add_hosts(raw.decode("utf-8", "replace"))
        self.dns = data
        sk = self.own(self.ns.sockets.udp_socket())
        addr = self.cfg.listen[0] if self.cfg.listen else 0
        err = sk.bind(addr, self.cfg.port)
        if err:
            where = f"{int_to_ip(addr)} port {self.cfg.port}" if addr else f"port {self.cfg.port}"
            why = "Address already in use" if err == 98 else "Cannot assign requested address"
            raise ProgramExit(2, f"\ndnsmasq: failed to create listening socket for {where}: {why}\n")

        def query(data_: bytes, src: int, sport: int) -> None:
            dev = self.ns.by_index.get(sk.rx_ifindex)
            if self.cfg.interfaces and dev is not None and dev.name != "lo" and dev.name not in self.cfg.interfaces:
                return
            try:
                q = DnsMessage.decode(data_)
            except DnsError:
                return
            if q.qr or len(q.questions) != 1:
                return
            sk.sendto(self.dns.answer(q).encode(), src, sport)

        sk.on_recv = query

    def _lines(self, path: str) -> list[str]:
        fs = self.fs
        data = fs.read(fs.norm(path)) if fs is not None else None
        if data is None:
            raise DnsmasqError(f"cannot read {path}: No such file or directory")
        return [ln.strip() for ln in data.decode().splitlines() if ln.strip() and not ln.startswith("#")]

    def _write_leases(self) -> None:
        fs = self.fs
        if fs is None:
            return
        lines = []
        for lease in self.leases.values():
            expiry = 0 if lease.expires < 0 else lease.expires // NSEC
            lines.append(f"{expiry} {bytes_to_mac(lease.mac)} {int_to_ip(lease.ip)} {lease.hostname} {lease.client_id}\n")
        try:
            fs.write_bytes(fs.norm(self.cfg.leasefile), "".join(lines).encode())
        except NetplexError:
            pass   # dnsmasq logs a failed lease write and goes on

    # -- the protocol --------------------------------------------------------------------
    def _interface(self, ifindex: int) -> tuple[object, int, int] | None:
        """The arrival device and its primary address and prefix length, if dnsmasq serves it."""
        dev = self.ns.by_index.get(ifindex)
        if dev is None or (self.cfg.interfaces and dev.name not in self.cfg.interfaces) or dev.name == "lo":
            return None
        for ifa in self.ns.addrs.get(ifindex, []):
            if not ifa.secondary:
                return dev, ifa.addr, ifa.plen
        return None

    def _range_for(self, addr: int, plen: int) -> DhcpRange | None:
        mask = prefix_to_mask(plen)
        for r in self.cfg.ranges:
            if (r.start & mask) == (addr & mask):
                return r
        return None

    def _host_for(self, mac: bytes) -> DhcpHost | None:
        for h in self.hosts:
            if h.mac == mac:
                return h
        return None

    def _free(self, ip: int, mac: bytes) -> bool:
        now = self.ns.sched.now
        if self.declined.get(ip, -1) > now:
            return False
        if any(h.ip == ip and h.mac != mac for h in self.hosts):
            return False
        return all(le.ip != ip or le.mac == mac for le in self.leases.values())

    def _choose(self, rng: DhcpRange, mask: int, mac: bytes, requested: int | None) -> int | None:
        host = self._host_for(mac)
        if host is not None and host.ip is not None:
            return host.ip if (host.ip & mask) == (rng.start & mask) else None
        if rng.end is None:            # static: only the hosts listed
            return None
        lease = self.leases.get(mac)
        if lease is not None and rng.start <= lease.ip <= rng.end:
            return lease.ip
        if requested is not None and rng.start <= requested <= rng.end and self._free(requested, mac):
            return requested
        if len(self.leases) >= self.cfg.lease_max:
            return None
        # address_allocate: start at the SDBM hash of the MAC within the range, then the next free one
        size = rng.end - rng.start + 1
        h = 0
        for b in mac:
            h = (b + (h << 6) + (h << 16) - h) & 0xFFFFFFFF
        for k in range(size):
            ip = rng.start + (h + k) % size
            if self._free(ip, mac):
                return ip
        return None

    def receive(self, data: bytes, src: int, sport: int) -> None:
        try:
            msg = Dhcp.decode(data)
        except ValueError:
            return
        if msg.op != BOOTREQUEST or msg.htype != 1 or msg.hlen != 6:
            return
        found = self._interface(self.sock.rx_ifindex)
        if found is None:
            return
        dev, server, plen = found
        rng = self._range_for(msg.giaddr or server, plen)
        if rng is None:
            return
        mask = rng.netmask if rng.netmask is not None else prefix_to_mask(plen)
        kind = msg.message_type
        mac = msg.chaddr[:6]
        req = msg.option(OPT_REQUESTED_IP)
        requested = int.from_bytes(req, "big") if req and len(req) == 4 else None
        now = self.ns.sched.now
        if kind == DHCPDISCOVER:
            ip = self._choose(rng, mask, mac, requested)
            if ip is not None:
                self.offered[mac] = ip
                self._reply(msg, DHCPOFFER, ip, dev, server, rng, mask)
        elif kind == DHCPREQUEST:
            sid = msg.option(OPT_SERVER_ID)
            if sid is not None and int.from_bytes(sid, "big") != server:
                self.offered.pop(mac, None)    # the client chose another server
                return
            want = requested if msg.ciaddr == 0 else msg.ciaddr
            if want is None:
                return
            ip = self._choose(rng, mask, mac, want)
            if ip == want:
                self._bind(msg, ip, rng, now)
                self._reply(msg, DHCPACK, ip, dev, server, rng, mask)
            elif sid is not None or self.cfg.authoritative or mac in self.leases or \
                    (want & mask) != (rng.start & mask):
                self._reply(msg, DHCPNAK, 0, dev, server, rng, mask)
        elif kind == DHCPRELEASE:
            lease = self.leases.get(mac)
            if lease is not None and lease.ip == msg.ciaddr:
                del self.leases[mac]
                self._write_leases()
        elif kind == DHCPDECLINE:
            if requested is not None:
                self.declined[requested] = now + DECLINE_BACKOFF * NSEC
                lease = self.leases.get(mac)
                if lease is not None and lease.ip == requested:
                    del self.leases[mac]
                    self._write_leases()
        elif kind == DHCPINFORM and msg.ciaddr:
            self._reply(msg, DHCPACK, 0, dev, server, rng, mask, inform=True)

    def _bind(self, msg: Dhcp, ip: int, rng: DhcpRange, now: int) -> None:
        mac = msg.chaddr[:6]
        host = self._host_for(mac)
        seconds = host.lease if host is not None and host.lease is not None else rng.lease
        name = msg.option(OPT_HOSTNAME)
        hostname = host.name if host is not None and host.name else (name.decode(errors="replace") if name else "*")
        cid = msg.option(61)
        self.leases[mac] = Lease(mac, ip, -1 if seconds == INFINITE else now + seconds * NSEC, hostname,
                                 ":".join(f"{b:02x}" for b in cid) if cid else "*")
        self.offered.pop(mac, None)
        self._write_leases()

    def _tags(self, msg: Dhcp, rng: DhcpRange) -> set[str]:
        tags = {rng.tag} if rng.tag else set()
        host = self._host_for(msg.chaddr[:6])
        if host is not None:
            tags |= host.tags
        tags |= {tag for tag, code in self.cfg.matches if msg.option(code) is not None}
        return tags

    def _reply(self, msg: Dhcp, kind: int, ip: int, dev: object, server: int, rng: DhcpRange, mask: int,
               inform: bool = False) -> None:
        opts: list[tuple[int, bytes]] = [(OPT_MESSAGE_TYPE, bytes((kind,))), (OPT_SERVER_ID, addrs(server))]
        if kind == DHCPNAK:
            opts.append((OPT_MESSAGE, b"wrong address"))
        else:
            host = self._host_for(msg.chaddr[:6])
            lease = host.lease if host is not None and host.lease is not None else rng.lease
            configured: dict[int, DhcpOption] = {}
            tags = self._tags(msg, rng)
            for o in self.options:     # the last matching one wins; tagged beats untagged
                if o.tags <= tags and (o.code not in configured or o.tags or not configured[o.code].tags):
                    configured[o.code] = o
            params = msg.option(OPT_PARAMS) or b""
            if not inform:
                opts.append((OPT_LEASE_TIME, u32(lease)))
                if lease != INFINITE:
                    for code, part in ((OPT_RENEWAL_TIME, lease // 2), (OPT_REBINDING_TIME, lease * 7 // 8)):
                        if code not in configured:
                            opts.append((code, u32(part)))
            base = ip or msg.ciaddr
            defaults = {OPT_SUBNET_MASK: addrs(mask), OPT_BROADCAST: addrs((base & mask) | (~mask & 0xFFFFFFFF)),
                        OPT_ROUTER: addrs(server)}
            if self.cfg.domain is not None:
                defaults[OPT_DOMAIN_NAME] = self.cfg.domain.encode()
            for code in (*_SERVER_SET, OPT_DOMAIN_NAME):
                if code in configured:
                    if configured[code].value:   # an empty --dhcp-option=3 sends no router
                        opts.append((code, configured.pop(code).value))
                    else:
                        configured.pop(code)
                elif code in defaults:
                    opts.append((code, defaults[code]))
            hostname = msg.option(OPT_HOSTNAME)
            if kind == DHCPACK and not inform and hostname:   # the name the client gave is echoed in the ACK
                opts.append((OPT_HOSTNAME, hostname))
            for code, o in configured.items():
                if o.value and (o.force or code in params or code in (OPT_RENEWAL_TIME, OPT_REBINDING_TIME)):
                    opts.append((code, o.value))
            if OPT_MTU not in configured and OPT_MTU in params:
                pass   # dnsmasq sends an MTU only when configured
        reply = Dhcp(BOOTREPLY, msg.xid, msg.chaddr, opts, flags=msg.flags, yiaddr=ip, giaddr=msg.giaddr,
                     ciaddr=msg.ciaddr if kind == DHCPACK else 0, siaddr=server if kind != DHCPNAK else 0)
        data = reply.encode()
        sk = self.sock
        if msg.giaddr:
            sk.bound_dev = None
            sk.sendto(data, msg.giaddr, DHCP_SERVER_PORT)
            return
        sk.bound_dev = dev
        try:
            if msg.ciaddr and kind != DHCPNAK:
                sk.sendto(data, msg.ciaddr, DHCP_CLIENT_PORT)
            elif kind == DHCPNAK or msg.flags & FLAG_BROADCAST or self.cfg.broadcast or not ip:
                sk.sendto(data, 0xFFFFFFFF, DHCP_CLIENT_PORT)
            else:   # unicast to an address the client does not have yet: write its ARP entry first
                self.ns.neigh.neigh_add(dev, ip, msg.chaddr[:6], NUD_REACHABLE, create=True, excl=False)  # type: ignore[arg-type]
                sk.sendto(data, ip, DHCP_CLIENT_PORT)
        finally:
            sk.bound_dev = None
