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


# etcd's own flags for a one-member cluster on this node, its data under /var/lib/etcd (the node's own).
ETCD_BOOT = ("etcd --name default --data-dir /var/lib/etcd/default --listen-client-urls http://0.0.0.0:2379 "
             "--advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 "
             "--initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster default=http://127.0.0.1:2380 "
             ">/var/lib/etcd.log 2>&1 &")


@node_kind("etcd")
class EtcdNode(Node):
    """A Linux host running etcd on its client port 2379 (netplex's store in the simulator, Debian's
    etcd-server on the kernel twin)."""

    # etcd talks to itself on 127.0.0.1; the node is up once etcd answers (the real one takes a moment)
    boot = ("ip link set lo up", ETCD_BOOT,
            "for i in $(seq 100); do etcdctl get /netplex-ready >/dev/null 2>&1 && break; sleep 0.1; done")
