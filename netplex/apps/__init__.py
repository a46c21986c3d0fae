"""Userspace programs of a machine (services, iperf, docker-proxy, smcrouted, ...)
run as daemons in its process table (`netplex.apps.process`)."""
