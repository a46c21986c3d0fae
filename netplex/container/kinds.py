"""Importing this module registers the container system with the simulator: the `docker-host`
and `etcd` node kinds (node.py) and the `docker`, `dockerd`, `etcd`, `etcdctl` and `flanneld`
commands (sim.py, sim_etcd.py)."""
from __future__ import annotations

from netplex.container import sim, sim_etcd
from netplex.container.node import DockerHost, EtcdNode

__all__ = ["DockerHost", "EtcdNode", "sim", "sim_etcd"]
