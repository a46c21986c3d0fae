"""Docker's embedded DNS (127.0.0.11) and the resolv.conf/hosts files dockerd writes.

moby's resolv.conf goldens (tests/data/moby/resolvconf) through netplex's transforms; the
docker-dns example on the simulator (and, marked linux, against the kernel twin, where real
glibc tools ask netplex's server); names, aliases, NAME.NETWORK, reverse lookups, the
forwarding to the host's servers, and what `docker rm` leaves.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex import Network
from netplex.container.dns import NO_OVERRIDES, DnsOverrides, resolv_conf_internal, resolv_conf_legacy
from netplex.packet.addr import ip_to_int
from netplex.packet.dns import TYPE_A, DnsMessage, DnsQuestion
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.stack.tcp import TcpSocket

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "moby" / "resolvconf"
NSEC_PER_SEC = 1_000_000_000

# moby's TestRCTransformForIntNS cases: host file, required options[, overrides (docker run --dns,
# --dns-option)]
INT_NS: dict[str, tuple[str, tuple[str, ...]] | tuple[str, tuple[str, ...], DnsOverrides]] = {
    "IPv4_only": ("nameserver 10.0.0.1", ()),
    "IPv4_and_IPv6,_ipv6_enabled": ("nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1", ()),
    "IPv4_localhost": ("nameserver 127.0.0.53", ()),
    "IPv6_only": ("nameserver fd14:6e0e:f855::1", ()),
    "IPv4_and_IPv6_localhost": ("nameserver 127.0.0.53\nnameserver ::1", ()),
    "ndots_present_and_required": ("nameserver 127.0.0.53\noptions ndots:1", ("ndots:0",)),
    "ndots_missing_but_required": ("nameserver 127.0.0.53", ("ndots:0",)),
    "Extra_required_options": ("nameserver 127.0.0.53\noptions trust-ad", ("ndots:0", "attempts:3", "edns0",
                                                                           "trust-ad")),
    "No_config": ("", ()),
    "IPv4_localhost_override": ("nameserver 10.0.0.1", (), DnsOverrides(nameservers=("127.0.0.53",))),
    "ndots_host,_override_and_required": ("nameserver 127.0.0.53", ("ndots:0",),
                                          DnsOverrides(options=("ndots:2",))),
}
LEGACY: dict[str, tuple[str, bool] | tuple[str, bool, DnsOverrides]] = {
    "Routable_IPv4_only": ("nameserver 10.0.0.1", False),
    "Routable_IPv4_and_IPv6,_ipv6_enabled": ("nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1", True),
    "Routable_IPv4_and_IPv6,_ipv6_disabled": ("nameserver 10.0.0.1\nnameserver fdb6:b8fe:b528::1", False),
    "IPv4_localhost,_ipv6_disabled": ("nameserver 127.0.0.53", False),
    "IPv4_localhost,_ipv6_enabled": ("nameserver 127.0.0.53", True),
    "IPv4_and_IPv6_localhost,_ipv6_disabled": ("nameserver 127.0.0.53\nnameserver ::1", False),
    "IPv4_and_IPv6_localhost,_ipv6_enabled": ("nameserver 127.0.0.53\nnameserver ::1", True),
    "IPv4_localhost,_IPv6_routeable,_ipv6_enabled": ("nameserver 127.0.0.53\nnameserver fd3e:2d1a:1f5a::1", True),
    "IPv4_localhost,_IPv6_routeable,_ipv6_disabled": ("nameserver 127.0.0.53\nnameserver fd3e:2d1a:1f5a::1", False),
    "Override_nameservers": ("nameserver 127.0.0.53", False, DnsOverrides(nameservers=("127.0.0.1", "::1"))),
}


@pytest.mark.parametrize("case", sorted(INT_NS))
def test_moby_golden_internal_resolver(case: str) -> None:
    text, reqd, *over = INT_NS[case]
    want = (GOLDEN / "TestRCTransformForIntNS" / f"{case}.golden").read_text()
    assert resolv_conf_internal(text, reqd, header=False, overrides=over[0] if over else NO_OVERRIDES) == want


@pytest.mark.parametrize("case", sorted(LEGACY))
def test_moby_golden_legacy_network(case: str) -> None:
    text, ipv6, *over = LEGACY[case]
    want = (GOLDEN / "TestRCTransformForLegacyNw" / f"{case}.golden").read_text()
    assert resolv_conf_legacy(text, ipv6, header=False, overrides=over[0] if over else NO_OVERRIDES) == want


def test_goldens_kept_are_the_cases_run() -> None:
    """Every golden file is a case above: 21/21."""
    assert {p.stem for p in (GOLDEN / "TestRCTransformForIntNS").iterdir()} == set(INT_NS)
    assert {p.stem for p in (GOLDEN / "TestRCTransformForLegacyNw").iterdir()} == set(LEGACY)


def test_example_scenario() -> None:
    res = run_scenario(load_scenario(ROOT / "examples" / "docker-dns.yaml"), SimBackend())
    assert res.passed, [p for p in res.probes if not p.passed]


@pytest.fixture
def lab():
    """A docker host whose resolv.conf names an upstream server that answers nothing."""
    net = Network()
    h = net.add_node("h", kind="docker-host")
    h.machine.fs.write("/etc/resolv.conf", b"nameserver 192.0.2.53\n")
    assert h.run("dockerd").status == 0
    for line in ("docker network create --subnet 172.30.0.0/24 backend",
                 "docker network create --subnet 172.30.1.0/24 front",
                 "docker run -d --name db --network backend --network-alias cache --network-alias store redis",
                 "docker run -d --name app --network backend alpine sleep infinity",
                 "docker run -d --name web --network front nginx"):
        r = h.run(line)
        assert r.status == 0, (line, r.error)
    return h


def test_names_aliases_and_networks(lab) -> None:
    db_id = lab.run("docker inspect -f '{{.Id}}' db").output.strip()[:12]
    for name in ("db", "DB", "cache", "store", "db.backend", "cache.backend", db_id):
        r = lab.run(f"docker exec app getent hosts {name}")
        assert r.output == f"172.30.0.2      {name}\n", name
    # web is on another network: not a name app can resolve (forwarded upstream: no answer there)
    assert lab.run("docker exec app getent hosts web").status == 2
    assert lab.run("docker exec app getent hosts db.front").status == 2
    r = lab.run("docker inspect -f '{{json .NetworkSettings.Networks.backend.DNSNames}}' db")
    assert r.output == f'["db","cache","store","{db_id}"]\n'
    assert lab.run("docker inspect -f '{{json .NetworkSettings.Networks.backend.Aliases}}' db").output == \
        '["cache","store"]\n'


def test_connect_gives_names_on_the_new_network(lab) -> None:
    assert lab.run("docker exec web getent hosts db").status == 2
    assert lab.run("docker network connect --alias www backend web").status == 0
    assert lab.run("docker exec app getent hosts www").output == "172.30.0.4      www\n"
    assert lab.run("docker exec web getent hosts db").output == "172.30.0.2      db\n"


def test_stop_and_rm_take_the_name_and_the_server_away(lab) -> None:
    assert lab.run("docker stop db").status == 0
    assert lab.run("docker exec app getent hosts db").status == 2
    assert lab.run("docker rm app -f").status == 0
    assert "app" not in lab.run("ip netns list").output
    assert lab.run("docker start db").status == 0
    r = lab.run("ip netns exec db iptables -t nat -S DOCKER_POSTROUTING")
    assert r.output.count("-j SNAT --to-source :53") == 2


def test_curl_and_nc_errors_by_name(lab) -> None:
    r = lab.run("docker exec app curl -sS http://nosuch/")
    assert (r.status, r.error) == (6, "curl: (6) Could not resolve host: nosuch\n")
    r = lab.run("docker exec app nc -z nosuch 80")
    assert (r.status, r.error) == (1, 'nc: getaddrinfo for host "nosuch" port 80: Temporary failure in name '
                                      "resolution\n")
    r = lab.run("docker exec app sh -c 'echo hi | nc -w 1 cache 6379'")
    assert r.status == 0


def test_network_alias_needs_a_user_network() -> None:
    h = Network().add_node("h", kind="docker-host")
    assert h.run("dockerd").status == 0
    r = h.run("docker run -d --name x --network-alias y alpine sleep 9")
    assert (r.status, r.error) == (125, "docker: Error response from daemon: network-scoped alias is supported only "
                                        "for containers in user defined networks\n\nRun 'docker run --help' for more "
                                        "information\n")
    assert h.run("docker ps -a -q").output == ""


def test_link_on_the_default_bridge_writes_hosts() -> None:
    """buildSandboxOptions: a legacy link is a hosts line (alias, the child's hostname, its name unless
    that is the alias), before the container's own; the resolver finds it there first."""
    h = Network().add_node("h", kind="docker-host")
    for line in ("dockerd", "docker run -d --name db redis",
                 "docker run -d --name app --link db:database --link db alpine sleep infinity"):
        assert h.run(line).status == 0, line
    db_id = h.run("docker inspect -f '{{.Id}}' db").output[:12]
    hosts = h.run("docker exec app cat /etc/hosts").output.splitlines()
    assert hosts[-3:-1] == [f"172.17.0.2\tdatabase {db_id} db", f"172.17.0.2\tdb {db_id}"]
    assert h.run("docker exec app getent hosts db").output == f"172.17.0.2      database {db_id} db\n"
    assert h.run("docker exec app ping -c 1 database").output.splitlines()[1].startswith(
        "64 bytes from database (172.17.0.2): icmp_seq=1")
    r = h.run("docker run -d --name x --link nosuch alpine sleep 1")
    assert (r.status, r.error) == (125, "docker: Error response from daemon: could not get container for nosuch: No "
                                        "such container: nosuch\n\nRun 'docker run --help' for more information\n")
    r = h.run("docker run -d --name y --link a:b:c alpine sleep 1")
    assert (r.status, r.error) == (125, 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c\n'
                                        "See 'docker run --help'.\n")
    assert h.run("docker stop db").status == 0 and h.run("docker stop app").status == 0
    r = h.run("docker start app")
    assert (r.status, r.error) == (1, "Error response from daemon: Cannot link to a non running container: /db AS "
                                      "/app/database\nError: failed to start containers: app\n")


def test_the_server_answers_over_tcp_through_the_dnat(lab) -> None:
    """RFC 1035 4.2.2 over the TCP listener: 127.0.0.11:53 is DNATed to it (DOCKER_OUTPUT's tcp rule),
    a two-byte length before each message, and the SNAT makes the answer come from port 53."""
    ns = lab.machine.netns_get("app")
    sk = TcpSocket(ns.sockets)
    got = bytearray()
    sk.on_data = lambda s, data: got.extend(data)
    query = DnsMessage(id=77, rd=True, questions=[DnsQuestion("cache", TYPE_A)]).encode()
    sk.on_connect = lambda s: s.send(len(query).to_bytes(2, "big") + query)
    assert sk.connect(ip_to_int("127.0.0.11"), 53) == 0
    lab.net.run_until(lambda: len(got) >= 2 and len(got) >= 2 + int.from_bytes(got[:2], "big"), NSEC_PER_SEC)
    assert sk.rport == 53
    # the listeners are dockerd's, as `ss -p` in the container shows (dockerd lives in the host's namespace)
    assert 'users:(("dockerd",' in lab.run("ip netns exec app ss -ltnp").output
    reply = DnsMessage.decode(bytes(got[2:]))
    assert (reply.id, reply.qr, reply.ra, [a.address() for a in reply.answers]) == (77, True, True, ["172.30.0.2"])
    sk.close()


def _host(resolv: bytes = b"nameserver 192.0.2.53\nsearch lab.example\noptions ndots:3\n"):
    h = Network().add_node("h", kind="docker-host")
    h.machine.fs.write("/etc/resolv.conf", resolv)
    assert h.run("dockerd").status == 0
    return h


@pytest.mark.parametrize("flag, value, why", [
    ("add-host", "x", 'bad format for add-host: "x"'),
    ("add-host", ":10.0.0.1", 'bad format for add-host: ":10.0.0.1"'),
    ("add-host", "a:b:10.0.0.1", 'invalid IP address in add-host: "b:10.0.0.1"'),
    ("add-host", "x:y", 'invalid IP address in add-host: "y"'),
    ("add-host", "db=010.0.0.1", 'invalid IP address in add-host: "010.0.0.1"'),
    ("dns", "1.2.3", "IP address is not correctly formatted: 1.2.3"),
    ("dns", "fe80::1%eth0", "IP address is not correctly formatted: fe80::1%eth0"),
    ("dns-search", "-bad-", "-bad- is not a valid domain"),
    ("dns-search", "123", "123 is not a valid domain"),
])
def test_bad_dns_and_add_host_values_as_the_docker_cli(flag: str, value: str, why: str) -> None:
    """opts.ValidateExtraHost / ValidateIPAddress / ValidateDNSSearch under pflag: 125, nothing made."""
    h = _host()
    for cmd in ("run", "create"):
        r = h.run(f"docker {cmd} --name x --{flag} '{value}' alpine true")
        assert (r.status, r.output, r.error) == (125, "", f'invalid argument "{value}" for "--{flag}" flag: {why}\n'
                                                         f"See 'docker {cmd} --help'.\n")
    assert h.run("docker ps -a -q").output == ""


def test_overrides_on_a_user_network() -> None:
    """--dns becomes the embedded server's upstream (no host() mark: dialled from the container),
    --dns-search and --dns-option replace the host's; --add-host lines come before the links and the
    container's own line; host-gateway is docker0's address; docker inspect's HostConfig shows them."""
    h = _host()
    assert h.run("docker network create --subnet 172.30.0.0/24 backend").status == 0
    r = h.run("docker run -d --name c --network backend --dns 10.9.9.9 --dns 0:0:0:0:0:ffff:a09:909 "
              "--dns-search corp.example. --dns-search . --dns-opt ndots:2 --dns-option edns0 "
              "--add-host gw:host-gateway --add-host db=10.1.2.3 --add-host 'x:[10.0.0.7]' alpine sleep 9")
    assert r.status == 0, r.error
    assert h.run("docker exec c cat /etc/resolv.conf").output.split("\n\n", 1)[1] == (
        "nameserver 127.0.0.11\nsearch corp.example\noptions ndots:2 edns0\n\n"
        "# Based on host file: '/etc/resolv.conf' (internal resolver)\n# ExtServers: [10.9.9.9 10.9.9.9]\n"
        "# Overrides: [nameservers search options]\n# Option ndots from: override\n")
    cid = h.run("docker inspect -f '{{.Id}}' c").output[:12]
    assert h.run("docker exec c cat /etc/hosts").output.splitlines()[6:] == [
        "172.17.0.1\tgw", "10.1.2.3\tdb", "10.0.0.7\tx", f"172.30.0.2\t{cid}"]
    r = h.run("docker inspect -f '{{json .HostConfig.Dns}} {{json .HostConfig.DnsSearch}} "
              "{{json .HostConfig.DnsOptions}} {{json .HostConfig.ExtraHosts}}' c")
    assert r.output == ('["10.9.9.9","10.9.9.9"] ["corp.example","."] ["ndots:2","edns0"] '
                        '["gw:host-gateway","db:10.1.2.3","x:10.0.0.7"]\n')
    assert h.run("docker exec c getent hosts db").output == "10.1.2.3        db\n"
    r = h.run("docker run -d --name d alpine sleep 9")
    assert h.run("docker inspect -f '{{json .HostConfig.Dns}} {{json .HostConfig.ExtraHosts}}' d").output == \
        "[] null\n"


def test_overrides_on_the_default_bridge_and_refusals() -> None:
    """On the default bridge the --dns servers are the nameservers, loopback ones too (no filtering);
    `--dns-search .` empties the search list; host-gateway needs docker0; IPv6 and --network host are
    refused in netplex's words."""
    h = _host()
    assert h.run("docker run -d --name c --dns 127.0.0.1 --dns 10.9.9.9 --dns-search . alpine sleep 9").status == 0
    assert h.run("docker exec c cat /etc/resolv.conf").output.split("\n\n", 1)[1] == (
        "nameserver 127.0.0.1\nnameserver 10.9.9.9\noptions ndots:3\n\n"
        "# Based on host file: '/etc/resolv.conf' (legacy)\n# Overrides: [nameservers search]\n"
        "# Option ndots from: host\n")
    r = h.run("docker run -d --name v6 --dns ::1 alpine sleep 9")
    assert (r.status, r.error) == (125, "netplex: docker run --dns with an IPv6 address is not supported (netplex "
                                        "models IPv4)\n")
    r = h.run("docker run -d --name hn --network host --add-host a:10.0.0.1 alpine sleep 9")
    assert r.status == 125 and r.error.startswith("netplex: docker run --dns, --dns-search, --dns-option and "
                                                  "--add-host with --network host are not supported")
    nob = Network().add_node("h", kind="docker-host")
    assert nob.run("dockerd --bridge=none").status == 0
    assert nob.run("docker network create n").status == 0
    r = nob.run("docker run -d --name x --network n --add-host gw:host-gateway alpine sleep 9")
    assert (r.status, r.error) == (125, "docker: Error response from daemon: unable to derive the IP value for "
                                        "host-gateway\n\nRun 'docker run --help' for more information\n")
    assert nob.run("docker ps -a -q").output == "" and "x" not in nob.run("ip netns list").output
