"""S1-MME as real bytes: S1AP (TS 36.413, aligned PER) carrying NAS (TS 24.301) over SCTP (RFC 9260).

The oracle is tshark's `sctp`, `s1ap` and `nas-eps` dissectors on the MME's capture; the PER
encoding of two IEs is also checked byte for byte against an eNodeB's InitialUEMessage.
"""
from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401  (registers the mobile node kinds)
from netplex.packet.nas_eps import Nas, NasError
from netplex.packet.s1ap import _W, IES, S1ap, S1apError, _field
from netplex.packet.sctp import Sctp, SctpError, crc32c
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend
from tests.mobile.conftest import corrupted
from tests.mobile.test_epc import ATTACH, probe

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

IMSI = "001010000000001"


def test_crc32c_matches_rfc3720_vectors() -> None:
    """RFC 3720 §B.4 (the same CRC32c as SCTP's): 32 zero octets, 32 0xFF octets, 0..31."""
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E


def test_per_encoding_of_ies_matches_an_enodeb() -> None:
    """EUTRAN-CGI (PLMN 450-06, cell 0x000010e) and RRC-Establishment-Cause mo-Signalling as an
    eNodeB's InitialUEMessage carries them: id, criticality ignore, open type length, value."""
    w = _W()
    _field(w, 100, 1, IES["EUTRAN-CGI"][1], {"PLMN": "45006", "cell-ID": 0x000010E})
    assert w.data().hex() == "006440080054f060000010e0"
    w = _W()
    _field(w, 134, 1, IES["RRC-Establishment-Cause"][1], "mo-Signalling")
    assert w.data().hex() == "0086400130"


def test_decoders_refuse_garbage_with_their_own_error() -> None:
    """Corrupted S1AP, NAS and SCTP bytes raise S1apError / NasError / SctpError, nothing else."""
    ue = S1ap("InitialUEMessage", {
        "ENB-UE-S1AP-ID": 1, "TAI": {"PLMN": "00101", "TAC": 1}, "RRC-Establishment-Cause": "mo-Signalling",
        "EUTRAN-CGI": {"PLMN": "00101", "cell-ID": 0x100}, "NAS-PDU": Nas("Attach Request", {
            "EPS mobile identity": {"IMSI": IMSI}, "ESM message container": {
                "name": "PDN Connectivity Request", "ies": {"PTI": 1, "Access point name": "internet"}}}).encode()})
    s1 = ue.encode()
    assert S1ap.decode(s1) == ue
    nas = ue.ies["NAS-PDU"]
    pkt = Sctp(36412, 36412, 7, []).encode()
    for data in corrupted(s1, 1, 500):
        try:
            S1ap.decode(data)
        except S1apError:
            pass
    causes = set()
    for data in corrupted(nas, 2, 500):
        try:
            Nas.decode(data)
        except NasError as e:
            causes.add(e.cause)
    assert causes <= {96, 97, 111} and 96 in causes
    rng = random.Random(3)
    for _ in range(200):
        with pytest.raises(SctpError):
            Sctp.decode(pkt + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9))))


@needs_tshark
def test_tshark_decodes_the_s1_mme_capture(tmp_path: Path) -> None:
    """Attach and MME-initiated detach on the MME's wire: the SCTP handshake, then S1 Setup and every
    S1AP message with its NAS message, no expert warning, every SCTP checksum verified; the E-RAB's
    GTP-TEIDs are t7 and t8."""
    be = SimBackend(seed=0, pcap_dir=tmp_path)
    assert prepare(load_scenario(ATTACH), be) is None
    teids = probe(be, {"attach": {"ue": "ue1"}}).observed["teids"]
    assert probe(be, {"cmd": {"node": "mme1", "run": f"mme detach {IMSI}"}}).passed
    be.net.run_for(1_000_000_000)
    be.net.stop_pcap()
    rows = subprocess.run(
        ["tshark", "-r", str(tmp_path / "mme1-eth0.pcap"), "-o", "sctp.checksum:CRC-32C", "-Y", "sctp", "-T",
         "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "_ws.expert.message", "-e", "sctp.chunk_type",
         "-e", "s1ap.procedureCode", "-e", "nas_eps.nas_msg_emm_type", "-e", "s1ap.gTP_TEID",
         "-e", "sctp.checksum.status"], capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    cells = [r.split("|") for r in rows]
    assert not [c for c in cells if c[1]], [c for c in cells if c[1]]
    assert {c[6] for c in cells} == {"1"}                       # checksum good
    assert [c[2] for c in cells[:4]] == ["1", "2", "10", "11"]  # INIT, INIT ACK, COOKIE ECHO, COOKIE ACK
    s1ap = [(int(c[3]), c[4]) for c in cells if c[0].endswith(("s1ap", "nas-eps"))]
    assert s1ap == [(17, ""), (17, ""), (12, "0x41"), (11, "0x52"), (13, "0x53"), (11, "0x5d"), (13, "0x5e"),
                    (9, "0x42"), (9, ""), (13, "0x43"), (11, "0x45"), (13, "0x46"), (23, ""), (23, "")]
    assert [int(c[5], 16) for c in cells if c[5]] == [int(teids["t7"], 16), int(teids["t8"], 16)]
