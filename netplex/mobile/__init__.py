"""The mobile core (issue 17): the 4G EPC's node kinds, procedures and protocols.

`milenage` (TS 35.206 authentication functions). The GTP wire formats live in
`netplex/packet/gtpu.py` and `gtpv2c.py`. docs/mobile.md says what is modelled and how it was checked.
"""
from __future__ import annotations
