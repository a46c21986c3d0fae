"""N UEs attach through one MME (one eNodeB per 100 UEs, one SGW, one PGW) and each pings once, in the simulator.

    .venv/bin/python benchmarks/epc_attach.py [N]      (default 1000)

Prints the build + setup time, the attaches per second of wall time (the
attach probes alone), the pings per second, and the simulated time the
attaches took; each also per second of this process's CPU time, the fair
figure on a shared, loaded machine. The scenario is the one of examples/mobile/lte-attach.yaml,
generated for N subscribers (IMSIs 001010000000001 ...), all with K and OPc
of TS 35.208 test set 1.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

import netplex.mobile  # noqa: E402,F401  (registers the kinds)
from netplex.scenario.model import Probe, Scenario  # noqa: E402
from netplex.scenario.runner import prepare, run_probe  # noqa: E402
from netplex.scenario.sim import SimBackend  # noqa: E402

K, OPC = "465b5ce8b199b49faa5f0a2ee238a6bc", "cd63cb71954a9f4e48a5994e37a02baf"
PER_ENB = 100


def scenario(n: int) -> str:
    enbs = (n + PER_ENB - 1) // PER_ENB
    out = ["nodes:"]
    for i in range(n):
        out.append(f'  ue{i}: {{kind: ue, imsi: "00101{i + 1:010d}", key: {K}, opc: {OPC}}}')
    for e in range(enbs):
        out += [f"  enb{e}:", "    kind: enodeb", "    mme: mme1", "    setup: |",
                f"      ip addr add 10.0.{1 + e // 200}.{1 + e % 200}/16 dev eth0", "      ip link set eth0 up"]
    subs = ", ".join(f'{{imsi: "00101{i + 1:010d}", key: {K}, opc: {OPC}}}' for i in range(n))
    for name, kind, addr, extra in (("mme1", "mme", "10.0.0.2", ["    hss: hss1"]),
                                    ("hss1", "hss", "10.0.0.3", [f"    subscribers: [{subs}]"]),
                                    ("sgw1", "sgw", "10.0.0.4", []), ("pgw1", "pgw", "10.0.0.5", ["    addr: 10.0.0.5"])):
        out += [f"  {name}:", f"    kind: {kind}", *extra, "    setup: |", f"      ip addr add {addr}/16 dev eth0",
                "      ip link set eth0 up"]
    out[-1:] = ["      ip link set eth0 up", "      ip addr add 198.51.100.1/24 dev eth1", "      ip link set eth1 up",
                "      ip route add default via 198.51.100.2"]
    ports = [f"e{e}" for e in range(enbs)] + ["mme", "hss", "sgw", "pgw"]
    out += ["  core:", "    setup: |", "      ip link add br0 type bridge", "      ip link set br0 up",
            f"      for p in {' '.join(ports)}; do ip link set $p master br0; ip link set $p up; done",
            "  inet:", "    setup: |", "      ip addr add 198.51.100.2/24 dev eth0", "      ip link set eth0 up",
            "      ip link set lo up", "      ip addr add 8.8.8.8/32 dev lo", "links:"]
    for i in range(n):
        out.append(f"  - ends: [ue{i}:eth0, enb{i // PER_ENB}:r{i % PER_ENB}]")
    for e in range(enbs):
        out.append(f"  - ends: [enb{e}:eth0, core:e{e}]")
    for name in ("mme", "hss", "sgw", "pgw"):
        out.append(f"  - ends: [{name}1:eth0, core:{name}]")
    out.append("  - ends: [pgw1:eth1, inet:eth0]")
    return "\n".join(out) + "\n"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    t0, c0 = time.perf_counter(), time.process_time()
    be = SimBackend()
    # validated by the models without the file loader, whose YAML limit (100,000 values) 10,000 subscribers pass
    err = prepare(Scenario.model_validate(yaml.safe_load(scenario(n))), be)
    assert err is None, err
    t1, c1 = time.perf_counter(), time.process_time()
    sim0 = be.net.now
    attached = sum(run_probe(Probe.model_validate({"attach": {"ue": f"ue{i}"}}), i, be).ok for i in range(n))
    t2, c2 = time.perf_counter(), time.process_time()
    sim1 = be.net.now
    pinged = sum(run_probe(Probe.model_validate({"ping": {"from": f"ue{i}", "to": "8.8.8.8"}}), i, be).ok
                 for i in range(n))
    t3, c3 = time.perf_counter(), time.process_time()
    print(f"{n} UEs: build+setup {t1 - t0:.1f} s (CPU {c1 - c0:.1f} s); {attached} attached in {t2 - t1:.1f} s "
          f"({attached / (t2 - t1):.0f} attaches/s; CPU {c2 - c1:.1f} s, {attached / (c2 - c1):.0f}/CPU-s; "
          f"{(sim1 - sim0) / 1e6:.1f} ms simulated); {pinged} pinged in {t3 - t2:.1f} s "
          f"({pinged / (t3 - t2):.0f} pings/s; {pinged / (c3 - c2):.0f}/CPU-s)")


if __name__ == "__main__":
    main()
