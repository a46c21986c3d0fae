"""`ip link add|set DEV type bond OPTIONS` (iproute2 6.1 ip/iplink_bond.c, bond_parse_opt):
each option into the kernel's value, with iproute2's errors and statuses; the
stack (`stack/bond.py`, through rtnl's `BondOps`) applies them or refuses.

Options are matched by prefix, in iproute2's order; a mode, policy or rate is
its name or its index. `updelay`/`downdelay` are milliseconds (the kernel wants
multiples of miimon). `primary`/`active_slave` name devices of the namespace.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import ip_to_int
from netplex.shell.iproute_fmt import IpError, invarg, matches, need_arg, parse_u32
from netplex.stack.bond import AD_SELECT, ARP_ALL_TARGETS, BOND_MODES, FAIL_OVER_MAC, LACP_RATE, PRIMARY_RESELECT

__all__ = ["parse_bond", "BOND_USAGE"]

BOND_USAGE = """Usage: ... bond [ mode BONDMODE ] [ active_slave SLAVE_DEV ]
                [ clear_active_slave ] [ miimon MIIMON ]
                [ updelay UPDELAY ] [ downdelay DOWNDELAY ]
                [ peer_notify_delay DELAY ]
                [ use_carrier USE_CARRIER ]
                [ arp_interval ARP_INTERVAL ]
                [ arp_validate ARP_VALIDATE ]
                [ arp_all_targets ARP_ALL_TARGETS ]
                [ arp_ip_target [ ARP_IP_TARGET, ... ] ]
                [ ns_ip6_target [ NS_IP6_TARGET, ... ] ]
                [ primary SLAVE_DEV ]
                [ primary_reselect PRIMARY_RESELECT ]
                [ fail_over_mac FAIL_OVER_MAC ]
                [ xmit_hash_policy XMIT_HASH_POLICY ]
                [ resend_igmp RESEND_IGMP ]
                [ num_grat_arp|num_unsol_na NUM_GRAT_ARP|NUM_UNSOL_NA ]
                [ all_slaves_active ALL_SLAVES_ACTIVE ]
                [ min_links MIN_LINKS ]
                [ lp_interval LP_INTERVAL ]
                [ packets_per_slave PACKETS_PER_SLAVE ]
                [ tlb_dynamic_lb TLB_DYNAMIC_LB ]
                [ lacp_rate LACP_RATE ]
                [ lacp_active LACP_ACTIVE]
                [ ad_select AD_SELECT ]
                [ ad_user_port_key PORTKEY ]
                [ ad_actor_sys_prio SYSPRIO ]
                [ ad_actor_system LLADDR ]
                [ arp_missed_max MISSED_MAX ]

BONDMODE := balance-rr|active-backup|balance-xor|broadcast|802.3ad|balance-tlb|balance-alb
ARP_VALIDATE := none|active|backup|all|filter|filter_active|filter_backup
ARP_ALL_TARGETS := any|all
PRIMARY_RESELECT := always|better|failure
FAIL_OVER_MAC := none|active|follow
XMIT_HASH_POLICY := layer2|layer2+3|layer3+4|encap2+3|encap3+4|vlan+srcmac
LACP_ACTIVE := off|on
LACP_RATE := slow|fast
AD_SELECT := stable|bandwidth|count
"""

# iproute2 6.1's tables: the position is the kernel's value
_XMIT = ("layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac")
_ARP_VALIDATE = ("none", "active", "backup", "all", "filter", "filter_active", "filter_backup")
_LACP_ACTIVE = ("off", "on")
_TABLES: dict[str, tuple[str, ...]] = {
    "mode": BOND_MODES, "arp_validate": _ARP_VALIDATE, "arp_all_targets": ARP_ALL_TARGETS,
    "primary_reselect": PRIMARY_RESELECT, "fail_over_mac": FAIL_OVER_MAC, "xmit_hash_policy": _XMIT,
    "lacp_rate": LACP_RATE, "lacp_active": _LACP_ACTIVE, "ad_select": AD_SELECT,
}
# bond_parse_opt's order (matches() takes the first option a prefix fits) and each number's limit
_NUMBERS: dict[str, int] = {
    "miimon": 0xFFFFFFFF, "updelay": 0xFFFFFFFF, "downdelay": 0xFFFFFFFF, "peer_notify_delay": 0xFFFFFFFF,
    "use_carrier": 0xFF, "arp_interval": 0xFFFFFFFF, "resend_igmp": 0xFFFFFFFF, "num_grat_arp": 0xFF,
    "all_slaves_active": 0xFF, "min_links": 0xFFFFFFFF, "lp_interval": 0xFFFFFFFF,
    "packets_per_slave": 0xFFFFFFFF, "ad_user_port_key": 0xFFFF, "ad_actor_sys_prio": 0xFFFF,
    "tlb_dynamic_lb": 0xFF, "arp_missed_max": 0xFF,
}
_ORDER = ("mode", "active_slave", "clear_active_slave", "miimon", "updelay", "downdelay", "peer_notify_delay",
          "use_carrier", "arp_interval", "arp_ip_target", "ns_ip6_target", "arp_validate", "arp_all_targets",
          "primary", "primary_reselect", "fail_over_mac", "xmit_hash_policy", "resend_igmp", "num_grat_arp",
          "num_unsol_na", "all_slaves_active", "min_links", "lp_interval", "packets_per_slave", "lacp_rate",
          "lacp_active", "ad_select", "ad_user_port_key", "ad_actor_sys_prio", "ad_actor_system",
          "tlb_dynamic_lb", "arp_missed_max", "help")
# iproute2 word -> BondParams field
_FIELD = {"peer_notify_delay": "peer_notif_delay", "num_unsol_na": "num_grat_arp",
          "xmit_hash_policy": "xmit_hash_policy"}


def _index(table: tuple[str, ...], word: str) -> int:
    """get_index: a number in range, or a name of the table; -1 when neither."""
    if word.lstrip("-").isdigit() and 0 <= int(word) < len(table):
        return int(word)
    return table.index(word) if word in table else -1


def parse_bond(ns: Any, args: list[str]) -> dict[str, Any]:
    """bond_parse_opt: the options as BondParams fields (milliseconds for the delays)."""
    opts: dict[str, Any] = {}
    i = 0
    while i < len(args):
        a = args[i]
        opt = next((o for o in _ORDER if matches(a, o)), None)
        if opt is None:
            raise IpError(f'bond: unknown command "{a}"?\n{BOND_USAGE}', 1)
        if opt == "help":
            raise IpError(BOND_USAGE, 1)
        if opt == "clear_active_slave":
            raise IpError("netplex: bond clear_active_slave is not supported", 2)
        if opt == "arp_ip_target":   # NEXT_ARG, then get_addr32 of each comma-separated word (16 at most)
            i += 1
            targets = []
            for t in [w for w in need_arg(args, i).split(",") if w][:16]:
                try:
                    targets.append(ip_to_int(t))
                except ValueError:
                    raise IpError(f'Error: an IP address is expected rather than "{t}".', 1) from None
            opts["arp_ip_target"] = targets
            i += 1
            continue
        i += 1
        v = need_arg(args, i)
        if opt in _TABLES:
            n = _index(_TABLES[opt], v)
            if n < 0:
                raise invarg(f"invalid {opt}", v)
            if opt == "xmit_hash_policy" and n == 5:
                raise IpError("netplex: bond xmit_hash_policy vlan+srcmac is not supported", 2)
            if opt == "arp_validate" and n > 3:
                raise IpError(f"netplex: bond arp_validate {_ARP_VALIDATE[n]} is not supported", 2)
            opts[opt] = n
        elif opt in _NUMBERS or opt == "num_unsol_na":
            n = parse_u32(v)
            limit = _NUMBERS.get(opt, 0xFF)
            if n is None or n > limit:
                name = "num_grat_arp|num_unsol_na" if opt in ("num_grat_arp", "num_unsol_na") else opt
                raise invarg(f"invalid {name}", v)
            opts[_FIELD.get(opt, opt)] = n
        elif opt in ("primary", "active_slave"):
            if v not in ns.devices:
                raise IpError(f'Cannot find device "{v}"', 1)
            if opt == "active_slave":
                raise IpError("netplex: bond active_slave is not supported; use primary", 2)
            opts["primary"] = v
        elif opt == "ad_actor_system":
            try:
                mac = bytes(int(x, 16) for x in v.split(":"))
            except ValueError:
                raise IpError(f'"{v}" is invalid lladdr.', 1) from None
            opts["ad_actor_system"] = mac
        elif opt == "ns_ip6_target":
            raise IpError("netplex: bond ns_ip6_target is not supported", 2)
        i += 1
    return opts
