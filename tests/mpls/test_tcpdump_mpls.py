"""tcpdump's MPLS lines (print-mpls.c): netplex's tcpdump printer against the real tcpdump reading
the same frames — the LSP of examples/mpls-lsp.yaml as the simulator put it on the wire, and a
two-label stack — with -n, -n -e and -n -v; and a live capture on a label-switching router."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from netplex.packet.pcap import PcapWriter, read_pcap
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.shell.tcpdump import TcpSeqs, format_frame, parse

ROOT = Path(__file__).resolve().parents[2]
TS = re.compile(r"^\d\d:\d\d:\d\d\.\d{6} ", re.M)


def _ours(frames: list[tuple[int, bytes]], ether: bool = False, verbose: bool = False) -> list[str]:
    seqs = TcpSeqs()
    return [TS.sub("", format_frame(ts, parse(data), ether, seqs, verbose)) for ts, data in frames]


def _real(pcap: Path, *opts: str) -> list[str]:
    r = subprocess.run(["tcpdump", "-n", *opts, "-r", str(pcap)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # -v continues a packet on lines starting with a tab or spaces: join them as ours are joined
    text = TS.sub("", r.stdout)
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith(("\t", " ")) and out:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


@pytest.fixture(scope="module")
def lsp_pcaps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("mpls")
    assert run_scenario(load_scenario(ROOT / "examples" / "mpls-lsp.yaml"), SimBackend(pcap_dir=d)).passed
    return d


@pytest.mark.skipif(not shutil.which("tcpdump"), reason="no tcpdump on this machine (apt-get install tcpdump)")
@pytest.mark.parametrize("opts", [(), ("-e",), ("-v",)], ids=["n", "e", "v"])
def test_lsp_frames_print_as_tcpdump_prints_them(lsp_pcaps: Path, opts: tuple[str, ...]) -> None:
    pcap = lsp_pcaps / "r2-eth1.pcap"          # r2 swapped 100 for 200: labelled both ways
    # the ICMP ones (the TCP probe's port 8080 payload would get tcpdump's HTTP printer, not modelled)
    frames = [(ts, data) for ts, data in read_pcap(pcap) if data[12:14] == b"\x88\x47" and data[27] == 1]
    assert len(frames) >= 4
    ours = _ours(frames, ether="-e" in opts, verbose="-v" in opts)
    real = [line for line in _real(pcap, *opts, "icmp", "or", "(mpls", "and", "icmp)") if "MPLS" in line]
    assert ours == real
    assert any(line.startswith("MPLS (label 200, tc 0, [S], ttl 62) IP 10.1.0.10 > 10.2.0.10: ICMP echo request")
               for line in ours) or opts


@pytest.mark.skipif(not shutil.which("tcpdump"), reason="no tcpdump on this machine (apt-get install tcpdump)")
def test_a_label_stack_and_an_explicit_null(tmp_path: Path, lsp_pcaps: Path) -> None:
    (_ts, frame), *_ = [(ts, d) for ts, d in read_pcap(lsp_pcaps / "r2-eth1.pcap") if d[12:14] == b"\x88\x47"]
    ip = frame[18:]
    def entry(label: int, tc: int, s: int, ttl: int) -> bytes:
        return struct.pack("!I", label << 12 | tc << 9 | s << 8 | ttl)
    frames = [(1_000, frame[:14] + entry(1000, 5, 0, 64) + entry(200, 0, 1, 62) + ip),
              (2_000, frame[:14] + entry(0, 0, 1, 9) + ip),                       # IPv4 explicit null
              (3_000, frame[:14] + entry(16, 1, 0, 1) + entry(17, 0, 0, 2) + entry(18, 0, 1, 3) + bytes(40))]
    pcap = tmp_path / "stack.pcap"
    with PcapWriter(pcap) as w:
        for ts, data in frames:
            w.write(ts, data)
    for opts in ((), ("-v",), ("-e",)):
        assert _ours(frames, ether="-e" in opts, verbose="-v" in opts) == _real(pcap, *opts), opts


def test_live_capture_on_a_label_switching_router() -> None:
    b = SimBackend()
    assert run_scenario(load_scenario(ROOT / "examples" / "mpls-lsp.yaml"), b).passed
    net = b.net
    h1 = net.nodes["h1"]
    sock = h1.ns.sockets.ping_socket(9)
    net.sched.after(1_000_000, sock.send, 0x0A02000A, 1, bytes(56))
    r = net.nodes["r3"].run("tcpdump -i eth0 -n -c 2 -e")
    lines = TS.sub("", r.output).splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "MPLS (label 200, tc 0, [S], ttl 62) 10.1.0.10 > 10.2.0.10: ICMP echo request, id 9, seq 1, length 64",
        "MPLS (label 500, tc 0, [S], ttl 62) 10.2.0.10 > 10.1.0.10: ICMP echo reply, id 9, seq 1, length 64"]
    assert all("ethertype MPLS unicast (0x8847), length 102" in line for line in lines)


@pytest.mark.skipif(not shutil.which("tcpdump"), reason="no tcpdump on this machine (apt-get install tcpdump)")
@pytest.mark.parametrize("expr", ["mpls", "mpls 200", "mpls 500", "mpls and icmp", "mpls and host 10.1.0.10",
                                  "mpls 200 and src host 10.1.0.10", "icmp", "not mpls", "mpls and tcp port 8080"])
def test_the_mpls_filter_selects_what_libpcap_selects(lsp_pcaps: Path, expr: str) -> None:
    from netplex.shell.tcpdump import compile_filter
    pcap = lsp_pcaps / "r2-eth1.pcap"
    flt = compile_filter(expr.split())
    ours = [ts for ts, data in read_pcap(pcap) if flt.match(parse(data))]
    r = subprocess.run(["tcpdump", "-n", "-tt", "-r", str(pcap), *expr.split()], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    real = [round(float(line.split(" ", 1)[0]) * 1e9) for line in r.stdout.splitlines()]
    assert [round(t / 1000) for t in ours] == [round(t / 1000) for t in real] and (ours or expr in ("icmp",
                                                                                                    "mpls 500"))
