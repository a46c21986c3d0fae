"""Open vSwitch on a netplex machine: the OVSDB model (`ovsdb.py`), ovsdb-server and
ovs-vswitchd as daemons (`vswitchd.py`), OpenFlow tables (`ofproto.py`, `flow.py`,
`actions.py`), the per-packet pipeline and NORMAL learning switch (`xlate.py`) over the
kernel datapath (`netplex/stack/openvswitch.py`), and the commands `ovs-vsctl`,
`ovs-ofctl`, `ovs-appctl` (`vsctl.py`, `ofctl.py`, `appctl.py`). See docs/ovs.md.

This package is a tool family of the shell's layer (4): it imports the stack, the
process table and the shell's registry; `netplex/shell/host.py` imports its commands.
"""
