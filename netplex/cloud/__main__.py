"""`python -m netplex.cloud ARGS...`: the `openstack` client a kernel-twin node runs
(netplex/twin/bin/openstack), answering from the node's cloud state file (shellcmd.py)."""
from __future__ import annotations

from netplex.cloud.shellcmd import main

if __name__ == "__main__":
    main()
