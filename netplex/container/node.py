"""The `docker-host` node kind: a Linux host whose init starts dockerd.

Its boot line (`dockerd`) runs after the node's `files:` are written (so
/etc/docker/daemon.json is read) and before its setup lines, on either
backend; the kernel twin builds it as any Linux host and runs netplex's
dockerd there (netplex/twin/bin/dockerd).
"""
from __future__ import annotations

from netplex.network import Node, node_kind

__all__ = ["DockerHost"]


@node_kind("docker-host")
class DockerHost(Node):
    """A Linux host running dockerd (options from /etc/docker/daemon.json)."""

    boot = ("dockerd",)
