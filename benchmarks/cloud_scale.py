"""C1 — the cloud at scale (issue 14): VMs on compute hosts in tenants, brought up, then a ping mesh.

A scenario file is written as a user would: `nhosts` `cloud-host` nodes on one underlay
switch (a Linux bridge of the hosts' eth0 in 192.168.0.0/16), a `cloud:` whose commands
create, per tenant, a VXLAN network with a /24 subnet (10.<t>.0.0/24, DHCP on), a security
group letting its own members ping (`--remote-group`, an ipset on every host), and the
tenant's share of `nvms` servers (spread over the hosts by the scheduler). The simulator
runs it (`netplex.scenario.runner.prepare`: every host's agents, every DHCP server, then
every VM boots with `dhclient`) and then pings `npairs` seeded random pairs of VMs, half in
the same tenant (expected to answer: the group lets its members in) and half across tenants
(expected to fail: tenant networks are isolated, no router joins them).

Figures (one JSON line): wall seconds for the compile (controller and agents), for the
whole bring-up (and the process's CPU seconds: on a machine shared with other work the wall
time is the CPU time stretched by the load), VMs with a DHCP lease (an address on eth0, checked in every VM), shell
lines run, the mesh's wall seconds and the pairs whose outcome was not the expected one.
The issue's target: 2,000 VMs on 50 hosts in 20 tenants up in under 60 s, isolation holding.

Usage: python benchmarks/cloud_scale.py [nvms=2000] [nhosts=50] [ntenants=20] [npairs=1000]
       python benchmarks/cloud_scale.py --profile ...   (cProfile of the bring-up, top 25)
"""
from __future__ import annotations

import cProfile
import json
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

import netplex.cloud.kinds  # noqa: F401 - the cloud-host kind and the cloud: section
from netplex.cloud.scenario import compile_cloud
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend


def scenario_text(nvms: int, nhosts: int, ntenants: int) -> str:
    """The scenario a user would write for the benchmark's cloud."""
    out = ["name: cloud-scale", "nodes:", "  underlay:", "    setup: |", "      ip link add br0 type bridge",
           "      ip link set br0 up"]
    out += [f"      ip link set p{i} master br0 && ip link set p{i} up" for i in range(nhosts)]
    for i in range(nhosts):
        ip = f"192.168.{i // 250}.{i % 250 + 1}"
        out += [f"  compute{i}:", "    kind: cloud-host", f"    local_ip: {ip}", "    setup: |",
                f"      ip addr add {ip}/16 dev eth0", "      ip link set eth0 up"]
    out += ["links:"] + [f"  - ends: [compute{i}:eth0, underlay:p{i}]" for i in range(nhosts)]
    out += ["cloud:", f"  hosts: [{', '.join(f'compute{i}' for i in range(nhosts))}]", "  commands: |"]
    for t in range(ntenants):
        out += [f"    openstack network create t{t}",
                f"    openstack subnet create --network t{t} --subnet-range 10.{t}.0.0/24 t{t}-sub",
                f"    openstack security group create t{t}-sg",
                f"    openstack security group rule create --protocol icmp --remote-group t{t}-sg t{t}-sg"]
    for v in range(nvms):
        t = v % ntenants
        out.append(f"    openstack server create --network t{t} --security-group t{t}-sg vm{v}")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> None:
    profile = "--profile" in argv
    args = [int(a) for a in argv if not a.startswith("--")]
    nvms, nhosts, ntenants, npairs = (args + [2000, 50, 20, 1000][len(args):])[:4]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cloud-scale.yaml"
        path.write_text(scenario_text(nvms, nhosts, ntenants))
        scenario = load_scenario(path)
    t0 = time.perf_counter()
    lines, failure = compile_cloud(scenario)
    compile_s = time.perf_counter() - t0
    if failure is not None:
        raise SystemExit(f"cloud: {failure}")
    be = SimBackend(seed=scenario.seed)
    prof = cProfile.Profile() if profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof is not None:
        prof.enable()
    err = prepare(scenario, be)
    if prof is not None:
        prof.disable()
    up_s, up_cpu = time.perf_counter() - t0, time.process_time() - c0
    if err is not None:
        raise SystemExit(f"setup: {err}")
    # every VM: the host it was placed on and the address its lease gave eth0
    vms: dict[str, tuple[str, str, int]] = {}
    for node, line, _, what in lines:
        if what == "cloud VM boot":
            vm = line.split()[3]
            vms[vm] = (node, "", int(vm[2:]) % ntenants)
    leased = 0
    for vm, (host, _, tenant) in vms.items():
        r = be.run(host, f"ip -n {vm} -4 -o addr show dev eth0")
        words = r.output.split()
        if r.status == 0 and len(words) > 3:
            vms[vm] = (host, words[3].split("/")[0], tenant)
            leased += 1
    rng = random.Random(1)
    names = sorted(vms, key=lambda v: int(v[2:]))
    wrong = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(npairs):
        a = rng.choice(names)
        same = k % 2 == 0
        b = rng.choice([v for v in names if (vms[v][2] == vms[a][2]) == same and v != a])
        host, _, _ = vms[a]
        r = be.run(host, f"ip netns exec {a} ping -c 1 -W 1 {vms[b][1]}")
        wrong += (r.status == 0) != same
    mesh_s, mesh_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"vms": nvms, "hosts": nhosts, "tenants": ntenants, "compile_s": round(compile_s, 2),
                      "bring_up_s": round(up_s, 2), "bring_up_cpu_s": round(up_cpu, 2), "shell_lines": len(lines), "leased": leased,
                      "pairs": npairs, "mesh_s": round(mesh_s, 2), "mesh_cpu_s": round(mesh_cpu, 2), "unexpected": wrong}))
    if prof is not None:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main(sys.argv[1:])
