"""FRR's verdict on a configuration line netplex does not apply: `% Command incomplete` or
`% Unknown command` (lib/command_match.c's MATCHER_INCOMPLETE / MATCHER_NO_MATCH as
vtysh prints them, status 1), or neither (a command FRR has and netplex refuses).

The skeletons below are FRR 8.4's commands of the nodes netplex models (bgpd's
bgp_vty.c, bgp_route.c; lib's command.c), keywords and typed values, with the
unique-prefix abbreviation FRR's matcher allows. A line that is a strict prefix of a
skeleton, matching no skeleton whole, is incomplete. A line is unknown only when it
fails on a *value* after keywords that leave FRR no other reading (`remote-as foo`,
`network 10.0.0.0/33`); a line that fails on a keyword may be one of FRR's many
commands netplex has no skeleton for, so netplex refuses it in its own words instead
of guessing. (Checked against FRR 8.4.4's vtysh on the twin: tests/frr/test_bgp_sim.py.)
"""
from __future__ import annotations

from netplex.frr.config import parse_prefix

__all__ = ["verdict"]

_CONFIG = [
    "router bgp <asn>", "router bgp", "hostname <word>", "frr defaults <word>", "ip route <prefix> <word>",
]
_BGP = [
    "bgp router-id <ip>", "bgp log-neighbor-changes", "bgp ebgp-requires-policy", "bgp network import-check",
    "bgp bestpath as-path multipath-relax", "bgp bestpath compare-routerid", "bgp deterministic-med",
    "bgp default local-preference <num>", "bgp default ipv4-unicast",
    "neighbor <word> remote-as <remote-as>", "neighbor <word> peer-group", "neighbor <word> peer-group <word>",
    "neighbor <word> description <word>", "neighbor <word> timers <num> <num>",
    "neighbor <word> timers connect <num>", "neighbor <word> shutdown", "neighbor <word> passive",
    "neighbor <word> update-source <word>", "neighbor <word> route-map <word> <direction>",
    "timers bgp <num> <num>", "address-family ipv4 unicast", "address-family ipv4",
]
_AF = [
    "network <prefix>", "redistribute <word>", "maximum-paths <num>", "maximum-paths ibgp <num>",
    "neighbor <word> activate", "neighbor <word> next-hop-self", "neighbor <word> route-map <word> <direction>",
]
# a node's commands and its parents' (vtysh tries the parent nodes as FRR's CLI does)
SKELETONS: dict[str, list[tuple[str, ...]]] = {
    "config": [tuple(s.split()) for s in _CONFIG],
    "bgp": [tuple(s.split()) for s in _BGP + _CONFIG],
    "bgp-ipv4": [tuple(s.split()) for s in _AF + _BGP + _CONFIG],
}


def _value_ok(kind: str, word: str) -> bool:
    if kind == "<word>":
        return True
    if kind == "<num>":
        return word.isdigit()
    if kind == "<asn>":
        return word.isdigit() and 1 <= int(word) <= 4294967295
    if kind == "<remote-as>":
        return word in ("internal", "external") or (word.isdigit() and 1 <= int(word) <= 4294967295)
    if kind == "<direction>":
        return word in ("in", "out")
    if kind == "<ip>":
        return parse_prefix(word + "/32") is not None
    assert kind == "<prefix>"
    return parse_prefix(word) is not None or parse_prefix(word + "/32") is not None


def verdict(node: str, line: str) -> str | None:
    """"incomplete", "unknown" or None for a line of config node `node` ("config", "bgp",
    "bgp-ipv4": netplex.frr.config's nodes) that netplex's parser did not take."""
    skeletons = SKELETONS.get(node)
    if skeletons is None:
        return None
    words = line.split()
    if words and words[0] == "no":
        words = words[1:]
    if not words:
        return "incomplete"
    value_miss = False
    prefix_of = False
    for sk in skeletons:
        ok = True
        for i, w in enumerate(words):
            if i >= len(sk):
                ok = False
                break
            key = sk[i]
            if key.startswith("<"):
                if not _value_ok(key, w):
                    value_miss = True           # every word before it matched
                    ok = False
                    break
            elif not key.startswith(w):
                ok = False
                break
        if ok:
            if len(words) == len(sk):
                return None            # a whole FRR command: netplex refuses it in its own words
            prefix_of = True
    if prefix_of:
        return "incomplete"
    if value_miss:
        return "unknown"
    return None
