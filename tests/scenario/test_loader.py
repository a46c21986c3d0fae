"""The scenario loader: a valid file, and one exact `FILE:LINE: FIELD: message` per mistake."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex.errors import NetplexError, ScenarioError
from netplex.scenario.loader import load_scenario, load_scenario_text

DOCKER = """\
name: docker-port-mapping            # optional; defaults to the file name
description: Docker-style NAT and port mapping, as in the seed.
seed: 7

nodes:
  host:
    setup: |
      ip link add docker0 type bridge
      ip addr add 172.17.0.1/16 dev docker0

      # a comment line: skipped, but counted
      ip link set docker0 up
  web:
    setup: |
      ip addr add 172.17.0.2/16 dev eth0
    services: [tcp:80, udp:53]
  client:
    setup: ip addr add 203.0.113.20/24 dev eth0

links:
  - ends: [host:veth0, web:eth0]
  - ends: [host:eth0, client:eth0]
    rate: 1gbit
    delay: 100us
    loss: 1%
    mtu: 9000
  - ends: [host:tap0, vm1:eth0]
    kind: tap
    loss: 0.5

probes:
  - ping: {from: web, to: 203.0.113.20, count: 3}
    expect: ok
  - tcp: {from: client, to: 203.0.113.10, port: 10080}
    expect_peer: 203.0.113.20
  - udp: {from: client, to: 203.0.113.10, port: 53}
    expect: fail
  - cmd: {node: host, run: "iptables -t nat -S POSTROUTING"}
    expect_output: "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"
  - iperf:
      duration: 10s
      flows:
        - {from: host, to: 10.0.0.9, port: 5001, proto: udp, rate: 200kbit, size: 1000, expect_rate: 27kbit..33kbit}
        - {from: web, to: 10.0.0.9, port: 5002, proto: tcp, tos: 0x10}
"""
DOCKER = DOCKER.replace("  client:\n", "  vm1: {}\n  client:\n")

# A small valid file the error cases below are variations of.
BASE = """\
nodes:
  web:
    setup: |
      ip link set lo up
  client: {}
links:
  - ends: [web:eth0, client:eth0]
probes:
  - ping: {from: web, to: 10.0.0.2}
"""


def error_of(text: str, file: str = "x.yaml") -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, file)
    return str(info.value)


def test_valid_file_parses_every_part():
    s = load_scenario_text(DOCKER, "examples/docker.yaml")
    assert s.name == "docker-port-mapping" and s.seed == 7 and s.file == "examples/docker.yaml"
    assert list(s.nodes) == ["host", "web", "vm1", "client"]
    host = s.nodes["host"]
    assert [(s.line, s.file_line, s.command) for s in host.setup_lines()] == [
        (1, 8, "ip link add docker0 type bridge"),
        (2, 9, "ip addr add 172.17.0.1/16 dev docker0"),
        (5, 12, "ip link set docker0 up"),
    ]
    assert [(line.line, line.file_line) for line in s.nodes["client"].setup_lines()] == [(1, 19)]
    assert s.nodes["web"].services == [("tcp", 80), ("udp", 53)]
    assert [link.model_dump(exclude_none=True) for link in s.links] == [
        {"ends": [("host", "veth0"), ("web", "eth0")], "kind": "veth"},
        {"ends": [("host", "eth0"), ("client", "eth0")], "kind": "veth",
         "rate_bps": 1_000_000_000, "delay_ns": 100_000, "loss": 0.01, "mtu": 9000},
        {"ends": [("host", "tap0"), ("vm1", "eth0")], "kind": "tap", "loss": 0.5},
    ]
    kinds = [p.kind for p in s.probes]
    assert kinds == ["ping", "tcp", "udp", "cmd", "iperf"]
    assert s.probes[0].ping.count == 3 and s.probes[0].ping.src == "web"
    assert s.probes[1].expect == "ok" and s.probes[1].expect_peer == "203.0.113.20"
    assert s.probes[2].expect == "fail"
    iperf = s.probes[4].iperf
    assert iperf.duration_ns == 10 * 10**9
    assert iperf.flows[0].rate_bps == 200_000 and iperf.flows[0].size == 1000
    assert iperf.flows[0].expect_rate == (27_000, 33_000)
    assert iperf.flows[1].tos == 0x10 and iperf.flows[1].proto == "tcp"


def test_defaults_name_is_the_file_stem(tmp_path: Path):
    f = tmp_path / "two-hosts.yaml"
    f.write_text(BASE)
    s = load_scenario(f)
    assert s.name == "two-hosts" and s.seed == 0 and s.description is None
    assert s.probes[0].expect == "ok" and s.probes[0].ping.count == 1
    assert s.links[0].kind == "veth" and s.links[0].rate_bps is None


def test_typo_key_suggests_the_closest():
    assert error_of(BASE.replace("    setup: |", "    setpu: |")) == \
        'x.yaml:3: nodes.web.setpu: unknown field; did you mean "setup"?'
    assert error_of(BASE + "probs: []\n") == 'x.yaml:10: probs: unknown field; did you mean "probes"?'
    # a typo beside a now-missing required key: the typo is what is reported
    assert error_of(BASE + "  - cmd: {node: web, rnu: ls}\n") == \
        'x.yaml:10: probes[1].cmd.rnu: unknown field; did you mean "run"?'
    assert error_of(BASE + "zzz: 1\n") == "x.yaml:10: zzz: unknown field"


def test_bad_address_and_cidr_in_probe():
    assert error_of(BASE.replace("10.0.0.2", "10.0.0.300")) == \
        'x.yaml:9: probes[0].ping.to: invalid IPv4 address "10.0.0.300"'
    assert error_of(BASE.replace("10.0.0.2", "10.0.0.0/24")) == \
        'x.yaml:9: probes[0].ping.to: "10.0.0.0/24" is a network; an IPv4 address is expected here'
    assert error_of(BASE + "  - tcp: {from: web, to: 10.0.0.2, port: 80}\n    expect_peer: 1.2.3\n") == \
        'x.yaml:11: probes[1].expect_peer: invalid IPv4 address "1.2.3"'


def test_unknown_node_in_link_and_probe():
    text = BASE.replace("links:\n", "links:\n  - ends: [web:eth1, wbe:eth0]\n")
    assert error_of(text, "examples/x.yaml") == 'examples/x.yaml:7: links[0].ends[1]: unknown node "wbe"'
    assert error_of(BASE.replace("from: web", "from: wbe")) == \
        'x.yaml:9: probes[0].ping.from: unknown node "wbe"'
    assert error_of(BASE + "  - cmd: {node: db, run: ls}\n") == 'x.yaml:10: probes[1].cmd.node: unknown node "db"'


def test_interface_used_twice():
    text = BASE.replace("links:\n", "links:\n  - ends: [web:eth0, client:eth1]\n")
    assert error_of(text) == \
        'x.yaml:8: links[1].ends[0]: interface "eth0" of node "web" is already used by links[0]'
    assert error_of(BASE.replace("client:eth0]", "client:lo]")) == \
        'x.yaml:7: links[0].ends[1]: "lo" already exists on node "client"'


def test_link_shape():
    assert error_of(BASE.replace("client:eth0]", "client:eth0, web:eth1]")) == \
        "x.yaml:7: links[0].ends: a link has exactly two ends, not 3"
    assert error_of(BASE.replace("client:eth0]", "client-eth0]")) == \
        'x.yaml:7: links[0].ends[1]: invalid link end "client-eth0": write NODE:IFNAME'
    assert error_of(BASE.replace("client:eth0]", "client:abcdefghijklmnop]")) == \
        'x.yaml:7: links[0].ends[1]: invalid interface name "abcdefghijklmnop": 1 to 15 characters, no "/", ":" or spaces'
    assert error_of(BASE.replace("client:eth0]", "client:eth0]\n    kind: vet")) == \
        'x.yaml:8: links[0].kind: must be "veth" or "tap", not "vet"'


def test_bad_units():
    assert error_of(BASE.replace("client:eth0]", "client:eth0]\n    rate: 10 mbitz")) == \
        'x.yaml:8: links[0].rate: invalid rate "10 mbitz": unknown unit "mbitz"'
    assert error_of(BASE.replace("client:eth0]", "client:eth0]\n    delay: fast")) == \
        'x.yaml:8: links[0].delay: invalid time "fast"'
    assert error_of(BASE.replace("client:eth0]", "client:eth0]\n    loss: 200%")) == \
        'x.yaml:8: links[0].loss: loss "200%" is not between 0% and 100%'
    assert error_of(BASE.replace("client:eth0]", "client:eth0]\n    mtu: big")) == \
        'x.yaml:8: links[0].mtu: must be a whole number, not "big"'


def test_yaml_syntax_error():
    assert error_of(BASE.replace("  client: {}", "  client: {\n")) == \
        "x.yaml:8: yaml: expected the node content, but found '-'"
    assert error_of("nodes:\n  a: {}\n\tb: {}\n") == \
        "x.yaml:3: yaml: found character '\\t' that cannot start any token"
    assert error_of("") == "x.yaml:1: scenario: expected a mapping with nodes, links and probes"


def test_duplicate_key():
    assert error_of(BASE.replace("  client: {}", "  client: {}\n  web: {}")) == "x.yaml:6: nodes.web: duplicate key"


def test_node_names_and_services():
    assert error_of(BASE.replace("  client: {}", "  Client: {}")) == \
        'x.yaml:5: nodes.Client: invalid node name "Client": use [a-z][a-z0-9-]*, at most 12 characters'
    assert error_of(BASE.replace("  client: {}", "  abcdefghijklm: {}")).startswith(
        'x.yaml:5: nodes.abcdefghijklm: invalid node name')
    assert error_of(BASE.replace("  client: {}", "  client: {services: [tcp:0]}")) == \
        'x.yaml:5: nodes.client.services[0]: invalid service "tcp:0": write tcp:PORT or udp:PORT, PORT 1..65535'
    assert error_of(BASE.replace("  client: {}", "  client: {services: [tcp:80, tcp:80]}")) == \
        'x.yaml:5: nodes.client.services: service "tcp:80" is listed twice'
    assert error_of("nodes: {}\n") == "x.yaml:1: nodes: must have at least 1 entry"
    assert error_of(BASE.replace("setup: |", "setup: >")) == \
        "x.yaml:3: nodes.web.setup: use a literal block (`setup: |`) so each command stays on its own line"


def test_probe_shape():
    assert error_of(BASE + "  - expect: ok\n") == \
        "x.yaml:10: probes[1]: a probe has exactly one of ping, tcp, udp, cmd, iperf, attach (found none)"
    assert error_of(BASE + "  - ping: {from: web, to: 1.2.3.4}\n    tcp: {from: web, to: 1.2.3.4, port: 1}\n") == \
        "x.yaml:10: probes[1]: a probe has exactly one of ping, tcp, udp, cmd, iperf, attach (found ping, tcp)"
    assert error_of(BASE + "  - ping: {from: web}\n") == "x.yaml:10: probes[1].ping.to: required field is missing"
    assert error_of(BASE + "  - ping: {from: web, to: 1.2.3.4, count: 0}\n") == \
        "x.yaml:10: probes[1].ping.count: must be greater than or equal to 1, not 0"
    assert error_of(BASE + "  - tcp: {from: web, to: 1.2.3.4, port: 70000}\n") == \
        "x.yaml:10: probes[1].tcp.port: must be less than or equal to 65535, not 70000"
    assert error_of(BASE + "  - tcp: {from: web, to: 1.2.3.4, port: 7}\n    expect: okay\n") == \
        'x.yaml:11: probes[1].expect: must be "ok" or "fail", not "okay"'
    assert error_of(BASE + "    expect_peer: 1.2.3.4\n") == \
        "x.yaml:9: probes[0]: expect_peer applies to tcp and udp probes, not ping"
    assert error_of(BASE + "    expect_output: hi\n") == \
        "x.yaml:9: probes[0]: expect_output applies to cmd probes, not ping"
    assert error_of(BASE + "  - iperf: {duration: 1s, flows: [{from: web, to: 1.2.3.4, port: 5, protp: udp}]}\n") == \
        'x.yaml:10: probes[1].iperf.flows[0].protp: unknown field; did you mean "proto"?'


def test_missing_file(tmp_path: Path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: No such file or directory"


def test_error_carries_its_parts():
    with pytest.raises(NetplexError) as info:
        load_scenario_text(BASE.replace("from: web", "from: wbe"), "f.yaml")
    e = info.value
    assert isinstance(e, ScenarioError) and e.errno == 22
    assert e.to_json() == {"file": "f.yaml", "file_line": 9, "field": "probes[0].ping.from",
                           "message": 'unknown node "wbe"'}
