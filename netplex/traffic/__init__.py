"""Traffic for the simulator: generators (UDP constant rate and on/off, TCP bulk),
their receivers, and the `iperf` probe built on them (SCENARIO.md, Traffic probes)."""
from __future__ import annotations

from netplex.apps.generators import FlowStats, TcpBulk, TcpSink, UdpCbr, UdpSink
from netplex.traffic.iperf import run_iperf

__all__ = ["UdpCbr", "UdpSink", "TcpBulk", "TcpSink", "FlowStats", "run_iperf"]
