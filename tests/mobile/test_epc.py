"""The 4G EPC as a user meets it: scenario files, the attach probe, `netplex trace --attach`,
the show commands, captures read by tshark, and broken input."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401  (registers the mobile node kinds)
from netplex.errors import ScenarioError
from netplex.mobile.gateways import Pgw, Sgw
from netplex.mobile.mme import Mme
from netplex.packet.addr import ip_to_int
from netplex.packet.gtpv2c import CAUSE, GTPV2C_PORT, IE, Gtpv2, Ie, fteid, tbcd
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.model import Probe
from netplex.scenario.runner import prepare, run_probe, run_scenario
from netplex.scenario.sim import SimBackend
from tests.mobile.conftest import fuzz

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "mobile").glob("*.yaml"))
ATTACH = ROOT / "examples" / "mobile" / "lte-attach.yaml"


def run(path: Path, seed: int = 0, pcap_dir: Path | None = None):
    return run_scenario(load_scenario(path), SimBackend(seed=seed, pcap_dir=pcap_dir))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_passes(path: Path) -> None:
    result = run(path)
    assert result.error is None, result.error
    assert result.passed, [p.to_json() for p in result.probes if not p.passed]


def test_mobile_examples_are_the_issues() -> None:
    assert {p.stem for p in EXAMPLES} >= {"lte-attach", "lte-attach-wrong-key", "lte-roaming-barcelona",
                                          "gprs-pdp-context", "generations", "lte-pcrf-block"}


def prepared(path: Path = ATTACH, seed: int = 0) -> SimBackend:
    be = SimBackend(seed=seed)
    assert prepare(load_scenario(path), be) is None
    return be


def probe(be: SimBackend, spec: dict):
    return run_probe(Probe.model_validate(spec), 0, be)


def test_attach_allocates_eight_teids_where_the_seed_says() -> None:
    be = prepared()
    r = probe(be, {"attach": {"ue": "ue1"}})
    assert r.passed and r.observed["ip"] == "10.45.0.2"
    teids = r.observed["teids"]
    assert sorted(teids) == [f"t{i}" for i in range(1, 9)]
    assert len({int(v, 16) for v in teids.values()} - {0}) == 8
    by = r.observed["allocated_by"]
    assert by["t1"] == "mme1 (S11 MME GTP-C)" and by["t8"] == "enb1 (S1-U eNodeB GTP-U)"
    assert [by[f"t{i}"].split()[0] for i in range(1, 9)] == ["mme1", "sgw1", "sgw1", "pgw1", "pgw1", "sgw1", "sgw1", "enb1"]
    # the same TEIDs as each node holds them
    mme = be.node("mme1").daemon
    sgw = be.node("sgw1").daemon
    pgw = be.node("pgw1").daemon
    assert isinstance(mme, Mme) and isinstance(sgw, Sgw) and isinstance(pgw, Pgw)
    ctx, s, b = mme.by_imsi("001010000000001"), sgw.by_imsi("001010000000001"), pgw.bearers[0]
    assert ctx is not None and s is not None
    assert (s.t1, s.t6, s.t7, s.t8) == (ctx.t1, ctx.t6, ctx.t7, ctx.t8)
    assert (b.t2, b.t3, b.t4, b.t5) == (s.t2, s.t3, s.t4, s.t5)
    assert ctx.t1 == int(teids["t1"], 16) and b.t5 == int(teids["t5"], 16)
    # the UE's address and default route, as a modem's driver sets them
    ue = be.node("ue1")
    assert "inet 10.45.0.2/32 scope global eth0" in ue.cmd("ip -4 addr show dev eth0")
    assert ue.cmd("ip route").splitlines() == ["default dev eth0 scope link "]   # iproute2 prints the space
    again = probe(be, {"attach": {"ue": "ue1"}})
    assert not again.ok and again.observed["error"] == "ue1 is attached already"


def test_user_plane_crosses_the_tunnels_and_the_gate() -> None:
    be = prepared()
    assert probe(be, {"attach": {"ue": "ue1"}}).passed
    assert probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8", "count": 3}}).observed["replies"] == 3
    blocked = probe(be, {"tcp": {"from": "ue1", "to": "157.240.1.35", "port": 443}, "expect": "fail"})
    assert blocked.passed and blocked.observed["error"] == "timed out"
    sgw, pgw = be.node("sgw1").daemon, be.node("pgw1").daemon
    assert isinstance(sgw, Sgw) and isinstance(pgw, Pgw)
    s, b = sgw.sessions[0], pgw.bearers[0]
    assert s.up >= 3 and s.down == 3 and b.up == 3 and b.down == 3 and b.gated >= 1   # the SGW relays what the PGW gates
    # the PGW's SGi side, as an Open5GS operator sets up its ogstun
    pgw_node = be.node("pgw1")
    assert "-A POSTROUTING -s 10.45.0.0/16 ! -o ogstun -j MASQUERADE" in pgw_node.cmd("iptables -t nat -S POSTROUTING")
    assert "10.45.0.0/16 dev ogstun proto kernel scope link src 10.45.0.1" in pgw_node.cmd("ip route")
    # a TUN device the PGW daemon holds: what it wrote (uplink) came in on it, what the kernel routed to the
    # pool went out through it to the daemon; a gated packet never reaches the kernel
    assert "tun type tun pi off vnet_hdr off persist on" in pgw_node.cmd("ip -d link show ogstun")
    stats = pgw_node.cmd("ip -s link show ogstun").splitlines()
    assert stats[3].split()[1] == stats[5].split()[1] == "3", stats
    assert pgw_node.cmd("ip tuntap show") == "ogstun: tun persist\n"
    # the daemon's exit closes its fd: the persistent device stays, without carrier (__tun_detach)
    pgw_node.cmd("kill $(pidof pgw)")
    assert "<NO-CARRIER,POINTOPOINT,MULTICAST,NOARP,UP> mtu 1500 qdisc pfifo_fast state DOWN" in \
        pgw_node.cmd("ip link show ogstun")


def test_without_an_attach_nothing_gets_through() -> None:
    be = prepared()
    r = probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8"}, "expect": "fail"})
    assert r.passed


def test_show_commands() -> None:
    be = prepared()
    probe(be, {"attach": {"ue": "ue1"}})
    out = be.run("mme1", "mme show ue")
    assert out.status == 0 and out.output.splitlines()[0].split()[:4] == ["IMSI", "MME-UE-ID", "ENB-UE-ID", "STATE"]
    assert "ATTACHED" in out.output and "10.45.0.2" in out.output
    assert "001010000000001" in be.run("sgw1", "sgw show sessions").output
    assert "deny 157.240.0.0/16" in be.run("pgw1", "pgw show bearers").output
    sub = be.run("hss1", "hss show subscriber 001010000000001")
    assert sub.status == 0 and "MME:          mme1" in sub.output
    assert be.run("hss1", "hss show subscriber 999").error == "hss: no subscriber 999\n"
    bad = be.run("mme1", "mme show")
    assert (bad.status, bad.error) == (2, "Usage: mme show ue\n       mme detach IMSI\n")
    none = be.run("sgw1", "mme show ue")
    assert (none.status, none.error) == (1, "mme: no MME daemon runs on this node\n")
    assert "mme" in be.run("mme1", "ps -e").output


def test_killing_the_sgw_makes_the_attach_time_out() -> None:
    be = prepared()
    assert be.run("sgw1", "kill $(pidof sgw)").status == 0
    r = probe(be, {"attach": {"ue": "ue1"}, "expect": "fail"})
    assert r.passed and "T3410" in r.observed["error"]


def test_unknown_subscriber_is_rejected_with_cause_8() -> None:
    text = ATTACH.read_text().replace('imsi: "001010000000001", key: "465b5ce8b199b49faa5f0a2ee238a6bc",\n          opc',
                                      'imsi: "001010000000777", key: "465b5ce8b199b49faa5f0a2ee238a6bc",\n          opc')
    be = SimBackend()
    assert prepare(load_scenario_text(text, str(ATTACH)), be) is None
    r = probe(be, {"attach": {"ue": "ue1"}, "expect": "fail"})
    assert r.observed["error"] == "Attach Reject: EMM cause #8 (EPS services and non-EPS services not allowed)"


def test_same_seed_same_teids_other_seed_other_teids() -> None:
    a = run(ATTACH, seed=1).to_json()
    b = run(ATTACH, seed=1).to_json()
    c = run(ATTACH, seed=2).to_json()
    assert a == b
    assert a["probes"][0]["observed"]["teids"] != c["probes"][0]["observed"]["teids"]


def test_malformed_gtpv2_never_crashes_a_gateway() -> None:
    """Fuzzed GTPv2-C at the SGW and the PGW: each is answered with its cause or dropped; both keep
    running and the attach works afterwards."""
    be = prepared()
    valid = Gtpv2(32, 99, 0, [Ie(IE["IMSI"], tbcd("001010000000009")), fteid("S11 MME GTP-C", 0x1111, "10.0.0.2")]).encode()

    def cause_of(answer: bytes) -> int | None:
        ie = Gtpv2.decode(answer).find("Cause")
        return None if ie is None else ie.octets[0]

    causes = fuzz(be, "mme1", valid, 7, [ip_to_int("10.0.0.4"), ip_to_int("10.0.0.5")], GTPV2C_PORT, cause_of)
    assert causes <= {CAUSE[c] for c in ("Invalid length", "Mandatory IE missing", "Mandatory IE incorrect",
                                         "Invalid Message Format", "Context Not Found", "Request accepted")}
    assert CAUSE["Mandatory IE missing"] in causes
    assert be.node("sgw1").daemon.alive and be.node("pgw1").daemon.alive
    assert probe(be, {"attach": {"ue": "ue1"}}).passed


def test_trace_attach_prints_the_ten_steps() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "netplex.cli", "trace", str(ATTACH), "--attach", "ue1"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    steps = [int(line.split("[", 1)[1].split("]")[0]) for line in lines if "] " in line]
    assert sorted(set(steps)) == list(range(1, 11)) and steps == sorted(steps)
    text = proc.stdout
    for iface in ("Uu", "S1-MME", "S6a", "S11", "S5/S8", "Gx"):
        assert f"] {iface} " in text
    for t, who in (("t1", "MME"), ("t2", "SGW"), ("t3", "SGW"), ("t4", "PGW"), ("t5", "PGW"), ("t6", "SGW"),
                   ("t7", "SGW"), ("t8", "eNodeB")):
        assert f"{who} allocated" in text and f"{t}=0x" in text
    assert lines[-1] == "result: attached, ue1 has 10.45.0.2"
    bad = subprocess.run([sys.executable, "-m", "netplex.cli", "trace", str(ATTACH), "--attach", "enb1"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and 'no node "enb1" of kind ue or ms' in bad.stderr


@pytest.mark.tools("tshark")
def test_tshark_decodes_an_attach_capture(tmp_path: Path) -> None:
    result = run(ATTACH, pcap_dir=tmp_path)
    assert result.passed
    teids = result.probes[0].observed["teids"]
    rows = subprocess.run(
        ["tshark", "-r", str(tmp_path / "sgw1-eth0.pcap"), "-o", "udp.check_checksum:TRUE", "-o",
         "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-e", "frame.protocols", "-e",
         "_ws.expert.message", "-e", "gtpv2.message_type", "-e", "gtpv2.f_teid_gre_key", "-e", "gtp.teid"],
        capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    cells = [r.split("|") for r in rows]
    assert not [c for c in cells if "alformed" in c[1] or "Bad" in c[1] or "checksum" in c[1].lower()]
    gtpv2 = [c for c in cells if c[0].endswith("gtpv2")]
    assert [int(c[2]) for c in gtpv2] == [32, 32, 33, 33, 34, 35]   # S11 and S5/S8, then step 10
    fteids = {int(v, 16) for c in gtpv2 for v in c[3].split(",") if v}
    assert {int(teids[t], 16) for t in ("t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8")} <= fteids
    gpdu_teids = {int(c[4], 16) for c in cells if ":gtp:ip:" in c[0]}
    assert gpdu_teids == {int(teids[t], 16) for t in ("t3", "t5", "t7", "t8")}
    assert any(c[0] == "eth:ethertype:ip:udp:gtp:ip:icmp:data" for c in cells)


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(text, "x.yaml")
    return str(e.value)


BASE = """nodes:
  ue1: {kind: ue, imsi: "001010000000001", key: 465b5ce8b199b49faa5f0a2ee238a6bc, opc: cd63cb71954a9f4e48a5994e37a02baf}
  enb1: {kind: enodeb, mme: mme1}
  mme1: {kind: mme, hss: hss1}
  hss1: {kind: hss}
  sgw1: {kind: sgw}
"""


@pytest.mark.parametrize("edit,message", [
    (("001010000000001", "0010100000000x1"), 'x.yaml:2: nodes.ue1.imsi: invalid IMSI "0010100000000x1": 6 to 15 digits'),
    (('imsi: "001010000000001"', "imsi: 1010000000001"),
     'x.yaml:2: nodes.ue1.imsi: write the IMSI in quotes ("1010000000001"): a number loses its leading zeros'),
    (("key: 465b", "key: 465"), 'x.yaml:2: nodes.ue1.key: invalid value "4655ce8b199b49faa5f0a2ee238a6bc": '
                                "128 bits as 32 hex digits"),
    (("{kind: enodeb, mme: mme1}", "{kind: enodeb, mme: sgw1}"),
     'x.yaml:3: nodes.enb1.mme: node "sgw1" is of kind sgw, not mme'),
    (("{kind: enodeb, mme: mme1}", "{kind: enodeb, mme: mme9}"), 'x.yaml:3: nodes.enb1.mme: unknown node "mme9"'),
    (("{kind: enodeb, mme: mme1}", "{kind: enodeb}"), "x.yaml:3: nodes.enb1.mme: required field is missing"),
    (("{kind: sgw}", "{kind: sgw, pool: 10.0.0.0/8}"), "x.yaml:6: nodes.sgw1.pool: unknown field"),
    (("{kind: sgw}", "{kind: msc, trunks: 4}"), "x.yaml:6: nodes.sgw1.trunks: unknown field"),   # CS: in the picture only
])
def test_bad_keys_name_file_line_field(edit: tuple[str, str], message: str) -> None:
    assert error_of(BASE.replace(*edit)) == message


def test_references_checked_across_the_file() -> None:
    two = BASE + "  sgw2: {kind: sgw}\n"
    assert error_of(two) == ("x.yaml:4: nodes.mme1.sgw: required: say which node of kind sgw "
                             "(the scenario has 2: sgw1, sgw2)")
    hss = BASE.replace("{kind: hss}", '{kind: hss, subscribers: [{imsi: "1234567", key: 465b5ce8b199b49faa5f0a2ee238a6bc, '
                                      "opc: cd63cb71954a9f4e48a5994e37a02baf}]}")
    assert error_of(hss) == ("x.yaml:5: nodes.hss1.subscribers[0].pgw: required: say which node of kind pgw "
                             "(the scenario has none)")
    probe_bad = BASE + "probes:\n  - attach: {ue: enb1}\n"
    assert error_of(probe_bad) == ('x.yaml:8: probes[0].attach.ue: node "enb1" is of kind enodeb; '
                                   "attach takes a node of kind ue or ms")
    linux_typo = BASE + "  h1: {setpu: x}\n"
    assert error_of(linux_typo).startswith("x.yaml:7: nodes.h1.setpu: unknown field")


def test_the_pgw_polices_the_apn_ambr() -> None:
    """TS 23.401 §4.7.3: the subscriber's APN-AMBR (ULA -> Create Session Request AMBR IE) at the PGW."""
    text = ATTACH.read_text().replace("apn: internet, ambr_dl_kbps: 100000}", "apn: internet, ambr_ul_kbps: 1000}")
    be = SimBackend()
    assert prepare(load_scenario_text(text, str(ATTACH)), be) is None
    assert probe(be, {"attach": {"ue": "ue1"}}).passed
    r = probe(be, {"iperf": {"duration": "4s", "flows": [
        {"from": "ue1", "to": "198.51.100.2", "port": 5001, "proto": "udp", "rate": "4mbit", "size": 1000}]}})
    flow = r.observed["flows"][0]
    assert 850_000 <= flow["goodput_bps"] <= 1_050_000, flow
    pgw = be.node("pgw1").daemon
    assert isinstance(pgw, Pgw) and pgw.bearers[0].policed > 1000
    assert "1000/100000" in be.run("pgw1", "pgw show bearers").output


def test_a_mistyped_kind_key_gets_a_suggestion() -> None:
    assert error_of(BASE.replace("imsi:", "imis:")) == 'x.yaml:2: nodes.ue1.imis: unknown field; did you mean "imsi"?'
    hss = BASE.replace("{kind: hss}", '{kind: hss, subscribers: [{imsi: "1234567", kye: x}]}')
    assert error_of(hss) == 'x.yaml:5: nodes.hss1.subscribers[0].kye: unknown field; did you mean "key"?'


def test_mme_detach_deletes_the_session_and_the_tunnels() -> None:
    """`mme detach IMSI` (TS 23.401 §5.3.8.3): the PGW's bearer and the SGW's session go, the UE
    loses its bearer (ping fails), and it can attach again with fresh TEIDs."""
    be = prepared()
    first = probe(be, {"attach": {"ue": "ue1"}})
    assert first.passed
    assert probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8"}}).passed
    r = probe(be, {"cmd": {"node": "mme1", "run": "mme detach 001010000000001"}})
    assert r.passed, r.to_json()
    be.net.run_for(1_000_000_000)
    mme, sgw, pgw = (be.net.nodes[n].daemon for n in ("mme1", "sgw1", "pgw1"))   # type: ignore[attr-defined]
    assert isinstance(mme, Mme) and isinstance(sgw, Sgw) and isinstance(pgw, Pgw)
    ctx = mme.by_imsi("001010000000001")
    assert ctx is not None and ctx.state == "DEREGISTERED" and ctx.cause is None
    assert sgw.by_imsi("001010000000001") is None and not pgw.bearers
    enb = be.net.nodes["enb1"].daemon   # type: ignore[attr-defined]
    assert not enb.ues and not enb.by_teid   # UEContextReleaseCommand released the radio and t8
    assert "DEREGISTERED" in probe(be, {"cmd": {"node": "mme1", "run": "mme show ue"}}).observed["output"]
    assert not probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8"}}).passed
    again = probe(be, {"attach": {"ue": "ue1"}})
    assert again.passed, again.to_json()
    assert again.observed["teids"]["t1"] != first.observed["teids"]["t1"]
    assert probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8"}}).passed


def test_mme_detach_refuses_what_it_cannot_do() -> None:
    be = prepared()
    r = probe(be, {"cmd": {"node": "mme1", "run": "mme detach 001010000000001"}})   # not attached yet
    assert not r.passed
    assert r.observed["error"] == "mme: no attached UE with IMSI 001010000000001" and r.observed["exit"] == 1
    r = probe(be, {"cmd": {"node": "mme1", "run": "mme detach"}})
    assert r.observed["exit"] == 2 and "mme detach IMSI" in r.observed["error"]


@pytest.mark.tools("tshark")
def test_tshark_decodes_a_detach_capture(tmp_path: Path) -> None:
    """The detach's GTPv2-C on the SGW's wire: Delete Session Request/Response on S11 (to t6, answered
    to t1) and on S5/S8 (to t4, answered to t2), read by tshark with no expert warning."""
    be = SimBackend(seed=0, pcap_dir=tmp_path)
    assert prepare(load_scenario(ATTACH), be) is None
    teids = probe(be, {"attach": {"ue": "ue1"}}).observed["teids"]
    assert probe(be, {"cmd": {"node": "mme1", "run": "mme detach 001010000000001"}}).passed
    be.net.run_for(1_000_000_000)
    be.net.stop_pcap()
    rows = subprocess.run(
        ["tshark", "-r", str(tmp_path / "sgw1-eth0.pcap"), "-Y", "gtpv2.message_type >= 36", "-T", "fields",
         "-E", "separator=|", "-e", "_ws.expert.message", "-e", "gtpv2.message_type", "-e", "gtpv2.teid",
         "-e", "gtpv2.cause"], capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    cells = [r.split("|") for r in rows]
    assert not [c for c in cells if c[0]], cells
    assert [(int(c[1]), int(c[2], 16)) for c in cells] == [
        (36, int(teids["t6"], 16)), (37, int(teids["t1"], 16)),
        (36, int(teids["t4"], 16)), (37, int(teids["t2"], 16))]
    assert [c[3] for c in cells if c[1] == "37"] == ["16", "16"]   # Request accepted
