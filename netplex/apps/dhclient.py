"""ISC dhclient 4.4 (dhclient(8)) as a DHCPv4 client: the state machine of RFC 2131
section 4.4 and what Debian's dhclient-script does with a lease.

INIT sends DHCPDISCOVER (the previous lease's address as option 50, Debian's
dhclient.conf parameter request list) through an AF_PACKET socket on the interface,
as dhclient's LPF does, retransmitted after 3 s and then twice as long each time up to
15 s (initial-interval, backoff-cutoff), giving up after 60 s (timeout). The first
DHCPOFFER is taken (select-timeout 0): DHCPREQUEST with options 54 and 50, broadcast.
The DHCPACK binds: dhclient-script's BOUND adds the address with its broadcast, sets the
MTU (option 26), and installs the classless static routes (option 121, the
rfc3442-classless-routes hook) or else a default route via the first router. At T1
(RENEWING) the REQUEST goes by unicast to the server from the fallback UDP socket
(port 68), at T2 (REBINDING) by broadcast; at expiry the address and routes go and
the client starts over. A DHCPNAK unconfigures and restarts. A signal ends dhclient and leaves the
address (as SIGTERM does); `release()` is `dhclient -r`'s DHCPRELEASE of the lease
file's lease and dhclient-script RELEASE (the interface's addresses flushed).
The leases file is written in dhclient.leases(5) format. The `-v` lines are the ones
ISC prints. Not modelled: the script hooks other than routes, an address's
lifetimes (valid_lft), the host-name option, DHCPDECLINE after an ARP check.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from netplex.apps.process import Program, ProgramExit, RunFile
from netplex.errors import NetplexError
from netplex.packet.addr import bytes_to_mac, int_to_ip, ip_to_int, mask_to_prefix
from netplex.packet.dhcp import (
    BOOTREPLY,
    BOOTREQUEST,
    DHCP_CLIENT_PORT,
    DHCP_SERVER_PORT,
    DHCPACK,
    DHCPDISCOVER,
    DHCPNAK,
    DHCPOFFER,
    DHCPRELEASE,
    DHCPREQUEST,
    OPT_BROADCAST,
    OPT_CLASSLESS_ROUTES,
    OPT_LEASE_TIME,
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
    decode_routes,
)
from netplex.packet.ethernet import ETH_P_IP
from netplex.packet.ipv4 import IPv4
from netplex.packet.udp import Udp
from netplex.stack.af_packet import SOCK_DGRAM
from netplex.stack.netns import IfAddr
from netplex.stack.route import Route
from netplex.stack.rtnl import setlink

__all__ = ["BOUND", "INIT", "REBINDING", "RENEWING", "REQUESTING", "SELECTING", "Dhclient", "last_lease"]

NSEC = 1_000_000_000
INIT, SELECTING, REQUESTING, BOUND, RENEWING, REBINDING = "INIT", "SELECTING", "REQUESTING", "BOUND", "RENEWING", "REBINDING"
INITIAL_INTERVAL, BACKOFF_CUTOFF, TIMEOUT, RETRY = 3, 15, 60, 300
# Debian's /etc/dhcp/dhclient.conf `request` list, in its order
PARAMS = bytes((1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42))
BANNER = ("Internet Systems Consortium DHCP Client 4.4.3-P1\nCopyright 2004-2022 Internet Systems Consortium.\n"
          "All rights reserved.\nFor info, please visit https://www.isc.org/software/dhcp/\n\n")
IPPROTO_UDP = 17


class Dhclient(Program):
    """One dhclient process for one interface."""

    comm = "dhclient"
    vsz_kib, rss_kib = 9496, 5600

    def __init__(self, ifname: str, leasefile: str, pidfile: str, log: Callable[[str], None] | None = None,
                 release_only: bool = False) -> None:
        super().__init__()
        self.release_only = release_only     # `dhclient -r`: a process that only releases
        self.ifname = ifname
        self.leasefile = leasefile
        self.pidfile = pidfile
        self.log = log or (lambda _line: None)
        self.state = INIT
        self.xid = 0
        self.interval = INITIAL_INTERVAL
        self.started = 0
        self.gave_up = False
        self.offer: Dhcp | None = None
        self.lease: Dhcp | None = None      # the bound ACK
        self.ip = 0
        self.server = 0
        self.installed: list[object] = []    # the IfAddr and Routes the script added
        self.epoch = 0                       # bumps on each state change: stale timers do nothing
        self.t2_at = self.expire_at = 0      # simulated ns of the bound lease's T2 and expiry

    # -- process -------------------------------------------------------------------------
    def start(self) -> None:
        dev = self.ns.devices.get(self.ifname)
        if dev is None:
            raise ProgramExit(1, f"Cannot find device \"{self.ifname}\"\n")
        self.dev = dev
        if not dev.up:   # dhclient-script PREINIT: `ip link set dev IF up`
            setlink(dev, up=True)
        self.packet = self.own(self.ns.sockets.packet_socket(SOCK_DGRAM, ETH_P_IP))
        self.packet.bind(dev.ifindex)
        self.packet.on_recv = lambda data, sll: self._frame(data)
        self.udp = self.own(self.ns.sockets.udp_socket())
        self.udp.bind(0, DHCP_CLIENT_PORT)
        self.udp.on_recv = lambda data, src, sport: self._message(data)
        mac = bytes_to_mac(dev.mac)
        self.log(f"Listening on LPF/{self.ifname}/{mac}\nSending on   LPF/{self.ifname}/{mac}\nSending on   Socket/fallback\n")
        if self.fs is not None and not self.release_only:
            self.own(RunFile(self.fs, self.pidfile, f"{self.proc.pid if self.proc else 0}\n".encode()))
        if not self.release_only:
            self._init()

    def release(self, ip: int, server: int) -> None:
        """`dhclient -r IFACE`: DHCPRELEASE of the lease file's lease to its server, then
        dhclient-script RELEASE (`ip -4 addr flush dev IFACE label IFACE`)."""
        self.xid = self.ns.world.rng.getrandbits(32)
        self.log(f"DHCPRELEASE of {int_to_ip(ip)} on {self.ifname} to {int_to_ip(server)} port 67\n")
        msg = Dhcp(BOOTREQUEST, self.xid, self.dev.mac,
                   [(OPT_MESSAGE_TYPE, bytes((DHCPRELEASE,))), (OPT_SERVER_ID, addrs(server))], ciaddr=ip)
        self.udp.sendto(msg.encode(), server, DHCP_SERVER_PORT)
        for ifa in [a for a in self.ns.addrs.get(self.dev.ifindex, []) if a.label == self.ifname]:
            self.ns.del_addr(ifa)
        self.installed = []

    # -- sending -------------------------------------------------------------------------
    def _message_for(self, kind: int, options: list[tuple[int, bytes]], ciaddr: int = 0) -> Dhcp:
        secs = min((self.ns.sched.now - self.started) // NSEC, 0xFFFF)
        opts = [(OPT_MESSAGE_TYPE, bytes((kind,))), *options]
        if kind != DHCPRELEASE:
            opts.append((OPT_PARAMS, PARAMS))
        return Dhcp(BOOTREQUEST, self.xid, self.dev.mac, opts, secs=secs, ciaddr=ciaddr)

    def _broadcast(self, msg: Dhcp) -> None:
        """Through the LPF socket: from 0.0.0.0 (or our address) to 255.255.255.255, Ethernet broadcast."""
        ip = IPv4(msg.ciaddr, 0xFFFFFFFF, IPPROTO_UDP, Udp(DHCP_CLIENT_PORT, DHCP_SERVER_PORT, msg.encode()), ttl=64,
                  tos=0x10)
        self.packet.sendto(ip.encode(), self.dev.ifindex, protocol=ETH_P_IP)

    def _init(self) -> None:
        self.gave_up = False
        self.epoch += 1
        self.state = SELECTING
        self.xid = self.ns.world.rng.getrandbits(32)
        self.started = self.ns.sched.now
        self.interval = INITIAL_INTERVAL
        self.offer = None
        self._discover(self.epoch)

    def _discover(self, epoch: int) -> None:
        if epoch != self.epoch or self.state != SELECTING:
            return
        if self.ns.sched.now - self.started >= TIMEOUT * NSEC:
            self.gave_up = True
            self.log("No DHCPOFFERS received.\n")
            self.after(RETRY * NSEC, self._init)   # `retry` (5 minutes), then INIT again
            return
        opts = []
        if self.lease is not None:
            opts.append((OPT_REQUESTED_IP, addrs(self.lease.yiaddr)))
        self.log(f"DHCPDISCOVER on {self.ifname} to 255.255.255.255 port 67 interval {self.interval}\n")
        self._broadcast(self._message_for(DHCPDISCOVER, opts))
        wait = self.interval * NSEC
        self.interval = min(self.interval * 2, BACKOFF_CUTOFF)
        # send_discover: a retry that would pass the timeout is made at the timeout
        wait = min(wait, self.started + TIMEOUT * NSEC - self.ns.sched.now + NSEC)
        self.after(wait, self._discover, epoch)

    def _request(self, epoch: int, tries: int = 0) -> None:
        """SELECTING's REQUEST (broadcast, with 54 and 50), RENEWING's (unicast) or REBINDING's (broadcast)."""
        if epoch != self.epoch:
            return
        if self.state == REQUESTING:
            assert self.offer is not None
            if tries >= 4:    # no ACK: back to INIT
                self._init()
                return
            sid = self.offer.option(OPT_SERVER_ID) or b""
            msg = self._message_for(DHCPREQUEST, [(OPT_SERVER_ID, sid), (OPT_REQUESTED_IP, addrs(self.offer.yiaddr))])
            self.log(f"DHCPREQUEST for {int_to_ip(self.offer.yiaddr)} on {self.ifname} to 255.255.255.255 port 67\n")
            self._broadcast(msg)
            self.after(INITIAL_INTERVAL * NSEC * (1 << tries), self._request, epoch, tries + 1)
        elif self.state in (RENEWING, REBINDING):
            msg = self._message_for(DHCPREQUEST, [], ciaddr=self.ip)
            if self.state == RENEWING:
                self.log(f"DHCPREQUEST for {int_to_ip(self.ip)} on {self.ifname} to {int_to_ip(self.server)} port 67\n")
                self.udp.sendto(msg.encode(), self.server, DHCP_SERVER_PORT)
            else:
                self.log(f"DHCPREQUEST for {int_to_ip(self.ip)} on {self.ifname} to 255.255.255.255 port 67\n")
                self._broadcast(msg)
            # RFC 2131 4.4.5: again after half the time left (to T2, or to expiry), at least 60 s
            left = (self.t2_at if self.state == RENEWING else self.expire_at) - self.ns.sched.now
            if left > 60 * NSEC:
                self.after(max(left // 2, 60 * NSEC), self._request, epoch)

    # -- receiving -----------------------------------------------------------------------
    def _frame(self, data: bytes) -> None:
        try:
            ip = IPv4.decode(data)
        except ValueError:
            return
        udp = ip.payload
        if ip.proto != IPPROTO_UDP or not isinstance(udp, Udp) or udp.dport != DHCP_CLIENT_PORT:
            return
        body = udp.payload
        self._message(body if isinstance(body, bytes) else body.encode())  # type: ignore[attr-defined]

    def _message(self, data: bytes) -> None:
        try:
            msg = Dhcp.decode(data)
        except ValueError:
            return
        if msg.op != BOOTREPLY or msg.xid != self.xid or msg.chaddr[:6] != self.dev.mac:
            return
        kind = msg.message_type
        sid = msg.option(OPT_SERVER_ID)
        server = int.from_bytes(sid, "big") if sid and len(sid) == 4 else 0
        if kind == DHCPOFFER and self.state == SELECTING:
            self.log(f"DHCPOFFER of {int_to_ip(msg.yiaddr)} from {int_to_ip(server)}\n")
            self.offer = msg
            self.state = REQUESTING
            self.epoch += 1
            self._request(self.epoch)
        elif kind == DHCPACK and self.state in (REQUESTING, RENEWING, REBINDING):
            self.log(f"DHCPACK of {int_to_ip(msg.yiaddr)} from {int_to_ip(server)}\n")
            self._bind(msg, server)
        elif kind == DHCPNAK and self.state in (REQUESTING, RENEWING, REBINDING):
            self.log(f"DHCPNAK from {int_to_ip(server)}\n")
            self._unconfigure()
            self.lease = None
            self._init()

    # -- the lease -------------------------------------------------------------------------
    def _bind(self, ack: Dhcp, server: int) -> None:
        renewing = self.state in (RENEWING, REBINDING) and ack.yiaddr == self.ip
        self.epoch += 1
        self.state = BOUND
        self.lease, self.server = ack, server
        lt = ack.option(OPT_LEASE_TIME)
        lease = int.from_bytes(lt, "big") if lt and len(lt) == 4 else 0
        t1o, t2o = ack.option(OPT_RENEWAL_TIME), ack.option(OPT_REBINDING_TIME)
        t1 = int.from_bytes(t1o, "big") if t1o and len(t1o) == 4 else lease // 2
        t2 = int.from_bytes(t2o, "big") if t2o and len(t2o) == 4 else lease * 7 // 8
        if not renewing:
            self._unconfigure()
            self._configure(ack)
        self.ip = ack.yiaddr
        self._write_lease(ack, t1, t2, lease)
        self.log(f"bound to {int_to_ip(ack.yiaddr)} -- renewal in {t1} seconds.\n")
        if lease != 0xFFFFFFFF:
            now, lease_id = self.ns.sched.now, ack
            self.t2_at, self.expire_at = now + t2 * NSEC, now + lease * NSEC
            self.after(t1 * NSEC, self._enter, RENEWING, lease_id)
            self.after(t2 * NSEC, self._enter, REBINDING, lease_id)
            self.after(lease * NSEC, self._expire, lease_id)

    def _enter(self, state: str, lease_id: Dhcp) -> None:
        """T1 or T2 of the lease `lease_id` (ignored once another ACK replaced it)."""
        if self.lease is not lease_id or self.state not in (BOUND, RENEWING):
            return
        self.epoch += 1
        self.state = state
        self.xid = self.ns.world.rng.getrandbits(32)
        self._request(self.epoch)

    def _expire(self, lease_id: Dhcp) -> None:
        if self.lease is not lease_id or self.state not in (RENEWING, REBINDING):
            return
        self._unconfigure()
        self.lease = None
        self._init()

    def _configure(self, ack: Dhcp) -> None:
        """dhclient-script BOUND: `ip -4 addr add IP/LEN broadcast BRD dev IF label IF`, the MTU, the routes."""
        ns, dev = self.ns, self.dev
        mask_o, brd_o = ack.option(OPT_SUBNET_MASK), ack.option(OPT_BROADCAST)
        plen = mask_to_prefix(int.from_bytes(mask_o, "big")) if mask_o and len(mask_o) == 4 else 32
        brd = int.from_bytes(brd_o, "big") if brd_o and len(brd_o) == 4 else None
        mtu_o = ack.option(OPT_MTU)
        try:
            mtu = int.from_bytes(mtu_o, "big") if mtu_o and len(mtu_o) == 2 else 0
            if mtu >= 68 and mtu != dev.mtu:
                setlink(dev, mtu=mtu)
            ifa = IfAddr(ack.yiaddr, plen, dev, brd=brd)
            ns.add_addr(ifa)
            self.installed.append(ifa)
            routes: list[tuple[int, int, int]] = []
            classless = ack.option(OPT_CLASSLESS_ROUTES)
            if classless:
                try:
                    routes = decode_routes(classless)
                except ValueError:
                    routes = []
            else:
                r = ack.option(OPT_ROUTER)
                if r and len(r) >= 4:
                    routes = [(0, 0, int.from_bytes(r[:4], "big"))]
            for dst, rplen, gw in routes:
                route = Route(dst, rplen, dev=dev, gw=gw or None, proto=3)
                ns.add_route(route)
                self.installed.append(route)
        except NetplexError as e:   # dhclient-script's `ip` failed: its message on stderr, the lease kept
            self.log(e.message + "\n")

    def _unconfigure(self) -> None:
        for obj in reversed(self.installed):
            try:
                if isinstance(obj, Route):
                    self.ns.del_route(obj)
                elif isinstance(obj, IfAddr):
                    self.ns.del_addr(obj)
            except NetplexError:
                pass   # already gone (an `ip addr flush` by hand)
        self.installed = []

    def _write_lease(self, ack: Dhcp, t1: int, t2: int, lease: int) -> None:
        fs = self.fs
        if fs is None:
            return
        names = {OPT_SUBNET_MASK: "subnet-mask", OPT_ROUTER: "routers", OPT_LEASE_TIME: "dhcp-lease-time",
                 OPT_MESSAGE_TYPE: "dhcp-message-type", OPT_SERVER_ID: "dhcp-server-identifier",
                 OPT_RENEWAL_TIME: "dhcp-renewal-time", OPT_BROADCAST: "broadcast-address",
                 OPT_REBINDING_TIME: "dhcp-rebinding-time", OPT_MTU: "interface-mtu"}
        lines = ["lease {", f'  interface "{self.ifname}";', f"  fixed-address {int_to_ip(ack.yiaddr)};"]
        for code, value in ack.options:
            if code not in names:
                continue
            if code in (OPT_SUBNET_MASK, OPT_SERVER_ID, OPT_BROADCAST, OPT_ROUTER):
                text = ",".join(int_to_ip(int.from_bytes(value[i:i + 4], "big")) for i in range(0, len(value) - 3, 4))
            else:
                text = str(int.from_bytes(value, "big"))
            lines.append(f"  option {names[code]} {text};")
        now = self.ns.world.realtime_ns() // NSEC
        for word, at in (("renew", t1), ("rebind", t2), ("expire", lease)):
            lines.append(f"  {word} {time.strftime('%w %Y/%m/%d %H:%M:%S', time.gmtime(now + at))};")
        lines.append("}\n")
        path = fs.norm(self.leasefile)
        try:
            fs.write_bytes(path, "\n".join(lines).encode(), append=True)
        except NetplexError:
            self.log(f"can't create {self.leasefile}: No such file or directory\n")


def last_lease(text: str, ifname: str) -> tuple[int, int] | None:
    """(fixed-address, dhcp-server-identifier) of the last lease for `ifname` in a dhclient.leases file."""
    found = None
    for block in text.split("lease {")[1:]:
        fields: dict[str, str] = {}
        for line in block.splitlines():
            words = line.strip().rstrip(";").split()
            if len(words) >= 2 and words[0] in ("interface", "fixed-address"):
                fields[words[0]] = words[1].strip('"')
            elif len(words) >= 3 and words[:2] == ["option", "dhcp-server-identifier"]:
                fields["server"] = words[2]
        if fields.get("interface") == ifname and "fixed-address" in fields and "server" in fields:
            try:
                found = (ip_to_int(fields["fixed-address"]), ip_to_int(fields["server"]))
            except ValueError:
                continue
    return found
