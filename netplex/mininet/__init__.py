"""Mininet's Python API on netplex: `netplex mininet script.py` runs a Mininet script unchanged.

While a script runs, this package *is* the `mininet` package (`mininet.net`,
`mininet.topo`, `mininet.node`, `mininet.link`, `mininet.cli`, `mininet.log`,
`mininet.util`, `mininet.topolib`, `mininet.clean`): `netplex.mininet.run` puts its
modules in `sys.modules` under those names for the script's run only. The modules
follow Mininet 2.3's API (mininet/net.py, topo.py, node.py, link.py, cli.py) and
its printed output; a network is built through netplex's backend seam
(`scenario/backend.py`), so the same script runs on the simulator (no root) or on
the kernel twin. What Mininet can do and netplex cannot (xterms, `popen`, a
remote OpenFlow controller, CPU limits) is refused with `MininetUnsupported`,
which the runner reports as FILE:LINE: what: message.

The modules are netplex's own; Mininet (BSD 3-clause) was read for semantics and
output formats, never copied.
"""
