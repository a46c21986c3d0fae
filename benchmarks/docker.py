"""D1 — docker: N containers started on one simulated docker-host, each with a published port.

`docker run -d --name cI -p (10000+I):80 nginx` N times after `dockerd`: each
makes a namespace, a veth on docker0, the raw/nat/filter rules and a
docker-proxy. Prints one JSON line per N: wall seconds for the N runs, and
per container. The issue's target: 100 containers in under 2 s.

    .venv/bin/python benchmarks/docker.py [N ...]   # default 100 300
"""
from __future__ import annotations

import json
import sys
import time

import netplex.container.kinds  # noqa: F401 - the docker-host kind and the docker commands
from netplex import Network


def run(n: int) -> dict[str, float]:
    h = Network().add_node("h", kind="docker-host")
    h.run("dockerd")
    t = time.perf_counter()
    for i in range(n):
        r = h.run(f"docker run -d --name c{i} -p {10000 + i}:80 nginx")
        if r.status:
            raise SystemExit(r.error)
    wall = time.perf_counter() - t
    return {"containers": n, "wall_s": round(wall, 2), "ms_per_container": round(wall / n * 1000, 1)}


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [100, 300]:
        print(json.dumps(run(n)))
