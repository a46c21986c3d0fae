"""cgroup net_cls on a docker host: the hierarchy, `docker run --cgroup-parent`, `tc filter ... cgroup`
(cls_cgroup) and `iptables -m cgroup` (xt_cgroup), as a user types them (issue 12 item 3)."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex import Network
from netplex.packet.addr import ip_to_int
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
CG = "/sys/fs/cgroup/net_cls"


def _ok(node, line: str) -> str:
    r = node.run(line)
    assert r.status == 0, (line, r.error)
    return r.output


@pytest.fixture
def host():
    h = Network().add_node("h", kind="docker-host")
    assert h.run("dockerd").status == 0
    return h


def test_hierarchy_files_as_cgroup_v1(host) -> None:
    assert _ok(host, f"ls {CG}").split() == ["cgroup.clone_children", "cgroup.procs", "cgroup.sane_behavior",
                                             "net_cls.classid", "notify_on_release", "release_agent", "tasks"]
    _ok(host, f"mkdir {CG}/web && echo 0x100001 > {CG}/web/net_cls.classid")
    assert _ok(host, f"cat {CG}/web/net_cls.classid") == "1048577\n"     # read back as a decimal u64
    _ok(host, f"mkdir {CG}/web/sub")
    assert _ok(host, f"cat {CG}/web/sub/net_cls.classid") == "1048577\n"  # a new cgroup takes its parent's
    _ok(host, f"echo 010 > {CG}/web/sub/net_cls.classid")                 # kstrtoull base 0: octal
    assert _ok(host, f"cat {CG}/web/sub/net_cls.classid") == "8\n"
    r = host.run(f"echo bad > {CG}/web/net_cls.classid")
    assert (r.status, r.error) == (1, "bash: line 1: echo: write error: Invalid argument\n")
    assert _ok(host, f"cat {CG}/web/net_cls.classid") == "1048577\n"     # nothing changed
    r = host.run(f"echo 99999 > {CG}/web/tasks")
    assert (r.status, r.error) == (1, "bash: line 1: echo: write error: No such process\n")
    r = host.run(f"rmdir {CG}/web")
    assert (r.status, r.error) == (1, f"rmdir: failed to remove '{CG}/web': Device or resource busy\n")
    r = host.run(f"mkdir {CG}/web")
    assert (r.status, r.error) == (1, f"mkdir: cannot create directory '{CG}/web': File exists\n")
    r = host.run(f"mkdir {CG}/no/such")
    assert r.error == f"mkdir: cannot create directory '{CG}/no/such': No such file or directory\n"
    r = host.run(f"rm {CG}/web/tasks")
    assert r.error == f"rm: cannot remove '{CG}/web/tasks': Operation not permitted\n"
    _ok(host, f"rmdir {CG}/web/sub && rmdir {CG}/web")
    assert "web" not in _ok(host, f"ls {CG}").split()


def test_docker_cgroup_parent_makes_and_removes_the_container_cgroup(host) -> None:
    _ok(host, f"mkdir {CG}/web && echo 0x10010 > {CG}/web/net_cls.classid")
    cid = _ok(host, "docker run -d --name w --network host --cgroup-parent=/web nginx").strip()
    assert _ok(host, "docker inspect -f '{{.HostConfig.CgroupParent}}' w") == "/web\n"
    pid = _ok(host, "docker inspect -f '{{.State.Pid}}' w").strip()
    assert _ok(host, f"cat {CG}/web/{cid}/tasks") == f"{pid}\n"
    assert _ok(host, f"cat {CG}/web/{cid}/net_cls.classid") == "65552\n"
    other = _ok(host, "docker run -d --name o nginx").strip()            # docker's own cgroup parent
    assert _ok(host, f"ls {CG}/docker").split()[0] == other
    _ok(host, "docker rm -f w")
    assert cid not in _ok(host, f"ls {CG}/web")                           # runc removed it; /web stays


def test_tc_filter_cgroup_show_and_errors() -> None:
    n = Network().add_node("a")
    _ok(n, "ip link add d0 type veth peer name d1 && ip link set d0 up && "
           "tc qdisc add dev d0 root handle 1: htb default 30")
    _ok(n, "tc filter add dev d0 parent 1: protocol ip prio 10 handle 1: cgroup")
    assert _ok(n, "tc filter show dev d0") == ("filter parent 1: protocol ip pref 10 cgroup chain 0 \n"
                                               "filter parent 1: protocol ip pref 10 cgroup chain 0 handle 0x1 \n")
    r = n.run("tc filter add dev d0 parent 1: protocol ip prio 11 cgroup")   # cls_cgroup_change: no handle
    assert (r.status, r.error.splitlines()[0]) == (2, "RTNETLINK answers: Invalid argument")
    r = n.run("tc filter add dev d0 parent 1: protocol ip prio 12 handle 2 cgroup foo")
    assert (r.status, r.error) == (1, 'What is "foo"?\nUsage: ... cgroup [ match EMATCH_TREE ]\n'
                                      "                  [ action ACTION_SPEC ]\n")
    r = n.run("tc filter add dev d0 parent 1: protocol ip prio 12 handle 2 cgroup match 'meta(priority eq 1)'")
    assert (r.status, r.error) == (2, "netplex: tc filter cgroup match (an ematch tree) is not supported\n")
    assert "pref 11" not in _ok(n, "tc filter show dev d0") and "pref 12" not in _ok(n, "tc filter show dev d0")
    _ok(n, "tc filter add dev d0 parent 1: protocol ip prio 13 handle 3 cgroup action drop")
    assert "handle 0x3 \n\taction order 1: gact action drop" in _ok(n, "tc filter show dev d0")


def test_iptables_cgroup_match_save_list_and_refusals() -> None:
    n = Network().add_node("a")
    _ok(n, "iptables -t mangle -A OUTPUT -m cgroup --cgroup 0x100001 -j MARK --set-mark 1")
    _ok(n, "iptables -t mangle -A POSTROUTING -m cgroup ! --cgroup 2 -j ACCEPT")
    save = _ok(n, "iptables-save -t mangle")
    assert "-A OUTPUT -m cgroup --cgroup 1048577 -j MARK --set-xmark 0x1/0xffffffff\n" in save
    assert "-A POSTROUTING -m cgroup ! --cgroup 2 -j ACCEPT\n" in save
    assert "cgroup ! 2" in _ok(n, "iptables -t mangle -L POSTROUTING -n")
    r = n.run("iptables -A INPUT -m cgroup --path / -j ACCEPT")
    assert r.status == 2 and "netplex: iptables -m cgroup --path is not supported" in r.error
    r = n.run("iptables -t mangle -A PREROUTING -m cgroup --cgroup 1 -j ACCEPT")   # not a valid hook
    assert r.status == 4
    r = n.run("iptables -A OUTPUT -m cgroup --cgroup abc")
    assert r.status == 2 and 'cgroup: bad value for option "--cgroup"' in r.error
    assert _ok(n, "iptables -S INPUT") == "-P INPUT ACCEPT\n"


def _classes(out: str, cid: str) -> int:
    return int(out.split(f"class htb {cid} ")[1].split(" Sent ")[1].split()[0])


def test_a_bridged_containers_packets_lose_their_socket() -> None:
    """ip_rcv_core orphans the skb: on the host's egress a forwarded packet has no socket,
    so cls_cgroup cannot classify what a process in another namespace sent."""
    net = Network(seed=3)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for line in ("ip addr add 10.0.0.1/24 dev eth0", "ip link set eth0 up", "sysctl -qw net.ipv4.ip_forward=1",
                 "ip netns add c", "ip link add v0 type veth peer name v1 netns c",
                 "ip addr add 10.9.0.1/24 dev v0", "ip link set v0 up",
                 "ip -n c addr add 10.9.0.2/24 dev v1", "ip -n c link set v1 up",
                 "ip -n c route add default via 10.9.0.1",
                 f"mkdir {CG}/x", f"echo 0x10010 > {CG}/x/net_cls.classid",
                 "tc qdisc add dev eth0 root handle 1: htb default 30",
                 "tc class add dev eth0 parent 1: classid 1:10 htb rate 1mbit",
                 "tc class add dev eth0 parent 1: classid 1:30 htb rate 1mbit",
                 "tc filter add dev eth0 parent 1: protocol ip prio 10 handle 1: cgroup"):
        _ok(a, line)
    _ok(b, "ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up")
    task = a.machine.procs.spawn(["sender"])
    a.machine.net_cls.attach("/x", task.pid)
    local = a.ns.sockets.udp_socket()
    local.sk_task = task
    inner = a.machine.netns_get("c").sockets.udp_socket()
    inner.sk_task = task
    for sk in (local, inner):
        sk.sendto(b"q" * 100, ip_to_int("10.0.0.2"), 9)
        net.run_for(10_000_000)
    out = _ok(a, "tc -s class show dev eth0")
    assert _classes(out, "1:10") == 100 + 28 + 14        # the host's own socket: its cgroup's class
    assert _classes(out, "1:30") >= 142                   # the forwarded one (and ARP): the default


def test_example_docker_net_cls() -> None:
    sc = load_scenario(ROOT / "examples" / "docker-net-cls.yaml")
    result = run_scenario(sc, SimBackend())
    assert result.passed, [(p.index, p.observed) for p in result.probes if not p.passed]
    rates = [f["wire_bps"] for f in result.probes[4].observed["flows"]]
    assert 1_800_000 <= rates[0] <= 2_100_000 and 5_500_000 <= rates[1] <= 6_200_000


def test_example_without_the_classids_shares_the_default_class() -> None:
    """The same flows with classid 0 (no net_cls class): the filter does not match, both fall to 1:30."""
    text = (ROOT / "examples" / "docker-net-cls.yaml").read_text()
    text = text.replace("echo 0x10010", "echo 0").replace("echo 0x10020", "echo 0")
    p = Path(__file__).with_name("_net_cls_zero.yaml")
    try:
        p.write_text(text)
        result = run_scenario(load_scenario(p), SimBackend())
    finally:
        p.unlink()
    rates = [f["wire_bps"] for f in result.probes[4].observed["flows"]]
    assert sum(rates) > 9_000_000          # 1:30 borrows up to its ceil, 10mbit, shared
    assert not result.probes[4].passed


@pytest.mark.linux
def test_the_twin_skips_cls_cgroup_where_the_kernel_lacks_it(differential) -> None:
    from netplex.twin.features import kernel_has

    example = ROOT / "examples" / "docker-net-cls.yaml"
    if kernel_has("cls_cgroup"):
        pytest.skip("this kernel has cls_cgroup: the example still needs the host's net_cls hierarchy, "
                    "which the twin leaves alone")
    with pytest.raises(pytest.skip.Exception, match="cls_cgroup"):
        differential.linux(example)
    pytest.skip("this kernel lacks cls_cgroup: proven in the simulator only")
