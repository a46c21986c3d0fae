"""Kernel-twin startup: N nodes on one bridge, built, addressed and torn down.

Each node is a namespace with one veth (`eth0`, up, 10.x.y.z/16) whose other
end (`p<i>`) sits in a bridge node, enslaved to `br0` and up. Prints one JSON
line per N: seconds to build and address, seconds to tear down. Needs root.

    sudo .venv/bin/python benchmarks/twin_startup.py [N ...]   # default 100 500 1000
"""
from __future__ import annotations

import json
import os
import sys
import time

from netplex.twin import cleanup, netns, state
from netplex.twin.netlink import Rtnl

BRIDGE_INDEX = 2
PORT_BASE = 10  # bridge-side port i gets ifindex PORT_BASE + i
BR_MAX_PORTS = 1023  # the kernel's BR_MAX_PORTS (1024) less port 0; more gives EXFULL


def build(prefix: str, n: int, run: state.RunState) -> list[str]:
    names = [f"{prefix}-br"] + [f"{prefix}-h{i}" for i in range(n)]
    run.add_namespaces(names)  # recorded before anything exists
    socks = netns.create(names, sockets=True)
    rt = {name: Rtnl(s) for name, s in socks.items()}
    bridge = rt[names[0]]
    bridge.link_add("br0", "bridge", index=BRIDGE_INDEX)
    bridge.link_set(index=BRIDGE_INDEX, up=True)
    bridge.commit()
    br_fd = os.open(netns.path(names[0]), os.O_RDONLY)
    try:
        for i, name in enumerate(names[1:]):
            host = rt[name]
            host.veth_add("eth0", f"p{i}", br_fd, index=2, peer_index=PORT_BASE + i)
            host.link_set(index=2, up=True)
            host.addr_add(2, f"10.0.{(i + 1) >> 8}.{(i + 1) & 255}/16")  # one /16: one LAN
            host.commit()
            bridge.link_set(index=PORT_BASE + i, master=BRIDGE_INDEX, up=True)
        bridge.commit()
    finally:
        os.close(br_fd)
        for r in rt.values():
            r.close()
    return names


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("twin_startup: needs root (netns, veth)", file=sys.stderr)
        return 2
    sizes = [int(a) for a in argv] or [100, 500, 1000]
    for n in sizes:
        if n > BR_MAX_PORTS:
            print(json.dumps({"nodes": n, "error": f"a Linux bridge holds at most {BR_MAX_PORTS} ports"}))
            continue
        prefix = state.new_prefix()
        run = state.RunState(prefix)
        run.save()
        names: list[str] = []
        try:
            t0 = time.perf_counter()
            names = build(prefix, n, run)
            t1 = time.perf_counter()
        finally:
            t2 = time.perf_counter()
            cleanup.teardown(run.namespaces)
            t3 = time.perf_counter()
            run.remove()
        print(json.dumps({"nodes": n, "build_s": round(t1 - t0, 3), "teardown_s": round(t3 - t2, 3),
                          "namespaces": len(names)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
