"""`ebtables`: the bridge filter table's rules (ebtables 1.8.9, the nf_tables variant Debian
installs; ebtables(8)), over `stack/netfilter/ebtables.py`.

Supported: the filter table's INPUT, FORWARD and OUTPUT chains; `-A`, `-I CHAIN [N]`,
`-D CHAIN N|RULE`, `-F [CHAIN]`, `-Z [CHAIN]`, `-L [CHAIN] [--Lc] [--Ln] [-Z]`, `-P CHAIN
ACCEPT|DROP`, `-V`; rules of `-p [!] PROTO|0xNNNN|LENGTH`, `-s`/`-d [!] MAC[/MASK]|Unicast|
Multicast|Broadcast|BGA`, `-i`/`-o [!] NAME[+]`, `-j ACCEPT|DROP|CONTINUE|RETURN` (none:
CONTINUE). Errors as ebtables prints them, with its status (1 for what the kernel table
refuses, 2 for the parser's). Refused with netplex's words: the nat and broute tables,
user chains (-N/-X/-E), and extensions (--logical-in/out, --ip-*, --arp-*, --vlan-*,
marks, log, ...).
"""
from __future__ import annotations

from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported
from netplex.stack.netfilter.ebtables import CHAINS, ETH_P_802_3_MIN, ETHERTYPES, FULL_MASK, TARGETS, Ebtables, EbtRule

__all__ = ["ebtables"]

VERSION = "ebtables 1.8.9 (nf_tables)"
_NAMED_MACS = {
    "unicast": (b"\x00" * 6, b"\x01" + b"\x00" * 5),
    "multicast": (b"\x01" + b"\x00" * 5, b"\x01" + b"\x00" * 5),
    "broadcast": (b"\xff" * 6, FULL_MASK),
    "bga": (b"\x01\x80\xc2\x00\x00\x00", FULL_MASK),
}
_COMMANDS = {"-A": "A", "--append": "A", "-I": "I", "--insert": "I", "-D": "D", "--delete": "D",
             "-F": "F", "--flush": "F", "-L": "L", "--list": "L", "-P": "P", "--policy": "P",
             "-Z": "Z", "--zero": "Z", "-V": "V", "--version": "V"}
_MATCHES = {"-p": "p", "--protocol": "p", "--proto": "p", "-s": "s", "--source": "s", "--src": "s",
            "-d": "d", "--destination": "d", "--dst": "d", "-i": "i", "--in-interface": "i", "--in-if": "i",
            "-o": "o", "--out-interface": "o", "--out-if": "o", "-j": "j", "--jump": "j"}
_REFUSED = ("-N", "--new-chain", "-X", "--delete-chain", "-E", "--rename-chain", "-C", "--change-counters",
            "-c", "--set-counters", "--init-table", "--atomic-file", "--atomic-init", "--atomic-save",
            "--atomic-commit", "--logical-in", "--logical-out")


class _Err(Exception):
    def __init__(self, message: str, status: int = 2, usage: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.usage = usage


def _fail(e: _Err) -> Result:
    if not e.usage:
        return Result(e.status, "", f"ebtables: {e}\n")
    return Result(e.status, "", f"ebtables v1.8.9 (nf_tables): {e}\n"
                                "Try `ebtables -h' or 'ebtables --help' for more information.\n")


def _proto(text: str) -> int | None:
    if text.upper() == "LENGTH":
        return None
    for value, names in ETHERTYPES.items():
        if any(n.lower() == text.lower() for n in names):
            return value
    try:
        value = int(text, 16)
    except ValueError:
        raise _Err(f"Problem with the specified Ethernet protocol '{text}', perhaps /etc/ethertypes is missing") \
            from None
    if value < ETH_P_802_3_MIN:
        raise _Err("Sorry, protocols have values above or equal to 0x0600")
    return value


def _ether_aton(text: str) -> bytes:
    """ether_aton: six groups of one or two hex digits."""
    parts = text.split(":")
    if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
        raise ValueError(text)
    return bytes(int(p, 16) for p in parts)


def _mac(text: str, which: str) -> tuple[bytes, bytes]:
    named = _NAMED_MACS.get(text.lower())
    if named is not None:
        return named
    addr, _, mask = text.partition("/")
    try:
        mac = _ether_aton(addr)
        m = _ether_aton(mask) if mask else FULL_MASK
    except ValueError:
        raise _Err(f"Problem with specified {which} mac '{text}'") from None
    return bytes(a & b for a, b in zip(mac, m)), m


def _parse_rule(args: list[str]) -> EbtRule:
    """The rule's matches and target from what follows the command and its chain."""
    rule = EbtRule(target="CONTINUE")
    seen: set[str] = set()
    i = 0
    while i < len(args):
        a = args[i]
        pre_inv = a == "!"
        if pre_inv:
            i += 1
            a = args[i] if i < len(args) else "(null)"
        if a in _REFUSED or a.startswith(("--ip", "--arp", "--vlan", "--mark", "--log", "--pkttype", "--stp",
                                          "--among", "--limit", "--nflog", "--redirect", "--snat", "--dnat")):
            raise _Err(f"netplex: ebtables {a} is not supported")
        opt = _MATCHES.get(a)
        if opt is None:
            raise _Err(f"Bad argument : '{a}'")
        if opt in seen:
            raise _Err("Multiple use of same option not allowed")
        seen.add(opt)
        i += 1
        inv = pre_inv
        if opt != "j" and i < len(args) and args[i] == "!":
            inv = True
            i += 1
        if i >= len(args):
            raise _Err("Unknown argument: '(null)'")
        val = args[i]
        i += 1
        if opt == "j":
            if val not in TARGETS:
                raise _Err(f"Chain '{val}' does not exist")
            rule.target = val
        elif opt == "p":
            rule.proto, rule.proto_set, rule.proto_inv = _proto(val), True, inv
        elif opt == "s":
            rule.src, rule.src_inv = _mac(val, "source"), inv
        elif opt == "d":
            rule.dst, rule.dst_inv = _mac(val, "destination"), inv
        elif opt == "i":
            rule.iif, rule.iif_inv = val, inv
        else:
            rule.oif, rule.oif_inv = val, inv
    return rule


def _table(ctx: Context, create: bool) -> Ebtables:
    ns = ctx.node
    assert ns is not None
    ebt = ns.ebtables  # type: ignore[attr-defined]
    if ebt is None:
        ebt = Ebtables()
        if create:
            ns.ebtables = ebt  # type: ignore[attr-defined]
    return ebt


def _chain(name: str | None) -> str:
    if name is None or name not in CHAINS:
        raise _Err("No chain/target/match by that name", 1, usage=False)
    return name


@command("ebtables")
def ebtables(ctx: Context, argv: list[str]) -> Result:
    try:
        return _run(ctx, argv[1:])
    except _Err as e:
        if str(e).startswith("netplex: "):
            return Result(2, "", f"{e}\n")
        return _fail(e)


def _run(ctx: Context, args: list[str]) -> Result:
    if not args:
        return unsupported("ebtables without a command", "its help text")
    table = "filter"
    cmd = ""
    chain: str | None = None
    rest: list[str] = []
    list_opts: set[str] = set()
    zero_too = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-t", "--table"):
            if i + 1 >= len(args):
                raise _Err("Unknown argument: '(null)'")
            table = args[i + 1]
            i += 2
            continue
        if a in ("--Lc", "--Ln", "--Lx", "--Lmac2"):
            if a in ("--Lx", "--Lmac2"):
                raise _Err(f"netplex: ebtables {a} is not supported")
            list_opts.add(a)
            i += 1
            continue
        if a in _COMMANDS and not cmd:
            cmd = _COMMANDS[a]
            i += 1
            if cmd in ("A", "I", "D", "P") or (cmd in ("F", "L", "Z") and i < len(args)
                                                and not args[i].startswith("-")):
                if i >= len(args):
                    raise _Err("Unknown argument: '(null)'")
                chain = args[i]
                i += 1
            continue
        if a in ("-Z", "--zero") and cmd == "L":
            zero_too = True
            i += 1
            continue
        if a in _REFUSED:
            raise _Err(f"netplex: ebtables {a} is not supported")
        if not cmd and a in _MATCHES:
            raise _Err("No command specified")
        rest.append(a)
        i += 1
    if table != "filter":
        if table in ("nat", "broute"):
            raise _Err(f"netplex: ebtables -t {table} is not supported")
        return Result(3, "", f"ebtables v1.8.9 (nf_tables): table '{table}' does not exist\n"
                             "Perhaps ebtables or your kernel needs to be upgraded.\n")
    if not cmd:
        raise _Err("No command specified")
    if cmd == "V":
        return Result(0, VERSION + "\n")
    if cmd == "L":
        if rest:
            raise _Err(f"Bad argument : '{rest[0]}'")
        ebt = _table(ctx, create=zero_too)
        if chain is not None and chain not in CHAINS:
            return Result(1, "", f"ebtables v1.8.9 (nf_tables): chain `{chain}' in table `filter' is incompatible, "
                                 "use 'nft' tool.\n")
        chains = (chain,) if chain is not None else CHAINS
        text = ebt.listing(chains, "--Lc" in list_opts)
        if "--Ln" in list_opts:
            text = _numbered(text)
        if zero_too:
            _zero(ebt, chains)
        return Result(0, text)
    if cmd == "P":
        name = _chain(chain)
        if len(rest) != 1:
            raise _Err("Unknown argument: '(null)'" if not rest else f"Bad argument : '{rest[1]}'")
        pol = rest[0]
        if pol == "RETURN":
            raise _Err("Policy RETURN only allowed for user defined chains")
        if pol not in ("ACCEPT", "DROP"):
            raise _Err(f"Wrong policy '{pol}'" if pol == "CONTINUE" else f"Unknown policy '{pol}'")
        ebt = _table(ctx, create=True)
        ebt.policy[name] = pol
        return _settled(ctx, ebt)
    if cmd in ("F", "Z"):
        if rest:
            raise _Err(f"Bad argument : '{rest[0]}'")
        chains = (_chain(chain),) if chain is not None else CHAINS
        ebt = _table(ctx, create=False)
        for c in chains:
            if cmd == "F":
                ebt.rules[c].clear()
        if cmd == "Z":
            _zero(ebt, chains)
        return _settled(ctx, ebt)
    # -A, -I, -D
    position = None
    if cmd in ("I", "D") and rest and not rest[0].startswith("-") and rest[0] != "!":
        try:
            position = int(rest[0])
        except ValueError:
            raise _Err(f"Bad argument : '{rest[0]}'") from None
        if position < 1:
            raise _Err(f"Invalid rule number `{rest[0]}'" if cmd == "I"
                       else f"Problem with the specified rule number(s) '{rest[0]}'")
        rest = rest[1:]
        if cmd == "D" and rest:
            raise _Err(f"Bad argument : '{rest[0]}'")
    rule = _parse_rule(rest)
    name = _chain(chain)
    ebt = _table(ctx, create=True)
    rules = ebt.rules[name]
    if cmd == "A":
        rules.append(rule)
    elif cmd == "I":
        at = 1 if position is None else position
        if at > len(rules) + 1:
            raise _Err("Index of insertion too big", 1, usage=False)
        rules.insert(at - 1, rule)
    elif position is not None:
        if position > len(rules):
            raise _Err("Index of deletion too big", 1, usage=False)
        del rules[position - 1]
    else:
        key = rule.key()
        for k, r in enumerate(rules):
            if r.key() == key:
                del rules[k]
                break
        else:
            raise _Err("Bad rule (does a matching rule exist in that chain?)", 1, usage=False)
    return _settled(ctx, ebt)


def _numbered(text: str) -> str:
    out, n = [], 0
    for line in text.splitlines(keepends=True):
        if line.startswith("Bridge chain:"):
            n = 0
        elif line.strip() and not line.startswith("Bridge table:"):
            n += 1
            line = f"{n} {line}"
        out.append(line)
    return "".join(out)


def _zero(ebt: Ebtables, chains: tuple[str, ...]) -> None:
    for c in chains:
        for r in ebt.rules[c]:
            r.pcnt = r.bcnt = 0


def _settled(ctx: Context, ebt: Ebtables) -> Result:
    """The table after a change: kept while it does anything (an empty one costs the bridge nothing)."""
    ns = ctx.node
    assert ns is not None
    ns.ebtables = None if ebt.empty() else ebt  # type: ignore[attr-defined]
    ns.config_changed()  # type: ignore[attr-defined]
    return Result(0, "")
