"""etcd, etcdctl and flanneld as users type them; both flannel examples on both backends."""
from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from netplex import Network
from netplex.container.etcd import EtcdStore, HttpRequest, b64, handle_http
from netplex.container.flannel import UdpProxy
from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IPv4
from netplex.packet.udp import Udp

ROOT = Path(__file__).resolve().parents[2]


def test_store_revisions_leases_and_txn() -> None:
    st = EtcdStore()

    def call(path: str, body: dict, now: float = 0.0) -> dict:
        raw = handle_http(st, HttpRequest("POST", path, json.dumps(body).encode()), now)
        return json.loads(raw.partition(b"\r\n\r\n")[2])

    call("/v3/kv/put", {"key": b64("a"), "value": b64("1")})
    call("/v3/kv/put", {"key": b64("a"), "value": b64("2")})
    [kv] = call("/v3/kv/range", {"key": b64("a")})["kvs"]
    assert (kv["create_revision"], kv["mod_revision"], kv["version"]) == ("2", "3", "2")
    two = {"success": [{"request_put": {"key": b64("t1"), "value": b64("x")}},
                       {"request_put": {"key": b64("t2"), "value": b64("y")}},
                       {"request_delete_range": {"key": b64("a")}}]}
    assert call("/v3/kv/txn", two)["header"]["revision"] == "4"          # one revision for the whole txn
    revs = {call("/v3/kv/range", {"key": b64(k)})["kvs"][0]["mod_revision"] for k in ("t1", "t2")}
    assert revs == {"4"}
    lid = call("/v3/lease/grant", {"TTL": 10})["ID"]
    create = {"compare": [{"key": b64("b"), "result": "EQUAL", "target": "CREATE", "create_revision": "0"}],
              "success": [{"request_put": {"key": b64("b"), "value": b64("x"), "lease": lid}}]}
    assert call("/v3/kv/txn", create).get("succeeded") is True
    assert call("/v3/kv/txn", create).get("succeeded") is None      # exists now: the txn fails
    assert "kvs" in call("/v3/kv/range", {"key": b64("b")}, now=9.0)
    assert "kvs" not in call("/v3/kv/range", {"key": b64("b")}, now=10.0)   # the lease expired


@pytest.fixture
def etcd_net():
    net = Network()
    e = net.add_node("etcd", kind="etcd")
    h = net.add_node("h")
    net.add_link("etcd:eth0", "h:eth0")
    for line in ("ip link set lo up", "etcd --listen-client-urls http://0.0.0.0:2379",
                 "ip addr add 10.0.0.1/24 dev eth0", "ip link set eth0 up"):
        assert e.run(line).status == 0, line
    h.run("ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up")
    return net, e, h


def test_etcdctl_as_etcd_34_prints(etcd_net) -> None:
    _, e, h = etcd_net
    ep = "--endpoints=http://10.0.0.1:2379"
    assert h.run(f"etcdctl {ep} put /k/a 1").output == "OK\n"
    assert h.run(f"etcdctl {ep} put /k/b 2").output == "OK\n"
    assert h.run(f"etcdctl {ep} get /k/a").output == "/k/a\n1\n"
    assert h.run(f"etcdctl {ep} get --prefix /k").output == "/k/a\n1\n/k/b\n2\n"
    assert h.run(f"etcdctl {ep} get --prefix --keys-only /k").output == "/k/a\n\n/k/b\n\n"
    assert h.run(f"etcdctl {ep} get --print-value-only /k/b").output == "2\n"
    assert h.run(f"etcdctl {ep} get /nothing").output == ""
    assert h.run(f"etcdctl {ep} del --prefix /k").output == "2\n"
    grant = h.run("ETCDCTL_ENDPOINTS=10.0.0.1:2379 etcdctl lease grant 5").output
    assert grant.startswith("lease ") and grant.endswith(" granted with TTL(5s)\n")
    lid = grant.split()[1]
    assert h.run(f"etcdctl {ep} put --lease={lid} /t x").output == "OK\n"
    assert h.run(f"etcdctl {ep} lease list").output == f"found 1 leases\n{lid}\n"
    h.run("sleep 6")                                     # simulated seconds: the lease expires
    assert e.run("etcdctl get /t").output == ""
    r = h.run(f"etcdctl {ep} member list")
    assert (r.status, r.error) == (1, "netplex: etcdctl member is not supported\n")


def test_etcdctl_unreachable(etcd_net) -> None:
    _, e, h = etcd_net
    e.run("iptables -A INPUT -p tcp --dport 2379 -j DROP")
    r = h.run("etcdctl --endpoints=http://10.0.0.1:2379 get /x")
    assert (r.status, r.error) == (1, "Error: context deadline exceeded\n")


def test_flanneld_errors(etcd_net) -> None:
    _, e, h = etcd_net
    ep = "--etcd-endpoints=http://10.0.0.1:2379"
    r = h.run(f"flanneld {ep} --iface=eth0")
    assert r.status == 1 and "Couldn't fetch network config" in r.error
    e.run("""etcdctl put /coreos.com/network/config '{"Network": "10.5.0.0/16", "Backend": {"Type": "wireguard"}}'""")
    r = h.run(f"flanneld {ep} --iface=eth0")
    assert (r.status, r.error) == (1, "netplex: flanneld backend wireguard is not supported\n")
    r = h.run(f"flanneld {ep} --kube-subnet-mgr")
    assert (r.status, r.error) == (1, "netplex: flanneld --kube-subnet-mgr is not supported\n")
    assert h.run("ip link show flannel.1").status != 0          # nothing made


def test_flanneld_lease_value_and_reuse(etcd_net) -> None:
    _, e, h = etcd_net
    e.run("""etcdctl put /coreos.com/network/config '{"Network": "10.5.0.0/16", "Backend": {"Type": "vxlan"}}'""")
    assert h.run("flanneld --etcd-endpoints=http://10.0.0.1:2379 --iface=eth0").status == 0
    out = e.run("etcdctl get --prefix /coreos.com/network/subnets").output.splitlines()
    assert out[0] == "/coreos.com/network/subnets/10.5.1.0-24"
    value = json.loads(out[1])
    assert value["PublicIP"] == "10.0.0.2" and value["BackendType"] == "vxlan"
    assert value["BackendData"]["VNI"] == 1
    assert value["BackendData"]["VtepMAC"] in h.run("ip link show flannel.1").output
    assert "inet 10.5.1.0/32 scope global flannel.1" in h.run("ip addr show flannel.1").output
    assert "flanneld" in h.run("ps ax").output
    h.run("pkill flanneld")
    assert h.run("flanneld --etcd-endpoints=http://10.0.0.1:2379 --iface=eth0").status == 0   # a restart
    assert len(e.run("etcdctl get --prefix --keys-only /coreos.com/network/subnets").output.split()) == 1


@pytest.mark.parametrize("name", ["flannel-vxlan", "flannel-host-gw", "flannel-udp", "flannel-lease-expiry"])
def test_flannel_example_sim(differential, name: str) -> None:
    res = differential.sim(ROOT / "examples" / f"{name}.yaml")
    assert res.passed, [p for p in res.probes if not p.passed]


@pytest.mark.linux
@pytest.mark.parametrize("name", ["flannel-vxlan", "flannel-host-gw", "flannel-udp", "flannel-lease-expiry"])
def test_flannel_example_agrees_with_the_kernel_and_etcd(differential, name: str) -> None:
    differential.assert_agree(ROOT / "examples" / f"{name}.yaml")


def test_etcdctl_lease_timetolive_keepalive_revoke(etcd_net) -> None:
    """As etcdctl 3.4 prints them (checked against etcd-server 3.4.23); the TTL runs in simulated time."""
    _, e, h = etcd_net
    lid = e.run("etcdctl lease grant 10").output.split()[1]
    e.run(f"etcdctl put --lease={lid} /a 1; etcdctl put --lease={lid} /b 2")
    assert e.run(f"etcdctl lease timetolive {lid}").output == f"lease {lid} granted with TTL(10s), remaining(10s)\n"
    h.run("sleep 3.5")                                 # etcd truncates the remaining seconds
    ep = "--endpoints=http://10.0.0.1:2379"           # 6.5 s remain: etcd prints 6
    assert h.run(f"etcdctl {ep} lease timetolive {lid}").output == (
        f"lease {lid} granted with TTL(10s), remaining(6s)\n")
    assert h.run(f"etcdctl {ep} lease timetolive --keys {lid}").output == (
        f"lease {lid} granted with TTL(10s), remaining(6s), attached keys([/a /b])\n")
    assert e.run(f"etcdctl lease keep-alive --once {lid}").output == f"lease {lid} keepalived with TTL(10)\n"
    h.run("sleep 7.5")                                 # 11 s after the grant, 7.5 after the renewal
    assert e.run("etcdctl get /a").output == "/a\n1\n"
    h.run("sleep 3")
    assert e.run("etcdctl get --prefix /").output == ""
    assert e.run(f"etcdctl lease timetolive {lid}").output == f"lease {lid} already expired\n"
    r = e.run(f"etcdctl lease keep-alive --once {lid}")
    assert (r.status, r.error) == (2, "Error: etcdserver: requested lease not found\n")
    r = e.run(f"etcdctl lease revoke {lid}")
    assert (r.status, r.error) == (1, "Error: failed to revoke lease (etcdserver: requested lease not found)\n")
    lid2 = e.run("etcdctl lease grant 60").output.split()[1]
    assert e.run(f"etcdctl lease revoke {lid2}").output == f"lease {lid2} revoked\n"
    for line, err in (("lease timetolive", "Error: lease timetolive command needs lease ID as argument\n"),
                      ("lease grant x", 'Error: bad TTL (strconv.ParseInt: parsing "x": invalid syntax)\n'),
                      ("lease timetolive zz", 'Error: bad lease ID arg (strconv.ParseInt: parsing "zz": '
                                              'invalid syntax), expecting ID in Hex\n')):
        r = e.run(f"etcdctl {line}")
        assert (r.status, r.error) == (128, err), line
    r = e.run(f"etcdctl lease keep-alive {lid2}")
    assert (r.status, r.error) == (1, "netplex: etcdctl lease keep-alive without --once is not supported\n")


def test_etcdctl_txn_as_etcdctl_34(etcd_net) -> None:
    """Sections, outputs, errors and statuses as etcdctl/etcd 3.4.23 gave them for the same input."""
    _, e, _ = etcd_net
    e.run("etcdctl put k1 v1")

    def txn(text: str):
        return e.run(f"printf '{text}' | etcdctl txn")

    r = txn(r'value("k1") = "v1"\n\nput k2 v2\nget k1\ndel k9\n\nput k3 v3\n\n')
    assert (r.status, r.output) == (0, "SUCCESS\n\nOK\n\nk1\nv1\n\n0\n")
    r = txn(r'value("k1") = "zz"\n\nput k2 v2\n\nput k3 v3\nget k9\nget --prefix k\n\n')
    assert (r.status, r.output) == (0, "FAILURE\n\nOK\n\n\nk1\nv1\nk2\nv2\nk3\nv3\n")
    r = txn(r'create("k1") = "0"\n\nput k2 x\n\nput k3 y\ndel k3\n\n')
    assert (r.status, r.error) == (1, "Error: etcdserver: duplicate key given in txn request\n")
    r = txn(r'mod("k1") > "1"\nversion("k2") != "3"\n\nput k5 x\n\n\n')
    assert (r.status, r.output) == (0, "SUCCESS\n\nOK\n")
    assert e.run("etcdctl get k5").output == "k5\nx\n"
    for text, err in ((r'value("k1") = "v1"\n\nput k3 zz\n', "Error: EOF\n"),
                      (r'bogus\n\n\n', "Error: malformed comparison: bogus\n"),
                      (r'\n\nfoo k\n\n', "Error: invalid txn request: foo k\n")):
        r = txn(text)
        assert (r.status, r.error) == (3, err), text
    assert e.run("etcdctl get k3").output == "k3\nv3\n"           # nothing ran
    r = e.run("etcdctl txn -i")
    assert (r.status, r.error) == (1, "netplex: etcdctl txn -i is not supported\n")


def test_txn_writes_take_one_revision_and_watch_replays_them(etcd_net) -> None:
    """etcd 3.4.23 gave: a txn of two puts and a delete moves the revision by one, both keys at it;
    `watch --rev` replays the history as etcdctl's simple printer does (DELETE: empty value)."""
    _, e, _ = etcd_net
    e.run("etcdctl put /a/x 1; etcdctl put /a/y 2; etcdctl del /a/x")
    r = e.run(r"printf '\nput t1 a\nput t2 b\ndel /a/y\n\n\n' | etcdctl txn")
    assert (r.status, r.output) == (0, "SUCCESS\n\nOK\n\nOK\n\n1\n")
    r = e.run("timeout 2 etcdctl watch --prefix /a --rev 1")
    assert (r.status, r.output) == (124, "PUT\n/a/x\n1\nPUT\n/a/y\n2\nDELETE\n/a/x\n\nDELETE\n/a/y\n\n")
    r = e.run("timeout 1 etcdctl watch --prev-kv --rev=1 /a/x")
    assert r.output == "PUT\n/a/x\n1\nDELETE\n/a/x\n1\n/a/x\n\n"
    assert e.run("timeout 1 etcdctl watch /a/x").output == ""            # from now on: nothing new
    for line, status, err in (("watch", 128, "Error: bad number of arguments\n"),
                              ("watch --rev=x /a", 1, 'Error: invalid argument "x" for "--rev" flag: '
                                                      'strconv.ParseInt: parsing "x": invalid syntax\n'),
                              ("watch -i", 1, "netplex: etcdctl watch -i is not supported\n")):
        r = e.run(f"etcdctl {line}")
        assert (r.status, r.error) == (status, err), line
    r = e.run("etcdctl watch /a | wc -l")
    assert r.output == "0\n" and "netplex's limit (60 s of simulated time)" in r.error


def test_flanneld_udp_backend_tun_and_proxy(etcd_net) -> None:
    """The udp backend: flannel0 held by flanneld's process (gone when it dies), the lease value
    with no backend fields, and the proxy's TTL and ICMP handling (proxy_amd64.c)."""
    _, e, h = etcd_net
    e.run("""etcdctl put /coreos.com/network/config '{"Network": "10.5.0.0/16", "Backend": {"Type": "udp"}}'""")
    assert h.run("flanneld --etcd-endpoints=http://10.0.0.1:2379 --iface=eth0").status == 0
    assert h.run("ip tuntap show").output == "flannel0: tun\n"
    assert h.run("ip route show dev flannel0").output == "10.5.0.0/16 \n"
    assert "FLANNEL_MTU=1472" in h.run("cat /run/flannel/subnet.env").output
    value = e.run("etcdctl get --print-value-only /coreos.com/network/subnets/10.5.1.0-24").output
    assert json.loads(value) == {"PublicIP": "10.0.0.2", "PublicIPv6": None}
    h.run("pkill flanneld")
    assert h.run("ip link show flannel0").error == 'Device "flannel0" does not exist.\n'
    h.run("nc -u -l -p 8285 &")                                      # port 8285 taken: flanneld fails
    r = h.run("flanneld --etcd-endpoints=http://10.0.0.1:2379 --iface=eth0")
    assert (r.status, r.error) == (1, "E main.go] failed to start listening on UDP socket: listen udp4 "
                                      "10.0.0.2:8285: bind: address already in use\n")
    assert h.run("ip link show flannel0").status == 1                 # its TUN went with it


def test_udp_proxy_ttl_and_net_unreachable() -> None:
    p = UdpProxy("192.168.64.2", "10.5.1.0", 8285)
    p.routes = {ipaddress.IPv4Network("10.5.2.0/24"): "192.168.64.3"}
    pkt = IPv4(0x0A050102, 0x0A050202, 17, Udp(1, 2, b"x"), ttl=5).encode()
    dest, out = p.from_tun(pkt)
    assert dest == ("192.168.64.3", 8285) and IPv4.decode(out).ttl == 4
    assert IPv4.decode(p.from_udp(out)).ttl == 3
    assert p.from_udp(IPv4(1, 2, 17, Udp(1, 2, b""), ttl=1).encode()) is None     # TTL 0: dropped
    dest, icmp = p.from_tun(IPv4(0x0A050102, 0x0A050902, 17, Udp(1, 2, b"x")).encode())
    back = IPv4.decode(icmp)
    assert dest is None and (back.src, back.dst, back.ttl) == (0x0A050100, 0x0A050102, 8)
    assert isinstance(back.payload, Icmp) and (back.payload.type, back.payload.code) == (3, 0)
    assert p.from_tun(IPv4(0x0A050102, 0x0A050902, 1, b"\x08\0\0\0").encode()) is None  # not about ICMP


def test_flanneld_renews_its_lease_and_stops_when_it_is_revoked(etcd_net) -> None:
    """MonitorLease: the renewal margin before expiry, a new 24 h lease and the key put under it;
    the key deleted: `Lease has been revoked. Shutting down daemon.`"""
    _, e, h = etcd_net
    e.run("""etcdctl put /coreos.com/network/config '{"Network": "10.5.0.0/16", "Backend": {"Type": "host-gw"}}'""")
    ep = "--etcd-endpoints=http://10.0.0.1:2379"
    for margin, err in (("0", "Invalid subnet-lease-renew-margin option, out of acceptable range\n"),
                        ("1440", "Invalid subnet-lease-renew-margin option, out of acceptable range\n"),
                        ("x", 'invalid value "x" for flag -subnet-lease-renew-margin: parse error\n')):
        r = h.run(f"flanneld {ep} --subnet-lease-renew-margin={margin}")
        assert (r.status, r.error) == (1, err), margin
    assert h.run(f"flanneld {ep} --iface=eth0 --subnet-lease-renew-margin=1439").status == 0
    key = "/coreos.com/network/subnets/10.5.1.0-24"

    def lease_of() -> str:
        """The lease the key is attached to, as a user finds it: lease list, then timetolive --keys."""
        ids = e.run("etcdctl lease list").output.split("\n")[1:-1]
        [lid] = [i for i in ids if key in e.run(f"etcdctl lease timetolive --keys {i}").output]
        return lid

    first = lease_of()
    h.run("sleep 30")
    assert lease_of() == first
    h.run("sleep 32")                                     # 1439 minutes before the 24 h expiry: renewed
    second = lease_of()
    assert second != first
    assert e.run("etcdctl lease list").output.startswith("found 2 leases\n")   # the old one runs out alone
    ttl = e.run(f"etcdctl lease timetolive {second}").output
    assert "granted with TTL(86400s), remaining(8639" in ttl
    e.run(f"etcdctl del {key}")
    h.run("sleep 2")
    assert "flanneld" not in h.run("ps ax").output
