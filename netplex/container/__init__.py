"""Containers: docker on a netplex host and Flannel on etcd.

Importing the package registers the `docker-host` and `etcd` node kinds and the `docker`,
`dockerd`, `etcd`, `etcdctl` and `flanneld` commands. See docs/docker.md (what is supported and refused,
how it was checked against moby's goldens and the kernel) and
docs/arch/container.md (where the pieces are).
"""
from __future__ import annotations

from netplex.container import sim, sim_etcd
from netplex.container.node import DockerHost, EtcdNode

__all__ = ["DockerHost", "EtcdNode", "sim", "sim_etcd"]
