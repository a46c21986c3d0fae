"""The X2-based handover (TS 23.401 §5.5.1.1.2, TS 36.423, TS 36.413 Path Switch) and tracking areas
(TS 23.401 §5.3.3, TS 24.301 §5.5.3), through the scenario and the commands a user types.

The oracles: tshark's `x2ap`, `s1ap`, `nas-eps` and `gtp` dissectors on the eNodeBs' captures (no
expert warning, every SCTP checksum verified), the TEIDs the show commands print, and the packets
an iperf stream and a ping lose (none)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401  (registers the kinds)
from netplex.errors import ScenarioError
from netplex.packet.nas_eps import Nas
from netplex.packet.x2ap import X2ap, X2apError, handover_command, handover_preparation_information
from netplex.scenario.loader import load_scenario
from netplex.scenario.model import Probe
from netplex.scenario.runner import prepare, run_probe
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
HANDOVER = ROOT / "examples" / "mobile" / "lte-x2-handover.yaml"
needs_tshark = pytest.mark.tools("tshark")


def probe(be: SimBackend, spec: dict):
    return run_probe(Probe.model_validate(spec), 0, be)


def prepared(path: Path = HANDOVER, pcap_dir: Path | None = None) -> SimBackend:
    be = SimBackend(seed=0, pcap_dir=pcap_dir)
    sc = load_scenario(path)
    assert prepare(sc, be) is None
    return be


def column(table: str, row: str, name: str) -> str:
    lines = table.splitlines()
    head = lines[0].split()
    line = next(x for x in lines[1:] if x.split()[0] == row)
    return line.split()[head.index(name)]


def test_x2ap_messages_roundtrip_and_refuse_garbage() -> None:
    cgi = {"PLMN": "00101", "cell-ID": 0x701}
    msg = X2ap("HandoverRequestAcknowledge", {
        "Old-eNB-UE-X2AP-ID": 1, "New-eNB-UE-X2AP-ID": 4095,
        "E-RABs-Admitted-List": [{"E-RAB-ID": 5, "dL-GTP-TunnelEndpoint": {
            "transportLayerAddress": "10.0.0.7", "GTP-TEID": 0xDEADBEEF}}],
        "TargeteNBtoSource-eNBTransparentContainer": handover_command()})
    assert X2ap.decode(msg.encode()) == msg
    setup = X2ap("X2SetupRequest", {"GlobalENB-ID": {"PLMN": "00101", "eNB-ID": 7}, "ServedCells": [{
        "pCI": 503, "cellId": cgi, "tAC": 65533, "broadcastPLMNs": ["00101"],
        "fDD": {"uL-EARFCN": 19850, "dL-EARFCN": 1850, "uL-Transmission-Bandwidth": "bw100",
                "dL-Transmission-Bandwidth": "bw6"}}]})
    assert X2ap.decode(setup.encode()) == setup
    # TS 36.331's unaligned containers: the smallest HandoverPreparationInformation and HandoverCommand
    assert handover_preparation_information() == b"\x00\x00"
    assert handover_command() == bytes.fromhex("0019000000")   # r8, a 3-octet DL-DCCH RRCConnectionReconfiguration
    data = msg.encode()
    for cut in range(len(data)):
        with pytest.raises(X2apError):
            X2ap.decode(data[:cut])
    with pytest.raises(X2apError):                # one past UE-X2AP-ID's range
        X2ap("UEContextRelease", {"Old-eNB-UE-X2AP-ID": 4096, "New-eNB-UE-X2AP-ID": 1}).encode()


def test_tracking_area_update_messages() -> None:
    """TS 24.301 §8.2.26/§8.2.29 with the octets a UE and an MME exchange."""
    guti = {"PLMN": "00101", "MME group ID": 1, "MME code": 1, "M-TMSI": "0x00000001"}
    req = Nas("Tracking Area Update Request", {"EPS update type": "periodic updating", "Active flag": False,
                                               "NAS key set identifier": 0, "Old GUTI": guti,
                                               "Last visited registered TAI": {"PLMN": "00101", "TAC": 1}})
    assert req.encode().hex() == "0748030bf600f110000101000000015200f1100001"
    acc = Nas("Tracking Area Update Accept", {"EPS update result": "TA updated", "T3412 value": 12,
                                              "TAI list": [{"PLMN": "00101", "TAC": 2}]})
    assert acc.encode().hex() == "0749005a06540600" "00f1100002"
    assert Nas.decode(req.encode()) == req and Nas.decode(acc.encode()) == acc


def test_x2_handover_loses_nothing() -> None:
    """The example: a 500-datagram-a-second stream from the PGW and a ping across the handover lose
    nothing; the packets in flight on the old path were forwarded by enb1 to enb2; the SGW's session
    holds enb2's t8 and sent one End Marker; the UE updated its tracking area (TA 2 is outside the TAI
    list of its attach)."""
    be = prepared()
    r = probe(be, {"attach": {"ue": "ue1"}})
    old_t8 = r.observed["teids"]["t8"]
    assert r.passed and r.observed["enodeb"] == "enb1"
    assert be.run("enb1", "enodeb handover ue1 enb9").error == "enb: no X2 with enb9\n"
    assert be.run("enb2", "enodeb handover ue1 enb1").error == "enb: ue1 has no bearer at enb2\n"
    be.net.sched.after(1_500_000_000, lambda: be.run("enb1", "enodeb handover ue1 enb2"))
    stream = probe(be, {"iperf": {"duration": "3s", "flows": [
        {"from": "pgw1", "to": "10.45.0.2", "port": 5001, "proto": "udp", "rate": "400kbit", "size": 100}]}})
    flow = stream.observed["flows"][0]
    assert (flow["sent"], flow["received"], flow["lost"]) == (1500, 1500, 0)
    target = be.run("enb2", "enodeb show ue").output
    assert int(column(target, "ue1", "FORWARDED")) > 0          # in flight on the old path: forwarded over X2-U
    assert be.run("enb1", "enodeb show ue").output.count("\n") == 1   # the source released the UE
    sessions = be.run("sgw1", "sgw show sessions").output
    new_t8 = column(sessions, "001010000000001", "t8(ENB-S1U)")
    assert new_t8 == column(target, "ue1", "t8(ENB-S1U)") != old_t8
    assert be.net.nodes["sgw1"].daemon.by_imsi("001010000000001").end_markers == 1
    ue = be.run("mme1", "mme show ue").output
    assert [column(ue, "001010000000001", c) for c in ("STATE", "ENB", "TAI", "TAI-LIST", "t8(ENB-S1U)")] == [
        "ATTACHED", "enb2", "00101-2", "00101-2", new_t8]
    assert "inet 10.45.0.2/32" in be.run("ue1", "ip -4 addr show dev eth1").output
    assert be.run("ue1", "ip route").output == "default dev eth1 scope link \n"
    # and back, during a ping (enb2 knows enb1 from the X2 Setup enb1 started): five of five answered
    be.net.sched.after(2_020_000_000, lambda: be.run("enb2", "enodeb handover ue1 enb1"))
    ping = probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8", "count": 5}}).observed
    assert (ping["sent"], ping["replies"]) == (5, 5)
    assert column(be.run("enb1", "enodeb show ue").output, "ue1", "FORWARDED") == "1"   # the third echo reply
    ue = be.run("mme1", "mme show ue").output
    assert [column(ue, "001010000000001", c) for c in ("ENB", "TAI", "TAI-LIST")] == ["enb1", "00101-1", "00101-1"]
    assert be.run("ue1", "ip route").output == "default dev eth0 scope link \n"


@needs_tshark
def test_tshark_decodes_x2ap_s1ap_and_the_end_markers(tmp_path: Path) -> None:
    """On enb1's and enb2's wires: X2 Setup, Handover Request / Acknowledge (with the RRC containers),
    SN Status Transfer, UE Context Release; S1AP Path Switch Request / Acknowledge with the target's t8;
    the SGW's End Marker to enb1 on the old t8, and enb1's to enb2 on the forwarding TEID — no expert
    warning, every SCTP checksum good."""
    be = prepared(pcap_dir=tmp_path)
    t8 = probe(be, {"attach": {"ue": "ue1"}}).observed["teids"]["t8"]
    be.net.sched.after(300_000_000, lambda: be.run("enb1", "enodeb handover ue1 enb2"))
    probe(be, {"iperf": {"duration": "1s", "flows": [
        {"from": "pgw1", "to": "10.45.0.2", "port": 5001, "proto": "udp", "rate": "400kbit", "size": 100}]}})
    be.net.stop_pcap()
    fields = ["frame.protocols", "_ws.expert.message", "sctp.checksum.status", "x2ap.procedureCode",
              "s1ap.procedureCode", "gtp.message", "gtp.teid", "ip.src", "ip.dst", "s1ap.gTP_TEID", "x2ap.gTP_TEID"]
    rows = {}
    for node in ("enb1", "enb2"):
        out = subprocess.run(["tshark", "-r", str(tmp_path / f"{node}-eth0.pcap"), "-o", "sctp.checksum:CRC-32C",
                              "-Y", "sctp or gtp.message == 254", "-T", "fields", "-E", "separator=|",
                              *(x for f in fields for x in ("-e", f))],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        rows[node] = [dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines()]
        assert not [r for r in rows[node] if r["_ws.expert.message"]], rows[node]
        assert {r["sctp.checksum.status"] for r in rows[node] if r["frame.protocols"].endswith(("sctp", "x2ap", "s1ap", "nas-eps"))} == {"1"}
    x2 = [int(r["x2ap.procedureCode"]) for r in rows["enb2"] if r["x2ap.procedureCode"]]
    assert x2 == [6, 6, 0, 0, 4, 5]          # X2 Setup, Handover Request/Ack, SN Status Transfer, UE Context Release
    s1 = [(int(r["s1ap.procedureCode"]), r["s1ap.gTP_TEID"]) for r in rows["enb2"] if r["s1ap.procedureCode"] == "3"]
    sessions = be.run("sgw1", "sgw show sessions").output
    new_t8 = column(sessions, "001010000000001", "t8(ENB-S1U)")
    assert [c for c, _ in s1] == [3, 3] and int(s1[0][1], 16) == int(new_t8, 16)
    markers = [(r["ip.src"], r["ip.dst"], int(r["gtp.teid"], 16)) for r in rows["enb1"] if r["gtp.message"] == "0xfe"]
    fwd = next(int(r["x2ap.gTP_TEID"], 16) for r in rows["enb2"] if r["x2ap.procedureCode"] == "0" and r["x2ap.gTP_TEID"]
               and r["ip.src"] == "10.0.0.7")
    assert markers == [("10.0.0.4", "10.0.0.1", int(t8, 16)), ("10.0.0.1", "10.0.0.7", fwd)]


IDLE = HANDOVER.read_text().replace("    tac: 2\n", "    tac: 2\n    inactivity: 2\n").replace(
    "    hss: hss1\n", "    hss: hss1\n    t3412: 12\n", 1)


def test_paging_goes_to_the_tracking_area_and_t3412_updates_it(tmp_path: Path) -> None:
    """After the handover the UE's TAI list is TA 2: when it idles at enb2, a packet for it is paged at
    enb2 only (enb1's TA is not in the list); idle again, T3412 (12 s here) brings a periodic TAU,
    answered and followed by a release to ECM-IDLE."""
    path = tmp_path / "idle.yaml"
    path.write_text(IDLE)
    be = prepared(path)
    assert probe(be, {"attach": {"ue": "ue1"}}).passed
    assert be.run("enb1", "enodeb handover ue1 enb2").status == 0
    be.net.run_for(6_000_000_000)                # the handover, then enb2's 2 s inactivity timer (two periods)
    mme = be.net.nodes["mme1"].daemon
    assert column(be.run("mme1", "mme show ue").output, "001010000000001", "STATE") == "IDLE"
    assert probe(be, {"ping": {"from": "pgw1", "to": "10.45.0.2", "count": 2}}).observed["replies"] == 2
    assert mme.counters.get("paging_sent") == 1  # enb2 only
    modem = be.net.nodes["ue1"].modem
    taus = modem.taus
    be.net.run_for(4_000_000_000 + 12_000_000_000 + 1_000_000_000)
    assert modem.taus == taus + 1 and mme.counters.get("tau_periodic") == 1
    assert modem.ecm == "ECM-IDLE" and column(be.run("mme1", "mme show ue").output, "001010000000001", "STATE") == "IDLE"


def test_bad_mobility_keys_name_the_field(tmp_path: Path) -> None:
    bad = HANDOVER.read_text().replace("x2: [enb2]", "x2: [mme1]")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert str(e.value) == f'{path}:17: nodes.enb1.x2[0]: node "mme1" is of kind mme, not enodeb'
    path.write_text(HANDOVER.read_text().replace("    hss: hss1\n", "    hss: hss1\n    t3412: 61\n", 1))
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert "nodes.mme1.t3412" in str(e.value) and "not a GPRS timer value" in str(e.value)
