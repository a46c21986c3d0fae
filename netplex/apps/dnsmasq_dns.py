"""dnsmasq's DNS answers from its own data (dnsmasq(8) 2.90: --host-record, /etc/hosts, --addn-hosts, --local).

netplex's dnsmasq answers what it knows and refuses the rest: it does not
forward (the command line must say --no-resolv and name no upstream --server).
What Debian's dnsmasq 2.90 answers in that setting (tests/packet/test_dns.py and
tests/apps/test_dnsmasq_dns.py hold its replies):

- a name of a host record or a hosts line, type A: its addresses, authoritative,
  TTL --local-ttl (0 by default), the question's spelling kept;
- such a name, another type (AAAA, MX ...): NOERROR without an answer;
- a PTR query for one of those addresses: the first name of its record;
- a name inside a --local=/DOMAIN/ domain it does not know: NXDOMAIN (the domain
  itself: NOERROR without an answer);
- anything else: REFUSED (no upstream server).

Recursion available is set and RD copied in every reply, as dnsmasq does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netplex.packet.addr import int_to_ip
from netplex.packet.dns import (
    CLASS_IN,
    RCODE_NXDOMAIN,
    RCODE_REFUSED,
    TYPE_A,
    TYPE_PTR,
    DnsMessage,
    DnsRecord,
    a_record,
)

__all__ = ["DnsData", "HostRecord"]


@dataclass
class HostRecord:
    names: list[str]           # lower case; the first is the canonical one (PTR)
    ip: int


@dataclass
class DnsData:
    records: list[HostRecord] = field(default_factory=list)
    local_domains: list[str] = field(default_factory=list)
    ttl: int = 0

    def add_hosts(self, text: str) -> None:
        """hosts(5) lines: ADDRESS NAME [ALIAS...]; IPv6 lines are skipped (netplex serves IPv4)."""
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) < 2 or ":" in words[0]:
                continue
            try:
                a, b, c, d = (int(x) for x in words[0].split("."))
            except ValueError:
                continue
            self.records.append(HostRecord([w.lower() for w in words[1:]], a << 24 | b << 16 | c << 8 | d))

    def _local(self, name: str) -> str | None:
        for dom in self.local_domains:
            if name == dom or name.endswith("." + dom):
                return dom
        return None

    def answer(self, query: DnsMessage) -> DnsMessage:
        q = query.questions[0]
        name = q.name.lower().rstrip(".")
        hits = [r for r in self.records if name in r.names]
        reply = query.reply()
        reply.ra = True
        if q.qtype == TYPE_A and hits:
            reply.aa = True
            reply.answers = [a_record(q.name, int_to_ip(r.ip), self.ttl) for r in hits]
            return reply
        if q.qtype == TYPE_PTR and name.endswith(".in-addr.arpa"):
            parts = name.split(".")[:-2]
            if len(parts) == 4 and all(p.isdigit() for p in parts):
                ip = ".".join(reversed(parts))
                for r in self.records:
                    if int_to_ip(r.ip) == ip:
                        reply.aa = True
                        reply.answers = [DnsRecord(q.name, TYPE_PTR, CLASS_IN, self.ttl, r.names[0])]
                        return reply
        if hits:
            return reply                     # the name exists, not with this type
        dom = self._local(name)
        if dom is not None:
            if name != dom:
                reply.rcode = RCODE_NXDOMAIN
            return reply
        reply.rcode = RCODE_REFUSED
        return reply
