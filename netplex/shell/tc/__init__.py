"""`tc` (iproute2 6.1, tc(8)), laid out as iproute2's tc/ directory.

    tc.py          the command: global options, objects            (tc.c)
    tc_qdisc.py    tc qdisc, and QDISC_UTILS, the table of kinds   (tc_qdisc.c)
    tc_class.py    tc class                                        (tc_class.c)
    tc_filter.py   tc filter, and FILTER_UTILS                     (tc_filter.c)
    m_action.py    tc actions, action lists, and ACTION_UTILS      (m_action.c)
    q_KIND.py      one qdisc kind's options: parse and print       (q_htb.c, ...)
    f_KIND.py      one classifier's options                        (f_u32.c, ...)
    m_KIND.py      one action's options                            (m_police.c, ...)
    tc_util.py     units, handles, protocols, controls, errors     (tc_util.c, tc_core.c)

The shell only parses and prints: what the kernel does with a request is
netplex/stack/qdisc/api.py. Importing this package registers `tc`.
"""
from __future__ import annotations

from netplex.shell.tc.tc import tc
from netplex.units import get_rate, get_rate32, get_size, get_time, sprint_rate, sprint_size, sprint_time

__all__ = ["tc", "sprint_size", "sprint_rate", "sprint_time", "get_rate", "get_rate32", "get_size", "get_time"]
