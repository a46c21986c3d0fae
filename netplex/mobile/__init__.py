"""The mobile core (issue 17): the 4G EPC as node kinds, daemons and real GTP bytes.

Importing this package registers the node kinds `ue`, `enodeb`, `mme`, `hss`,
`sgw`, `pgw`, `pcrf` (`nodes`) and the shell commands `mme`, `sgw`, `pgw`,
`hss` (`commands`). `milenage` is TS 35.206; `messages` the modelled
RRC/NAS/S1AP/Diameter messages; `ran`, `mme`, `gateways`, `diameter_servers`
the daemons. The GTP wire formats live in `netplex/packet/gtpu.py` and
`gtpv2c.py`. The 2.5G/3G packet core (`gprs_nodes`: ms, bts, bsc, pcu, nodeb, rnc, sgsn,
ggsn, hlr, and msc, vlr, auc, eir, gmsc in the topology) is `gprs`/`gprs_ran`, with
GTPv1-C in `netplex/packet/gtpv1c.py`. docs/mobile.md says what is modelled and how it was checked.
"""
from __future__ import annotations

from netplex.mobile import commands, gprs_nodes, nodes

__all__ = ["commands", "gprs_nodes", "nodes"]
