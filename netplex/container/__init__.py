"""Containers: docker on a netplex host (and, later, Flannel on etcd).

Importing the package registers the `docker-host` node kind and the `docker`
and `dockerd` commands. See docs/docker.md (what is supported and refused,
how it was checked against moby's goldens and the kernel) and
docs/arch/container.md (where the pieces are).
"""
from __future__ import annotations

from netplex.container import sim
from netplex.container.node import DockerHost

__all__ = ["DockerHost", "sim"]
