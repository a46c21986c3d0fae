"""Containers: docker on a netplex host and Flannel on etcd.

Importing `netplex.container.kinds` registers the `docker-host` and `etcd` node kinds and the
`docker`, `dockerd`, `etcd`, `etcdctl` and `flanneld` commands. The package itself imports
nothing, so the kernel twin's `docker` and `flanneld` (`python -m netplex.container.real`, run
once per command line) load only the client's modules, not the simulator. See docs/docker.md
(what is supported and refused, how it was checked against moby's goldens and the kernel) and
docs/arch/container.md (where the pieces are).
"""
