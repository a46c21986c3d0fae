"""The iperf probe's TCP sender is iperf3's: it writes whenever the socket has room
(tcp_wmem's autotuned send buffer), so the path, not the application, sets the rate;
with `rate:` it throttles as iperf3 -b does. The linux test runs the real iperf3 on
the kernel twin built from the same scenario and compares the goodput."""
from __future__ import annotations

import json
import subprocess

import pytest

from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare, run_scenario
from netplex.scenario.sim import SimBackend
from netplex.twin.backend import LinuxBackend

TWO_HOSTS = """\
name: iperf-tcp
nodes:
  a:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0
      ip link set eth0 up
{sysctl}
  b:
    setup: |
      ip addr add 10.0.0.2/24 dev eth0
      ip link set eth0 up
links:
  - ends: [a:eth0, b:eth0]
    rate: {rate}
{delay}
probes:
  - iperf:
      duration: {duration}
      flows:
        - {{from: a, to: 10.0.0.2, port: 5201, proto: tcp{extra}}}
"""


def scenario(rate: str, duration: str = "1s", delay: str = "", extra: str = "", sysctl: str = "") -> str:
    return TWO_HOSTS.format(rate=rate, duration=duration, delay=f"    delay: {delay}" if delay else "",
                            extra=extra, sysctl=f"      sysctl -qw {sysctl}" if sysctl else "")


def tcp_flow(text: str) -> dict:
    res = run_scenario(load_scenario_text(text, "iperf-tcp.yaml"), SimBackend())
    assert res.error is None, res.error
    return res.probes[0].observed["flows"][0]


def test_an_unthrottled_flow_fills_a_long_fat_path() -> None:
    # 200 Mbit/s with a 20 ms RTT: 500 kB in flight. A sender topping up 64 KiB a
    # millisecond under 128 KiB unacknowledged (the old generator) made ~75 Mbit/s here.
    flow = tcp_flow(scenario("200mbit", delay="10ms"))
    assert 0.85 * 200e6 <= flow["wire_bps"] <= 200e6, flow


def test_the_send_buffer_bounds_what_is_in_flight() -> None:
    # tcp_wmem's maximum caps sk_sndbuf, and with it the unacknowledged bytes: 64 KiB a 20 ms RTT
    flow = tcp_flow(scenario("200mbit", delay="10ms", sysctl='net.ipv4.tcp_wmem="4096 16384 65536"'))
    assert 0 < flow["goodput_bps"] <= 65536 * 8 / 0.020, flow


def test_a_rate_throttles_tcp_as_iperf3_b_does() -> None:
    flow = tcp_flow(scenario("100mbit", duration="2s", extra=", rate: 5mbit, size: 8kb"))
    assert abs(flow["goodput_bps"] - 5e6) <= 0.02 * 5e6, flow
    assert all(abs(i - 5e6) <= 0.05 * 5e6 for i in flow["intervals"]), flow


@pytest.mark.linux
@pytest.mark.tools("iperf3")
def test_goodput_agrees_with_the_real_iperf3_on_the_twin() -> None:
    text = scenario("600mbit")
    sim = tcp_flow(text)
    with LinuxBackend() as be:
        assert prepare(load_scenario_text(text, "iperf-tcp.yaml"), be) is None
        # not `-1`: a one-off server that took a failed attempt's control connection would be gone
        server = subprocess.Popen(["ip", "netns", "exec", be.namespace("b"), "iperf3", "-s", "-p", "5201"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):   # the server listens within a moment (seconds on a loaded machine)
                if be.run("b", "ss -Hltn sport = :5201").output.strip() or server.poll() is not None:
                    break
                be.run("b", "sleep 0.1")
            assert server.poll() is None, f"iperf3 -s ended with status {server.returncode}"
            out = ""
            for _ in range(3):
                res = be.run("a", "iperf3 -c 10.0.0.2 -p 5201 -t 1 -J")
                out = res.output
                if res.status == 0:
                    break
            report = json.loads(out)
            assert "sum_received" in report.get("end", {}), report.get("error", out[-500:])
        finally:
            server.kill()
            server.wait()
    real = report["end"]["sum_received"]["bits_per_second"]
    # the twin shapes the link with a tbf; the simulator's link serialises at the rate:
    # both are path-limited, near the line's 600 Mbit/s of frames (goodput 1448/1518 of it)
    assert real > 0.8 * 600e6 * 1448 / 1518, report["end"]["sum_received"]
    assert abs(sim["goodput_bps"] - real) <= 0.10 * real, (sim["goodput_bps"], real)
