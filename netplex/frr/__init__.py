"""FRR on a netplex machine: frr.conf's language (`config.py`), zebra (`zebra.py`: the RIB and
the kernel routes), bgpd (`bgpd.py`: a BGP-4 speaker over the simulated TCP), the init script
`/usr/lib/frr/frrinit.sh` (`service.py`) and `vtysh` (`vtysh.py`). See docs/bgp.md.

This package is a tool family of the shell's layer (4), as `netplex.ovs` is: it imports the
stack, the process table and the shell's registry; `netplex/shell/host.py` imports its commands.
"""
