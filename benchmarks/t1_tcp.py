"""Benchmark T1, "one TCP CUBIC flow": h0 - r1 - r2 - r3 - h1 for 10 simulated seconds.

The scenario a user would write (SCENARIO.md): four links of 0.5 ms each
(RTT 4 ms), 10 Gbit/s except the bottleneck r2 - r3 at 1 Gbit/s (the link's
`rate:`), MTU 1500, each device's default FIFO of txqueuelen 1000 frames,
an iperf TCP probe from h0 to h1 with net.ipv4.tcp_congestion_control=cubic
(Linux's default, netplex.stack.tcp_cc.Cubic), SACK and timestamps on. The
ns-3 side is benchmarks/ns3/t1_tcp.py (BulkSend + PacketSink, TcpCubic) on the
same topology; BENCHMARKS.md lists each matched choice.

Two senders (`mode`):
- `iperf`: the scenario's iperf probe, as a user runs it (netplex.apps.iperf:
  TcpBulk writes 128 KiB blocks whenever the socket has room, as iperf3 does);
- `bulk`: the same network and TCP, the sender written against the socket
  API as ns-3's BulkSendApplication is: the send queue kept at 4 MiB
  (tcp_wmem's maximum) so the application never limits; the sink counts the
  bytes it reads. This is the like-for-like comparison with ns-3.

Prints one JSON line: wall seconds of the transfer alone (setup excluded, as
ns-3 times only Simulator::Run) and the goodput.

Usage: python benchmarks/t1_tcp.py [seconds] [iperf|bulk]
"""
from __future__ import annotations

import json
import sys
import time

from netplex.packet.addr import ip_to_int
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare, run_probe
from netplex.scenario.sim import SimBackend
from netplex.stack.tcp import TcpSocket

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
MODE = sys.argv[2] if len(sys.argv) > 2 else "iperf"
NSEC_PER_SEC = 1_000_000_000
SNDBUF = 4 << 20             # tcp_wmem's maximum: the send queue BulkSend keeps full
TOPUP_NS = 100_000           # how often the bulk sender refills the send queue


def scenario_text(seconds: float) -> str:
    """The T1 scenario as YAML: addresses 10.0.i.0/24 on link i, static routes both ways."""
    nodes = {
        "h0": ["ip addr add 10.0.0.1/24 dev eth1", "ip link set eth1 up", "ip route add default via 10.0.0.2",
               "sysctl -qw net.ipv4.tcp_congestion_control=cubic"],
        "h1": ["ip addr add 10.0.3.2/24 dev eth0", "ip link set eth0 up", "ip route add default via 10.0.3.1"],
    }
    for i in (1, 2, 3):
        lines = [f"ip addr add 10.0.{i - 1}.2/24 dev eth0", "ip link set eth0 up",
                 f"ip addr add 10.0.{i}.1/24 dev eth1", "ip link set eth1 up",
                 "sysctl -qw net.ipv4.ip_forward=1"]
        if i > 1:
            lines.append(f"ip route add 10.0.0.0/24 via 10.0.{i - 1}.1")
        if i < 3:
            lines.append(f"ip route add 10.0.3.0/24 via 10.0.{i}.2")
        nodes[f"r{i}"] = lines
    out = ["name: t1-tcp-cubic", "seed: 1", "nodes:"]
    for name in ("h0", "r1", "r2", "r3", "h1"):
        out += [f"  {name}:", "    setup: |"] + [f"      {line}" for line in nodes[name]]
    out.append("links:")
    chain = ["h0", "r1", "r2", "r3", "h1"]
    for i in range(4):
        rate = "1gbit" if i == 2 else "10gbit"
        out += [f"  - ends: [{chain[i]}:eth1, {chain[i + 1]}:eth0]", f"    rate: {rate}", "    delay: 500us"]
    out += ["probes:", "  - iperf:", f"      duration: {seconds}s", "      flows:",
            "        - {from: h0, to: 10.0.3.2, port: 5001, proto: tcp}"]
    return "\n".join(out) + "\n"


def bulk(backend: SimBackend) -> int:
    """BulkSend h0 -> sink h1 for SECONDS from now; the bytes the sink read."""
    net = backend.net
    h0, h1 = net.nodes["h0"], net.nodes["h1"]
    got = [0]

    def on_data(sk: TcpSocket, data: bytes) -> None:
        got[0] += len(data)

    def on_accept(sk: TcpSocket) -> None:
        sk.on_data = on_data

    listener = TcpSocket(h1.ns.sockets)
    listener.on_accept = on_accept
    assert listener.listen(5001) == 0
    sender = TcpSocket(h0.ns.sockets)
    stop = net.now + int(SECONDS * NSEC_PER_SEC)
    chunk = bytes(1 << 20)

    def topup(sk: TcpSocket) -> None:
        if net.now >= stop or sk.error:
            return
        while len(sk.sndbuf) < SNDBUF:
            sk.send(chunk)
        net.sched.after(TOPUP_NS, topup, sk)

    sender.on_connect = topup
    assert sender.connect(ip_to_int("10.0.3.2"), 5001) == 0
    net.run_for(stop - net.now)
    return got[0]


def main() -> None:
    scenario = load_scenario_text(scenario_text(SECONDS), "t1-tcp-cubic.yaml")
    backend = SimBackend(seed=scenario.seed)
    try:
        t0 = time.perf_counter()
        error = prepare(scenario, backend)
        if error:
            raise SystemExit(f"setup failed: {error}")
        t_setup = time.perf_counter() - t0
        t1 = time.perf_counter()
        c1 = time.process_time()
        if MODE == "bulk":
            goodput = round(bulk(backend) * 8 / SECONDS)
        else:
            flow = run_probe(scenario.probes[0], 0, backend).observed["flows"][0]
            if flow.get("error"):
                raise SystemExit(f"iperf failed: {flow['error']}")
            goodput = flow["goodput_bps"]
        t_run = time.perf_counter() - t1
        c_run = time.process_time() - c1
    finally:
        backend.close()
    print(json.dumps({
        "scenario": "T1_tcp_cubic",
        "mode": MODE,
        "sim_seconds": SECONDS,
        "setup_s": round(t_setup, 3),
        "run_s": round(t_run, 3),
        "goodput_bps": goodput,
        "sim_s_per_wall_s": round(SECONDS / t_run, 4),
        "run_cpu_s": round(c_run, 3),     # CPU seconds of this process: steadier on a shared machine
    }))


if __name__ == "__main__":
    main()
