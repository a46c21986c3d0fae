"""`iptables`, `iptables-save`, `iptables-restore` (and their -nft / -legacy names), and `dmesg`.

As iptables 1.8.9 with the nf_tables backend (Debian 12) parses, prints and
fails: getopt_long-style options (bundled short options, `--opt=value`,
unique prefixes of long options), `!` before an option, extensions loaded
with `-m`, implicitly by `-p` when one of their options appears, and by
`-j`. Errors carry iptables' exact message and exit status (2 with the
`Try ...` hint for parameter problems; 1 for the kernel's refusals, 4 for
nf_tables batch failures); a failing command changes nothing.

iptables-save's date line reads the simulated clock, taken as seconds since
the Unix epoch (a run starts at `Thu Jan  1 00:00:00 1970`), so output is
deterministic. `dmesg` prints the namespace's kernel log (`ns.kmsg`, lines
LOG writes) with `[    T.TTTTTT] ` timestamps from the same clock.
"""
from __future__ import annotations

import copy
from typing import Any

import netplex.stack.netfilter  # noqa: F401  (registers the extensions)
from netplex.shell.registry import Context, FileReadError, command
from netplex.shell.result import Result, unsupported
from netplex.stack.netfilter.core import (
    MATCHES,
    TARGETS,
    Opt,
    OptSpec,
    RuleInfo,
    Target,
    XtError,
    netfilter_of,
)
from netplex.stack.netfilter.ip6 import (
    MATCHES6,
    TARGETS6,
    V6_SHARED_MATCHES,
    V6_SHARED_TARGETS,
    Rule6,
    netfilter6_of,
    parse_addr6_mask,
)
from netplex.stack.netfilter.parse import parse_addr_mask, parse_proto, strtoui
from netplex.stack.netfilter.rule import (
    HOSTS,
    INV_DSTIP,
    INV_FRAG,
    INV_PROTO,
    INV_SRCIP,
    INV_VIA_IN,
    INV_VIA_OUT,
    NETWORKS,
    PROTO_NAMES,
    STANDARD,
    T_EXT,
    T_GOTO,
    T_JUMP,
    Rule,
    ip_str,
    mask_text,
)
from netplex.stack.netfilter.table import BUILTIN_CHAINS, Chain, Table

VERSION = "v1.8.9 (nf_tables)"
HINT = "Try `{prog} -h' or '{prog} --help' for more information.\n"
MAX_CHAIN_NAME = 29
HOOK_OF_CHAIN = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

# getopt_long table: long name → (short, nargs); nargs 0, 1 or "?" (optional, next word if not an option)
CORE_LONG: dict[str, tuple[str, Any]] = {
    "append": ("A", 1), "check": ("C", 1), "delete": ("D", 1), "insert": ("I", 1), "replace": ("R", 1),
    "list": ("L", "?"), "list-rules": ("S", "?"), "flush": ("F", "?"), "zero": ("Z", "?"),
    "new-chain": ("N", 1), "new": ("N", 1), "delete-chain": ("X", "?"), "rename-chain": ("E", 1),
    "policy": ("P", 1), "source": ("s", 1), "src": ("s", 1), "destination": ("d", 1), "dst": ("d", 1),
    "protocol": ("p", 1), "in-interface": ("i", 1), "jump": ("j", 1), "table": ("t", 1), "match": ("m", 1),
    "numeric": ("n", 0), "out-interface": ("o", 1), "verbose": ("v", 0), "wait": ("w", "?"),
    "wait-interval": ("W", 1), "exact": ("x", 0), "fragments": ("f", 0), "fragment": ("f", 0),
    "version": ("V", 0), "help": ("h", 0), "line-numbers": ("0", 0), "modprobe": ("M", 1),
    "set-counters": ("c", 1), "goto": ("g", 1), "ipv4": ("4", 0), "ipv6": ("6", 0),
}
CORE_SHORT: dict[str, Any] = {v[0]: v[1] for v in CORE_LONG.values()}
COMMANDS = "ACDIRLSFZNXEPhV"
RULE_OPTS = "sdpiojgmfc"
INVERTIBLE = "sdpiof"
# options each command accepts besides the rule options (iptables' commands_v_options, simplified)
LIST_OK = set("tnvxw0WZLM")


def fmt_date(now_ns: int) -> str:
    """ctime(3) of CLOCK_REALTIME in ns (World.realtime_ns: the fixed epoch plus simulated time), UTC."""
    import time
    t = time.gmtime(now_ns // 1_000_000_000)
    return time.strftime("%a %b ", t) + f"{t.tm_mday:2d}" + time.strftime(" %H:%M:%S %Y", t)


class Loaded:
    """An extension loaded on the command line, and the options given to it."""

    __slots__ = ("cls", "is_target", "opts", "seen", "specs")

    def __init__(self, cls: Any, is_target: bool) -> None:
        self.cls = cls
        self.is_target = is_target
        self.opts: list[Opt] = []
        self.specs: dict[str, OptSpec] = {}
        for sp in cls.options:
            self.specs[sp.name] = sp
            for a in sp.also:
                self.specs[a] = sp
        self.seen: set[str] = set()


class Cmd:
    """One parsed iptables command line."""

    def __init__(self) -> None:
        self.cmd = ""
        self.cmd2 = ""            # -Z with -L
        self.chain = ""
        self.rulenum = 0
        self.newname = ""
        self.policy = ""
        self.table = "filter"
        self.verbose = 0
        self.numeric = False
        self.exact = False
        self.linenumbers = False
        self.opts: dict[str, tuple[bool, str]] = {}   # s d p i o f j g c → (invert, value)
        self.exts: list[Loaded] = []
        self.target: Loaded | None = None
        self.jump = ""
        self.goto = False
        self.pcnt = self.bcnt = 0
        self.family = 4           # 6: ip6tables (rules stored and printed; no IPv6 data path)
        self.table_given = False  # -t seen (iptables-restore refuses it)
        self.wait = self.wait_interval = False
        self.warnings: list[str] = []   # printed on standard error; the command still runs


def extensions(family: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The matches and targets `-m`/`-p`/`-j` load: ip6tables gets the family-independent ones and its own."""
    if family == 4:
        return MATCHES, TARGETS
    return ({**{k: v for k, v in MATCHES.items() if k in V6_SHARED_MATCHES}, **MATCHES6},
            {**{k: v for k, v in TARGETS.items() if k in V6_SHARED_TARGETS}, **TARGETS6})


def not_in_v6(kind: str, name: str) -> XtError:
    return XtError(f"netplex: ip6tables {kind} `{name}' is not supported (the simulator has no IPv6 data path; "
                   "ip6tables rules are stored and printed only)", 2, raw=True)


def err(msg: str, status: int = 2) -> XtError:
    return XtError(msg, status)


def kerr(msg: str, status: int = 1) -> XtError:
    """A refusal reported as the kernel's error string (no version prefix, no hint)."""
    return XtError(msg, status, raw=True)


# -- command-line parsing ---------------------------------------------------
def parse_args(argv: list[str], table_default: str = "filter", family: int = 4) -> Cmd:
    c = Cmd()
    c.family = family
    matches, targets = extensions(family)
    c.table = table_default
    i = 0
    n = len(argv)
    invert = False

    def add_command(ch: str) -> None:
        if c.cmd:
            if {c.cmd, ch} == {"L", "Z"}:
                c.cmd2 = "Z"
                if ch == "L":
                    c.cmd = "L"
                return
            raise err(f"Cannot use -{ch} with -{c.cmd}")
        c.cmd = ch

    def optional_word() -> str | None:
        nonlocal i
        if i < n and argv[i] and argv[i][0] != "-" and argv[i] != "!":
            i += 1
            return argv[i - 1]
        return None

    def proto_ext() -> type | None:
        p = c.opts.get("p")
        if p is None:
            return None
        name = p[1].lower()
        num = strtoui(name, 0, 255)
        if num is not None:
            name = PROTO_NAMES.get(num, name)
        if name == "ipv6-icmp":
            name = "icmp6"
        cls = matches.get(name)
        if cls is None or any(e.cls is cls for e in c.exts):
            return None
        return cls

    def core_option(ch: str, val: str | None, tok: str) -> None:
        nonlocal invert, i
        if invert and ch not in INVERTIBLE:
            if ch in COMMANDS:
                raise err("unexpected '!' flag")
            if ch == "m":
                raise err("unexpected ! flag before --match")
            if ch != "t":
                raise err(f"cannot have ! before -{ch}")
        if ch in COMMANDS:
            add_command(ch)
            if ch in "ACDIRNEP":
                c.chain = val or ""
            if ch == "N" or ch == "E":
                check_chain_name(c.chain, new=ch == "N")
            if ch in "DI":
                w = optional_word()
                if w is not None:
                    num = strtoui(w)
                    if num is None or num < 1:
                        raise err(f"Invalid rule number `{w}'")
                    c.rulenum = num
            elif ch == "R":
                w = optional_word()
                num = strtoui(w) if w is not None else None
                if num is None or num < 1:
                    raise err("-R requires a rule number" if w is None else f"Invalid rule number `{w}'")
                c.rulenum = num
            elif ch in "LSZFX":
                w = optional_word() if val is None else val
                if w is not None:
                    c.chain = w
                    if ch in "LSZ":
                        w2 = optional_word()
                        if w2 is not None:
                            num = strtoui(w2)
                            if num is None:
                                raise err(f"Invalid rule number `{w2}'")
                            c.rulenum = num
            elif ch == "E":
                w = optional_word()
                if w is None:
                    raise err("-E requires old-chain-name and new-chain-name")
                check_chain_name(w, new=True)
                c.newname = w
            elif ch == "P":
                w = optional_word()
                if w is None:
                    raise err("-P requires a chain and a policy")
                c.policy = w
            return
        if ch == "t":
            if invert:
                raise err("unexpected ! flag before --table")
            c.table = val or ""
            c.table_given = True
            return
        if ch == "v":
            c.verbose += 1
            return
        if ch == "n":
            c.numeric = True
            return
        if ch == "x":
            c.exact = True
            return
        if ch == "0":
            c.linenumbers = True
            return
        if ch in "w":
            c.wait = True
            if val is None:
                optional_word()
            return
        if ch == "W":
            c.wait_interval = True
            return
        if ch in "M46":
            return
        if ch == "m":
            name = val or ""
            cls = matches.get(name)
            if cls is None and family == 6 and name in MATCHES:
                raise not_in_v6("match", name)
            if cls is None:
                raise err(f"Couldn't load match `{name}':No such file or directory\n")
            c.exts.append(Loaded(cls, False))
            return
        if ch in "jg":
            if ch in c.opts or "j" in c.opts or "g" in c.opts:
                raise err("multiple -j flags not allowed" if ch == "j" else "multiple -g flags not allowed")
            check_target_name(val or "")
            c.opts[ch] = (False, val or "")
            c.jump = val or ""
            c.goto = ch == "g"
            if ch == "j" and c.jump not in STANDARD and c.jump in targets:
                c.target = Loaded(targets[c.jump], True)
            elif ch == "j" and family == 6 and c.jump in TARGETS:
                raise not_in_v6("target", c.jump)
            return
        if ch == "c":
            w = optional_word()
            pc, bc = strtoui(val or ""), strtoui(w or "") if w is not None else None
            if w is None:
                raise err("-c requires packet and byte counter")
            if pc is None:
                raise err("-c packet counter not numeric")
            if bc is None:
                raise err("-c byte counter not numeric")
            c.pcnt, c.bcnt = pc, bc
            c.opts["c"] = (False, "")
            return
        # s d p i o f
        if ch == "f" and family == 6:
            raise err("`-f' is not supported in IPv6, use -m frag instead")
        if ch in c.opts:
            raise err(f"multiple -{ch} flags not allowed")
        c.opts[ch] = (invert, val if val is not None else "")
        invert = False

    def ext_candidates() -> list[tuple[Loaded, str, OptSpec]]:
        out = []
        seq = list(c.exts)
        if c.target is not None:
            seq.append(c.target)
        for le in reversed(seq):
            for name, sp in le.specs.items():
                out.append((le, name, sp))
        return out

    def long_option(tok: str) -> None:
        nonlocal i, invert
        body = tok[2:]
        name, eq, attached = body.partition("=")
        # extensions first (newest first), then the core options; exact names win over prefixes
        while True:
            cands = ext_candidates()
            hit = next(((le, sp) for le, nm, sp in cands if nm == name), None)
            core = CORE_LONG.get(name)
            if hit is None and core is None:
                pre = {(id(le), sp.name): (le, sp) for le, nm, sp in cands if nm.startswith(name)}
                core_pre = {v for k, v in CORE_LONG.items() if k.startswith(name)}
                if len(pre) + len(core_pre) == 1:
                    if pre:
                        hit = next(iter(pre.values()))
                    else:
                        core = next(iter(core_pre))
            if hit is not None:
                le, sp = hit
                args: list[str] = []
                if sp.nargs == 0:
                    if eq:
                        raise err(f"option '--{sp.name}' doesn't allow an argument")
                else:
                    if eq:
                        args.append(attached)
                    elif sp.nargs == "?":
                        w = optional_word()
                        if w is not None:
                            args.append(w)
                    else:
                        if i >= n:
                            raise err(f'option "{tok}" requires an argument')
                        args.append(argv[i])
                        i += 1
                    if isinstance(sp.nargs, int):
                        while len(args) < sp.nargs:
                            if i >= n or argv[i].startswith("-") or argv[i] == "!":
                                raise err(f"--{sp.name} requires two args." if sp.nargs == 2 else
                                          f"--{sp.name} requires {sp.nargs} arguments" if sp.nargs > 1
                                          else f'option "{tok}" requires an argument')
                            args.append(argv[i])
                            i += 1
                if invert and not sp.invert:
                    raise err(f"{le.cls.name}: option \"--{sp.name}\" cannot be inverted.\n")
                le.opts.append(Opt(sp.name, invert, args))
                invert = False
                return
            if core is not None:
                short, nargs = core
                val = None
                if nargs == 1:
                    if eq:
                        val = attached
                    elif i < n:
                        val = argv[i]
                        i += 1
                    else:
                        raise err(f'option "{tok}" requires an argument')
                elif nargs == "?":
                    val = attached if eq else None
                core_option(short, val, tok)
                return
            cls = proto_ext()
            if cls is not None:
                c.exts.append(Loaded(cls, False))
                continue
            raise err(f'unknown option "{tok}"')

    while i < n:
        a = argv[i]
        i += 1
        if a == "!":
            if invert:
                raise err("multiple consecutive ! not allowed")
            invert = True
            continue
        if a.startswith("--") and len(a) > 2:
            long_option(a)
            continue
        if a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                ch = a[j]
                j += 1
                nargs = CORE_SHORT.get(ch)
                if nargs is None or ch == "0":
                    raise err(f'unknown option "{a}"' if len(a) == 2 else f"invalid option -- '{ch}'")
                if nargs == 0:
                    core_option(ch, None, a)
                    continue
                if j < len(a):
                    val: str | None = a[j:]
                elif nargs == 1:
                    if i >= n:
                        raise err(f'option "-{ch}" requires an argument')
                    val = argv[i]
                    i += 1
                else:
                    val = None
                core_option(ch, val, a)
                break
            continue
        raise swallowed_option_error(c) or XtError(f"Bad argument `{a}'\n", 2, raw=True)
    if invert:
        raise err("no command specified" if not c.cmd else "nothing appropriate following !")
    if not c.cmd:
        raise err("no command specified")
    if c.wait_interval and not c.wait:
        prog = "ip6tables" if family == 6 else "iptables"
        raise XtError(f"Ignoring deprecated --wait-interval option.\n{prog} {VERSION}: "
                      "--wait-interval only makes sense with --wait\n\n", 2, raw=True)
    if c.cmd == "P":
        check_nat_drop(c.table, c.policy)
    if c.cmd not in RULE_COMMANDS and c.chain:   # a rule's chain is checked after its addresses (build_rule)
        check_chain_length(c.chain)
    return c


RULE_COMMANDS = "ACDIR"


def check_nat_drop(table: str, verdict: str | None) -> None:
    """do_parse: DROP (a policy or a rule's target) is refused in the nat table."""
    if table == "nat" and verdict == "DROP":
        raise err('\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n')


def check_chain_length(name: str) -> None:
    """do_parse, after the options and the addresses: any command's chain name fits XT_EXTENSION_MAXNAMELEN."""
    if len(name) >= MAX_CHAIN_NAME:
        raise err(f"chain name `{name}' too long (must be under {MAX_CHAIN_NAME} chars)")


def swallowed_option_error(c: Cmd) -> XtError | None:
    """An extension option whose argument was the next option (`--dport -j ACCEPT`): iptables
    parses the value when it meets the option, so its error comes before the stray word's."""
    dashed = {a for le in c.exts for o in le.opts for a in o.args if a.startswith("-")}
    if not dashed:
        return None
    proto, inv = 0, False
    if "p" in c.opts:
        inv, text = c.opts["p"]
        try:
            proto = parse_proto(text)
        except XtError as e:
            return e
    info = RuleInfo(c.table, c.chain, proto, inv, None, None, c.family)
    for le in c.exts:
        try:
            le.cls.parse(le.opts, info)
        except XtError as e:
            if any(a in e.msg for a in dashed):
                return e
    return None


def check_target_name(name: str) -> None:
    """xshared.c parse_target: what -j / -g accept as a name."""
    if not name:
        raise err("Invalid target name (too short)")
    if len(name) >= MAX_CHAIN_NAME:
        raise err(f"Invalid target name `{name}' ({MAX_CHAIN_NAME - 1} chars max)")
    if any(ch.isspace() for ch in name):
        raise err(f"Invalid target name `{name}'")


def check_chain_name(name: str, new: bool) -> None:
    check_chain_length(name)
    if name.startswith("-"):
        raise err("chain name not allowed to start with `-'")
    if name.startswith("!"):
        raise err("chain name not allowed to start with `!'")
    if any(ch.isspace() for ch in name):
        raise err(f"Invalid chain name `{name}'")
    if new and (name in STANDARD or name == "QUEUE" or name in TARGETS):
        raise err("chain name may not clash with target name")


# -- building a rule ------------------------------------------------------------
def build_rule(c: Cmd, table: Table) -> Rule:
    """The rule of an -A/-C/-D/-I/-R command, its errors in do_parse's order: what the options loop parses
    as it meets them (protocol, interfaces, extension options), DROP in nat, the addresses (post_parse),
    the chain's name, -i/-o against the chain, then whether a jump's chain exists (nft_cmd_new)."""
    r = Rule6() if c.family == 6 else Rule()
    parse_addr = parse_addr6_mask if c.family == 6 else parse_addr_mask
    o = c.opts
    chain = c.chain
    if "p" in o:
        inv, v = o["p"]
        r.proto = parse_proto(v)
        if inv:
            if r.proto == 0:
                raise err("rule would never match protocol")
            r.inv |= INV_PROTO
    for key, attr, flag in (("i", "iniface", INV_VIA_IN), ("o", "outiface", INV_VIA_OUT)):
        if key in o:
            inv, v = o[key]
            if len(v) > 15:
                raise err(f"interface name `{v}' must be shorter than IFNAMSIZ (15)")
            if any(ch in "/ " for ch in v):
                c.warnings.append(f"Warning: weird character in interface `{v}' ('/' and ' ' are not "
                                  "allowed by the kernel).\n")
            setattr(r, attr, v)
            if inv:
                r.inv |= flag
    if "f" in o:
        r.frag = True
        if o["f"][0]:
            r.inv |= INV_FRAG
    info = RuleInfo(table.name, chain, r.proto, bool(r.inv & INV_PROTO),
                    frozenset({chain}) if chain in HOOK_OF_CHAIN else None, table.nf.ns, c.family)
    info.warnings = c.warnings      # an extension's warnings join the command's
    for le in c.exts:
        r.matches.append(le.cls.parse(le.opts, info))
    jump = c.jump
    if c.goto:
        r.tname, r.tkind = jump, T_GOTO
    elif jump in STANDARD:
        r.tname, r.tkind = jump, STANDARD[jump]
    elif c.target is not None:
        r.tname, r.tkind = c.target.cls.name, T_EXT
        r.tobj = c.target.cls.parse(c.target.opts, info)
    elif jump:
        r.tname, r.tkind = jump, T_JUMP
    check_nat_drop(table.name, jump)
    if "s" in o:
        inv, v = o["s"]
        r.src, r.smsk = parse_addr(v)
        if inv:
            r.inv |= INV_SRCIP
    if "d" in o:
        inv, v = o["d"]
        r.dst, r.dmsk = parse_addr(v)
        if inv:
            r.inv |= INV_DSTIP
    check_chain_length(chain)
    if "o" in o and chain in ("PREROUTING", "INPUT"):
        raise err(f"Can't use -o with {chain}\n")
    if "i" in o and chain in ("POSTROUTING", "OUTPUT"):
        raise err(f"Can't use -i with {chain}\n")
    if r.tkind in (T_JUMP, T_GOTO):
        if jump == "QUEUE" or jump not in table.chains:
            raise err(f"Chain '{jump}' does not exist")
    r.pcnt, r.bcnt = c.pcnt, c.bcnt
    r.finish()
    return r


def address_variants(c: Cmd) -> list[Cmd]:
    """The command once per pair of a comma-separated -s and -d list (itself when neither is a list)."""
    srcs = c.opts["s"][1].split(",") if "s" in c.opts else [None]
    dsts = c.opts["d"][1].split(",") if "d" in c.opts else [None]
    if len(srcs) == 1 and len(dsts) == 1:
        return [c]
    out = []
    for sa in srcs:
        for da in dsts:
            v = copy.copy(c)
            v.opts = dict(c.opts)
            if sa is not None:
                v.opts["s"] = (c.opts["s"][0], sa)
            if da is not None:
                v.opts["d"] = (c.opts["d"][0], da)
            out.append(v)
    return out


def chain_hooks(table: Table, chain: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The built-in chains (hooks) from which `chain` is reached, through jumps and gotos."""
    ch = table.chains.get(chain)
    if ch is not None and ch.builtin:
        return {chain}
    hooks: set[str] = set()
    for other in table.chains.values():
        if other.name in seen or other.name == chain:
            continue
        if any(x.tkind in (T_JUMP, T_GOTO) and x.tname == chain for x in other.rules):
            hooks |= chain_hooks(table, other.name, seen | {chain})
    return hooks


def _reached_extensions(table: Table, r: Rule, seen: frozenset[str] = frozenset()) -> list[Any]:
    """The rule's extensions, and those of every rule in the chains its jump leads to."""
    out: list[Any] = [*r.matches, *([r.tobj] if r.tobj is not None else [])]
    if r.tkind in (T_JUMP, T_GOTO) and r.tname not in seen:
        ch = table.chains.get(r.tname)
        if ch is not None and not ch.builtin:
            for x in ch.rules:
                out += _reached_extensions(table, x, seen | {r.tname})
    return out


def check_target_allowed(r: Rule, table: Table, chain: str, what: str) -> None:
    """What the kernel's xt_check_match / xt_check_target refuse shows as an nf_tables batch failure;
    nft_chain_validate checks an extension limited to some hooks against every hook that reaches
    it, through jumps to user chains both ways (a jump from OUTPUT into a chain holding TPROXY)."""
    own = len(r.matches) + (r.tobj is not None)
    hooks: set[str] | None = None
    for i, ext in enumerate(_reached_extensions(table, r)):
        ok = ext.tables is None or table.name in ext.tables
        if ok and ext.hooks is not None:
            if hooks is None:
                hooks = chain_hooks(table, chain)
            ok = hooks <= ext.hooks
        if ok and i < own and isinstance(ext, Target) and not ext.check():
            ok = False
        if not ok:
            raise XtError(f" {what} failed (Invalid argument): rule in chain {chain}", 4)
        if i >= own:
            continue
        errno_text = ext.kernel_check(table.nf.ns, chain)
        if errno_text is not None:
            raise XtError(f" {what} failed ({errno_text}): rule in chain {chain}", 4)


# -- listing -----------------------------------------------------------------
FMT_NUMERIC, FMT_NOCOUNTS, FMT_KMG, FMT_LINENUMBERS, FMT_VIA, FMT_OPTIONS = 1, 2, 4, 8, 16, 32


def print_num(v: int, fmt: int, table: bool = True) -> str:
    if not fmt & FMT_KMG:
        return f"{v:8d} " if table else f"{v} "
    if v <= 99999:
        return f"{v:5d} " if table else f"{v} "
    for suffix in "KMGT":
        v = (v + 500) // 1000
        if v <= 9999 or suffix == "T":
            return f"{v:4d}{suffix} " if table else f"{v}{suffix} "
    return ""


def addr_text(a: int, m: int, inv: bool, fmt: int) -> str:
    s = "!" if inv else " "
    if m == 0 and not fmt & FMT_NUMERIC:
        return s + f"{'anywhere':<19} "
    if fmt & FMT_NUMERIC:
        name = ip_str(a)
    else:
        name = HOSTS.get(a) if m == 0xFFFFFFFF else None
        name = name or NETWORKS.get(a) or ip_str(a)
    return s + f"{name + mask_text(m, list_mode=True):<19} "


def list_rule(r: Rule, fmt: int, num: int) -> str:
    out = []
    if fmt & FMT_LINENUMBERS:
        out.append(f"{num:<4d} ")
    if not fmt & FMT_NOCOUNTS:
        out.append(print_num(r.pcnt, fmt))
        out.append(print_num(r.bcnt, fmt))
    out.append(f"{r.tname:<9} ")
    out.append("!" if r.inv & INV_PROTO else " ")
    if fmt & FMT_NUMERIC:
        pname = None
    else:
        pname = PROTO_NAMES.get(r.proto) if r.proto else "all"
    # ip6tables pads the protocol to 4 and always puts a blank after it
    out.append(f"{pname or str(r.proto):<4} " if isinstance(r, Rule6) else f"{pname or str(r.proto):<5}")
    out.append(("!" if r.inv & INV_FRAG else "-") + ("f" if r.frag else "-") + " ")
    if fmt & FMT_VIA:
        anyname = "*" if fmt & FMT_NUMERIC else "any"
        iface = ("!" if r.inv & INV_VIA_IN else "") + (r.iniface or anyname)
        out.append(f" {iface:<6} ")
        iface = ("!" if r.inv & INV_VIA_OUT else "") + (r.outiface or anyname)
        out.append(f"{iface:<6} ")
    if isinstance(r, Rule6):
        for a, msk, inv in ((r.src, r.smsk, r.inv & INV_SRCIP), (r.dst, r.dmsk, r.inv & INV_DSTIP)):
            out.append(("!" if inv else " ") + f"{r.addr_list(a, msk, bool(fmt & FMT_NUMERIC)):<19} ")
    else:
        out.append(addr_text(r.src, r.smsk, bool(r.inv & INV_SRCIP), fmt))
        out.append(addr_text(r.dst, r.dmsk, bool(r.inv & INV_DSTIP), fmt))
    if r.tkind == T_GOTO:
        out.append("[goto] ")
    numeric = bool(fmt & FMT_NUMERIC)
    for m in r.matches:
        d = m.describe(numeric)
        if d:
            out.append(" " + d)
    if r.tobj is not None:
        d = r.tobj.describe(numeric)
        if d:
            out.append(" " + d)
    return "".join(out)


def list_header(fmt: int) -> str:
    out = []
    if fmt & FMT_LINENUMBERS:
        out.append("num  ")
    if not fmt & FMT_NOCOUNTS:
        if fmt & FMT_KMG:
            out.append(" pkts bytes ")
        else:
            out.append("    pkts      bytes ")
    out.append("target    ")
    out.append(" prot opt")
    if fmt & FMT_VIA:
        out.append(f" {'in':<6} {'out':<6} ")
    out.append(f" {'source':<19} ")
    out.append(f" {'destination':<19} ")
    return "".join(out)


def list_chain(table: Table, ch: Chain, fmt: int, rulenum: int = 0) -> str:
    lines = []
    if rulenum:
        if rulenum <= len(ch.rules):
            lines.append(list_rule(ch.rules[rulenum - 1], fmt, rulenum))
        return "".join(x + "\n" for x in lines)
    if ch.builtin:
        head = f"Chain {ch.name} (policy {ch.policy}"
        if not fmt & FMT_NOCOUNTS:
            head += " " + print_num(ch.pcnt, fmt, table=False) + "packets, " + \
                print_num(ch.bcnt, fmt, table=False) + "bytes"
        head += ")"
    else:
        refs = table.references(ch.name)
        head = f"Chain {ch.name} ({refs} references)"
    lines.append(head)
    lines.append(list_header(fmt))
    for k, r in enumerate(ch.rules, 1):
        lines.append(list_rule(r, fmt, k))
    return "".join(x + "\n" for x in lines)


def chains_in_order(table: Table) -> list[Chain]:
    return [table.chains[b] for b in table.builtins] + table.user_chains()


def rule_spec_lines(table: Table, ch: Chain, counters: bool) -> list[str]:
    return [f"-A {ch.name} " + r.save_text(counters) if r.text or counters else f"-A {ch.name}"
            for r in ch.rules]


def save_table(table: Table, counters: bool) -> list[str]:
    out = [f"*{table.name}"]
    chains = chains_in_order(table)
    for ch in chains:
        pol = ch.policy if ch.builtin else "-"
        out.append(f":{ch.name} {pol} [{ch.pcnt if ch.builtin else 0}:{ch.bcnt if ch.builtin else 0}]")
    for ch in chains:
        for r in ch.rules:
            line = f"-A {ch.name}" + (" " + r.text if r.text else "")
            if counters:
                line = f"[{r.pcnt}:{r.bcnt}] " + line
            out.append(line)
    out.append("COMMIT")
    return out


# -- executing ---------------------------------------------------------------
KNOWN_TABLES = tuple(BUILTIN_CHAINS)
# iptables-save prints tables in the nft backend's table-type order (enum nft_table_type), whatever
# order they were created in
SAVE_ORDER = ("mangle", "security", "raw", "filter", "nat")


def get_table(nf: Any, name: str) -> Table:
    if name not in KNOWN_TABLES:
        raise XtError(f"table '{name}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.", 3)
    return nf.table(name)


def find_rule(ch: Chain, r: Rule) -> int:
    for k, old in enumerate(ch.rules):
        if old.text == r.text:
            return k
    return -1


def execute(ns: Any, c: Cmd, prog: str = "iptables") -> str:
    """Run a parsed command against the namespace's tables; returns its standard output."""
    nf = netfilter6_of(ns) if c.family == 6 else netfilter_of(ns)
    table = get_table(nf, c.table)
    cmd = c.cmd
    if cmd == "V":
        return f"{prog} {VERSION}\n"
    if cmd == "h":
        note = ("\nnetplex: ip6tables rules are parsed, listed and saved as by the real tool; the simulator\n"
                "has no IPv6 data path, so no packet ever meets them.\n") if c.family == 6 else ""
        return f"{prog} {VERSION}\n\nUsage: {prog} -[ACD] chain rule-specification [options]\n" + note
    rule_opts = [k for k in c.opts if k in RULE_OPTS and not (k == "c" and cmd == "P")] + (["m"] if c.exts else [])
    if cmd in "LSFZNXEP" and rule_opts:
        k = rule_opts[0]
        raise err(f"Illegal option `-{k}' with this command")
    chains = table.chains
    if cmd in RULE_COMMANDS:
        ch = chains.get(c.chain)
        by_number = cmd == "R" or (cmd == "D" and c.rulenum and not c.opts and not c.exts)
        # the rule's own errors come first (do_parse), then whether its chain exists;
        # -s/-d take comma-separated lists: one rule per (source, destination) pair, as
        # xtables' generic_opt_check/add_entry make them
        rules = [] if cmd == "D" and by_number else [build_rule(v, table) for v in address_variants(c)]
        if ch is None or (by_number and not ch.present):
            if cmd in "DC" and not by_number:
                raise kerr("iptables: Bad rule (does a matching rule exist in that chain?).")
            raise kerr("iptables: No chain/target/match by that name.")
        if cmd == "D" and by_number:
            if c.rulenum > len(ch.rules):
                raise kerr("iptables: Index of deletion too big.")
            del ch.rules[c.rulenum - 1]
            table.changed(ch)
            return ""
        what = {"A": "RULE_APPEND", "I": "RULE_INSERT", "R": "RULE_REPLACE", "C": "RULE_CHECK",
                "D": "RULE_DELETE"}[cmd]
        if cmd in "AIR":
            for r in rules:
                check_target_allowed(r, table, c.chain, what)
                if r.tkind in (T_JUMP, T_GOTO) and chains[r.tname].builtin:
                    # nf_tables refuses a jump to a base chain; one that does not exist yet is missing
                    present = chains[r.tname].present or r.tname == c.chain
                    why = "Operation not supported" if present else "No such file or directory"
                    raise XtError(f" {what} failed ({why}): rule in chain {c.chain}", 4)
        if cmd == "A":
            table.materialize(c.chain)
            ch.rules.extend(rules)
        elif cmd == "I":
            pos = c.rulenum or 1
            if pos > len(ch.rules) + 1:
                raise kerr("iptables: Index of insertion too big.")
            table.materialize(c.chain)
            ch.rules[pos - 1:pos - 1] = rules
        elif cmd == "R":
            if c.rulenum > len(ch.rules):
                raise kerr("iptables: Index of replacement too big.")
            ch.rules[c.rulenum - 1] = rules[0]
        elif cmd in "DC":
            found = [find_rule(ch, r) for r in rules]
            if min(found) < 0:
                raise kerr("iptables: Bad rule (does a matching rule exist in that chain?).")
            if cmd == "C":
                return ""
            for r in rules:
                del ch.rules[find_rule(ch, r)]
        table.changed(ch)
        return ""
    if cmd == "N":
        if c.chain in chains:
            raise kerr("iptables: Chain already exists.")
        table.materialize()
        chains[c.chain] = Chain(c.chain, False)
        table.changed()
        return ""
    if cmd == "X":
        # iptables-nft 1.8.9 deletes built-in chains too when they are empty with policy ACCEPT
        if c.chain:
            ch = chains.get(c.chain)
            if ch is None or not ch.present:
                raise kerr("iptables: No chain/target/match by that name.")
            if ch.rules or table.references(ch.name):
                raise XtError(f" CHAIN_DEL failed (Device or resource busy): chain {ch.name}", 4)
            if ch.builtin:
                if ch.policy != "ACCEPT":
                    raise kerr("iptables: Directory not empty.")
                table.delete_builtin(ch)
            else:
                del chains[c.chain]
        else:
            for u in table.user_chains():
                if u.rules or table.references(u.name):
                    raise XtError(f" CHAIN_DEL failed (Device or resource busy): chain {u.name}", 4)
            for u in table.user_chains():
                del chains[u.name]
            for b in table.builtins:
                ch = chains[b]
                if ch.present and not ch.rules and ch.policy == "ACCEPT":
                    table.delete_builtin(ch)
        table.changed()
        return ""
    if cmd == "E":
        ch = chains.get(c.chain)
        if ch is None or ch.builtin:
            raise kerr("iptables: No chain/target/match by that name.")
        if c.newname in chains:
            raise kerr("iptables: File exists.")
        del chains[c.chain]
        ch.name = c.newname
        chains[c.newname] = ch
        for other in chains.values():
            for r in other.rules:
                if r.tkind in (T_JUMP, T_GOTO) and r.tname == c.chain:
                    r.tname = c.newname
                    r.finish()
        table.changed()
        return ""
    if cmd == "P":
        ch = chains.get(c.chain)
        if c.policy not in ("ACCEPT", "DROP"):   # nft_cmd_chain_set: the policy, then the chain
            raise kerr("iptables: Bad policy name. Run `dmesg' for more information.")
        if ch is None or not ch.builtin:
            raise kerr("iptables: Bad built-in chain name.")
        table.materialize(c.chain)
        ch.policy = c.policy
        # the chain is (re)written with counters starting at 0 (-c values are not passed on)
        ch.counted = True
        ch.pcnt = ch.bcnt = 0
        table.changed(ch)
        return ""
    if cmd == "F":
        if c.chain:
            ch = chains.get(c.chain)
            if ch is None:
                raise kerr("iptables: No chain/target/match by that name.")
            # nft_cmd_chain_flush names a chain: nft_xt_builtin_init creates the table (iptables-save
            # shows it from then on); a flush of every chain reaches the kernel only when there is one
            table.materialize(c.chain)
            ch.rules.clear()
        else:
            for ch in chains.values():
                ch.rules.clear()
        table.changed()
        return ""
    if cmd == "Z":
        zero(table, c)
        return ""
    if cmd in "LS":
        if c.chain and c.chain not in chains:
            raise XtError(f"chain `{c.chain}' in table `{table.name}' is incompatible, use 'nft' tool.", 1)
        selected = [chains[c.chain]] if c.chain else chains_in_order(table)
        if cmd == "L":
            fmt = FMT_OPTIONS
            if c.numeric:
                fmt |= FMT_NUMERIC
            if not c.verbose:
                fmt |= FMT_NOCOUNTS
            else:
                fmt |= FMT_VIA
                if not c.exact:
                    fmt |= FMT_KMG
            if c.linenumbers:
                fmt |= FMT_LINENUMBERS
            out = "\n".join(list_chain(table, ch, fmt, c.rulenum) for ch in selected)
        else:
            lines: list[str] = []
            counters = c.verbose > 0
            if c.rulenum:
                ch = selected[0]
                if c.rulenum <= len(ch.rules):
                    r = ch.rules[c.rulenum - 1]
                    t = r.save_text(counters)
                    lines.append(f"-A {ch.name}" + (" " + t if t else ""))
            else:
                for ch in selected:
                    if ch.builtin:
                        lines.append(f"-P {ch.name} {ch.policy}" + (f" -c {ch.pcnt} {ch.bcnt}" if counters else ""))
                    else:
                        lines.append(f"-N {ch.name}")
                for ch in selected:
                    for r in ch.rules:
                        t = r.save_text(counters)
                        lines.append(f"-A {ch.name}" + (" " + t if t else ""))
            out = "".join(x + "\n" for x in lines)
        if c.cmd2 == "Z":
            if not table.exists:
                raise _ListedError(f" CHAIN_ZERO failed (No such file or directory): chain {table.builtins[0]}", out)
            zero(table, c)
        return out
    raise err("no command specified")


class _ListedError(XtError):
    """-L -Z on a table that does not exist: the listing is printed, then zeroing fails."""

    def __init__(self, msg: str, output: str) -> None:
        super().__init__(msg, 4)
        self.output = output


def zero(table: Table, c: Cmd) -> None:
    """-Z: zeroing writes the chain with counters, so a built-in chain counts its policy from then on."""
    chains = table.chains
    if c.chain:
        ch = chains.get(c.chain)
        if ch is None or not ch.present:
            raise kerr("iptables: No chain/target/match by that name.")
        sel = [ch]
    else:
        sel = [ch for ch in chains.values() if ch.present]
    if c.rulenum and c.chain:
        if c.rulenum <= len(sel[0].rules):
            r = sel[0].rules[c.rulenum - 1]
            r.pcnt = r.bcnt = 0
        return
    for ch in sel:
        ch.pcnt = ch.bcnt = 0
        if ch.builtin:
            ch.counted = True
        for r in ch.rules:
            r.pcnt = r.bcnt = 0


def format_error(e: XtError, prog: str) -> str:
    if e.raw:
        text = e.msg if e.msg.endswith("\n") else e.msg + "\n"
    else:
        text = f"{prog} {VERSION}: {e.msg}\n"
    if e.status == 2:
        text += HINT.format(prog=prog)
    return text


def do_command(ns: Any, argv: list[str], prog: str = "iptables", table: str = "filter",
               family: int = 4) -> Result:
    """One iptables (family 4) or ip6tables (family 6) command (argv without the program name)."""
    try:
        c = parse_args(argv, table, family)
        out = execute(ns, c, prog)
    except XtError as e:
        return Result(e.status, e.output if isinstance(e, _ListedError) else "", format_error(e, prog))
    return Result(0, out, "".join(dict.fromkeys(c.warnings)))


@command("iptables", "iptables-nft", "iptables-legacy")
def iptables(ctx: Context, argv: list[str]) -> Result:
    return do_command(ctx.node, argv[1:])


@command("ip6tables", "ip6tables-nft", "ip6tables-legacy")
def ip6tables(ctx: Context, argv: list[str]) -> Result:
    """ip6tables: rules are parsed, listed and saved as the real tool does; the simulator has
    no IPv6 data path, so no packet ever meets them (said in `ip6tables -h`)."""
    return do_command(ctx.node, argv[1:], "ip6tables", family=6)


# -- iptables-save ------------------------------------------------------------
@command("iptables-save", "iptables-nft-save", "iptables-legacy-save")
def iptables_save(ctx: Context, argv: list[str]) -> Result:
    return save_command(ctx, argv, "iptables-save", netfilter_of(ctx.node))


@command("ip6tables-save", "ip6tables-nft-save", "ip6tables-legacy-save")
def ip6tables_save(ctx: Context, argv: list[str]) -> Result:
    return save_command(ctx, argv, "ip6tables-save", netfilter6_of(ctx.node))


def save_command(ctx: Context, argv: list[str], prog: str, nf: Any) -> Result:
    """iptables-save / ip6tables-save: the tables of `nf` in their text form."""
    counters = False
    only = None
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-c", "--counters"):
            counters = True
        elif a in ("-t", "--table") or a.startswith("--table="):
            if "=" in a:
                only = a.split("=", 1)[1]
            elif i < len(args):
                only = args[i]
                i += 1
            else:
                return Result(1, "", f"{prog}: option requires an argument -- 't'\n"
                              f"Look at manual page `{prog}.8' for more information.\n")
        elif a.startswith("-t") and len(a) > 2:
            only = a[2:]
        elif a in ("-M", "--modprobe") or a in ("-f", "--file"):
            i += 1
        elif a.startswith("--"):
            return Result(1, "", f"{prog}: unrecognized option '{a}'\nLook at manual page `{prog}.8' for more information.\n")
        elif a.startswith("-") and len(a) > 1:
            return Result(1, "", f"{prog}: invalid option -- '{a[1]}'\nLook at manual page `{prog}.8' for more information.\n")
        else:
            return Result(1, "", "Unknown arguments found on commandline\n")
    if only is not None:
        if only not in KNOWN_TABLES:
            return Result(1, "", f"Table `{only}' does not exist\n")
        tables = [nf.table(only)]
    else:
        tables = [nf.tables[name] for name in SAVE_ORDER if name in nf.tables and nf.tables[name].exists]
    date = fmt_date(ctx.node.world.realtime_ns())
    out: list[str] = []
    for t in tables:
        out.append(f"# Generated by {prog} {VERSION} on {date}")
        out.extend(save_table(t, counters))
        out.append(f"# Completed on {date}")
    return Result(0, "".join(x + "\n" for x in out), "")


# -- iptables-restore ---------------------------------------------------------
class _Snapshot:
    """A table as it was before a restore block, put back when the block fails."""

    def __init__(self, table: Table) -> None:
        self.exists = table.exists
        self.chains = {name: (ch, ch.policy, ch.pcnt, ch.bcnt, list(ch.rules), ch.present, ch.counted)
                       for name, ch in table.chains.items()}

    def restore(self, table: Table) -> None:
        table.chains = {}
        for name, (ch, pol, pc, bc, rules, present, counted) in self.chains.items():
            ch.name, ch.policy, ch.pcnt, ch.bcnt, ch.rules = name, pol, pc, bc, rules
            ch.present, ch.counted = present, counted
            table.chains[name] = ch
        table.exists = self.exists
        table.changed()


def restore_split(line: str) -> list[str]:
    """xshared.c add_param_to_argv: words split at blanks, tabs and newlines; a double quote opens a
    word that ends at the closing quote, inside which a backslash takes the next character as it is;
    outside quotes backslashes and single quotes are ordinary characters. An unclosed quote runs to
    the end of the line (its newline included)."""
    words: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    started = False
    for ch in line:
        if quoted:
            if escaped:
                buf.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
                words.append("".join(buf))
                buf, started = [], False
            else:
                buf.append(ch)
            continue
        if ch == '"':
            quoted = started = True
            continue
        if ch in " \t\n":
            if buf:
                words.append("".join(buf))
                buf, started = [], False
            continue
        buf.append(ch)
    if buf or started:
        words.append("".join(buf))
    return words


@command("iptables-restore", "iptables-nft-restore", "iptables-legacy-restore")
def iptables_restore(ctx: Context, argv: list[str]) -> Result:
    return restore_command(ctx, argv, "iptables-restore", 4)


@command("ip6tables-restore", "ip6tables-nft-restore", "ip6tables-legacy-restore")
def ip6tables_restore(ctx: Context, argv: list[str]) -> Result:
    return restore_command(ctx, argv, "ip6tables-restore", 6)


def restore_command(ctx: Context, argv: list[str], prog: str, family: int) -> Result:
    """iptables-restore / ip6tables-restore: options, then the text from a file or stdin."""
    noflush = counters = test = False
    only = None
    args = argv[1:]
    i = 0
    path = None
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-n", "--noflush"):
            noflush = True
        elif a in ("-c", "--counters"):
            counters = True
        elif a in ("-t", "--test"):
            test = True
        elif a in ("-v", "--verbose", "-w", "--wait", "-W", "--wait-interval", "-V", "--version"):
            if a in ("-W", "--wait-interval"):
                i += 1
            if a in ("-V", "--version"):
                return Result(0, f"{prog} {VERSION}\n")
        elif a in ("-T", "--table"):
            if i >= len(args):
                return Result(1, "", f"{prog}: option requires an argument -- 'T'\nTry `{prog} -h' for more information.\n")
            only = args[i]
            i += 1
        elif a.startswith("-T") and len(a) > 2:
            only = a[2:]
        elif a.startswith("--table="):
            only = a.split("=", 1)[1]
        elif a in ("-M", "--modprobe"):
            i += 1
        elif not a.startswith("-") and path is None:
            path = a
        elif a.startswith("--"):
            return Result(1, "", f"{prog}: unrecognized option '{a}'\nTry `{prog} -h' for more information.\n")
        elif a.startswith("-") and len(a) > 1:
            return Result(1, "", f"{prog}: invalid option -- '{a[1]}'\nTry `{prog} -h' for more information.\n")
        else:
            return Result(1, "", "Unknown arguments found on commandline\n")
    text = ctx.stdin
    if path is not None:
        try:
            data = ctx.read_file(path)
        except FileReadError:
            data = ""   # fopen(3) opens a folder; reading it gives nothing, and nothing is restored
        if data is None:
            return Result(1, "", f"Can't open {path}: No such file or directory\n")
        text = data
    ns = ctx.node
    nf = netfilter6_of(ns) if family == 6 else netfilter_of(ns)
    return restore_text(ns, nf, text, noflush=noflush, counters=counters, only=only, test=test, prog=prog)


def restore_text(ns: Any, nf: Any, text: str, noflush: bool = False, counters: bool = False,
                 only: str | None = None, test: bool = False, prog: str = "iptables-restore") -> Result:
    """Apply an iptables-save text as xtables-restore.c does, line by line (each line with its
    newline, as fgets(3) reads it): `*table` (the table is deleted first unless --noflush),
    `:chain policy [p:b]` (a built-in chain declared this way has policy counters), rule lines
    (`[p:b]` counters first), `COMMIT`. Each table block is atomic: on an error the table is
    put back as it was."""
    family = 6 if nf.family == "ipv6" else 4
    table: Table | None = None
    snap: _Snapshot | None = None
    in_table = skip = False
    pending: str | None = None     # a jump to a missing chain: nf_tables reports it at COMMIT
    lineno = 0
    out: list[str] = []
    warnings: list[str] = []       # extensions' and interface-name warnings, printed as they come
    hint = HINT.format(prog=prog)

    def fail(msg: str, status: int) -> Result:
        if table is not None and snap is not None:
            snap.restore(table)
        return Result(status, "".join(out), "".join(warnings) + msg)

    def param_problem(msg: str) -> Result:
        return fail(f"{prog} {VERSION}: {msg}\nError occurred at line: {lineno}\n{hint}", 2)

    for line in text.splitlines(keepends=True):
        lineno += 1
        if line in ("\n", ""):
            continue
        if line[0] == "#":
            continue
        if in_table and line.startswith("COMMIT") and line[6:] in ("", "\n"):
            if pending is not None:
                return param_problem(pending)
            if table is not None and test:
                snap.restore(table)  # type: ignore[union-attr]
            in_table = skip = False
            table = snap = None
            continue
        if line[0] == "*" and not in_table:
            name = _strtok(line[1:])
            if name is None:
                return param_problem(f"{prog}: line {lineno} table name invalid")
            in_table = True
            skip = only is not None and name != only
            if skip:
                continue
            if name not in KNOWN_TABLES:
                return param_problem(f"{prog}: line {lineno} table name '{name}' invalid")
            table = nf.table(name)
            snap = _Snapshot(table)
            if not noflush and table.exists:
                table.delete()
            continue
        if skip:
            continue
        if line[0] == ":" and in_table:
            assert table is not None
            rest = _strtok_all(line[1:])
            if not rest:
                return param_problem(f"{prog}: line {lineno} chain name invalid")
            cname = rest[0]
            if len(rest) < 2:
                return param_problem(f"{prog}: line {lineno} policy invalid")
            pol = rest[1]
            pc = bc = 0
            if counters:
                m = rest[2] if len(rest) > 2 else ""
                a, _, b = m[1:].partition(":")
                b = b[:-1] if b.endswith("]") else b
                if not (m.startswith("[") and a.isdigit() and b.isdigit()):
                    return param_problem(f"invalid policy counters for chain '{cname}'")
                pc, bc = int(a), int(b)
            ch = table.chains.get(cname)
            if cname in table.builtins and pol != "-":
                assert ch is not None
                if pol not in ("ACCEPT", "DROP"):
                    return fail(f"{prog}: line {lineno} failed: Bad policy name.\n", 1)
                table.materialize(cname)
                ch.policy = pol
                ch.counted = True
                ch.pcnt, ch.bcnt = pc, bc
            else:
                try:
                    check_chain_name(cname, new=True)
                except XtError as e:
                    return param_problem(e.msg)
                if ch is None:
                    table.materialize()
                    table.chains[cname] = Chain(cname, False)
                elif noflush and not ch.builtin:
                    ch.rules.clear()
            table.changed()
            continue
        if not in_table:
            return fail(f"{prog}: line {lineno} failed\n", 1)
        assert table is not None
        pc = bc = None
        body = line
        if line[0] == "[":
            close = line.find("]")
            if close < 0:
                return param_problem(f"Bad line {lineno}: need ]")
            a, _, b = line[1:close].partition(":")
            if counters:
                if not a.isdigit():
                    return param_problem("-c packet counter not numeric")
                if not b.isdigit():
                    return param_problem("-c byte counter not numeric")
                pc, bc = int(a), int(b)
            body = line[close + 1:]
        words = restore_split(body)
        try:
            c = parse_args(words, table.name, family)
            if c.table_given:
                raise err("The -t option cannot be used in iptables-restore.\n")
            if pc is not None:
                c.pcnt, c.bcnt = pc, bc  # type: ignore[assignment]
            out.append(execute(ns, c, "ip6tables" if family == 6 else "iptables"))
            warnings.extend(c.warnings)
        except XtError as e:
            if e.raw and e.status == 2:
                return fail(e.msg + f"Error occurred at line: {lineno}\n{hint}", 2)
            if e.status == 2:
                if e.msg.startswith("Chain '") and e.msg.endswith("' does not exist") and pending is None:
                    pending = e.msg
                    continue
                return param_problem(e.msg)
            if e.status == 4:
                return fail(f"{prog} {VERSION}: \nline {lineno}:{e.msg}\n", 4)
            msg = e.msg.split(": ", 1)[1] if e.raw and e.msg.startswith("iptables: ") else e.msg
            return fail(f"{prog}: line {lineno} failed: {msg}\n" if e.raw else
                        f"{prog} {VERSION}: {msg}\nError occurred at line: {lineno}\n", e.status)
    if in_table and not skip:
        return fail(f"{prog}: COMMIT expected at line {lineno + 1}\n", 1)
    return Result(0, "".join(out), "".join(warnings))


def _strtok_all(text: str) -> list[str]:
    """strtok(3) with " \\t\\n" as delimiters: the words of a restore line (a CR stays in its word)."""
    return [w for w in text.replace("\t", " ").replace("\n", " ").split(" ") if w]


def _strtok(text: str) -> str | None:
    words = _strtok_all(text)
    return words[0] if words else None


# -- dmesg -----------------------------------------------------------------------
# util-linux 2.38 dmesg(1): netplex does -c -C -t, and -k -P (kernel messages only,
# no pager) are what it always does; its other options are refused, not ignored.
_DMESG_LONG = {"--read-clear": "c", "--clear": "C", "--notime": "t", "--kernel": "k", "--nopager": "P"}
_DMESG_UNMODELLED = set("DdEeFfHhJLlnprSsTuVWwx")
_DMESG_LONG_UNMODELLED = {"--console-off", "--show-delta", "--console-on", "--reltime", "--file", "--facility",
                          "--human", "--json", "--color", "--level", "--console-level", "--force-prefix",
                          "--raw", "--syslog", "--buffer-size", "--ctime", "--since", "--until", "--noescape",
                          "--userspace", "--follow", "--follow-new", "--decode", "--time-format", "--help",
                          "--version"}
_DMESG_HAS = "netplex's dmesg has -c -C -t -k -P"
_DMESG_TRY = "Try 'dmesg --help' for more information.\n"


@command("dmesg")
def dmesg(ctx: Context, argv: list[str]) -> Result:
    """The namespace's kernel log: `[    T.TTTTTT] text` per line (-c/-C clear it)."""
    ns = ctx.node
    kmsg = getattr(ns, "kmsg", [])
    flags: set[str] = set()
    for a in argv[1:]:
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name in _DMESG_LONG:
                flags.add(_DMESG_LONG[name])
            elif name in _DMESG_LONG_UNMODELLED:
                return unsupported(f"dmesg {name}", _DMESG_HAS)
            else:
                return Result(1, "", f"dmesg: unrecognized option '{a}'\n{_DMESG_TRY}")
        elif a.startswith("-") and len(a) > 1:
            for ch in a[1:]:
                if ch in "cCtkP":
                    flags.add(ch)
                elif ch in _DMESG_UNMODELLED:
                    return unsupported(f"dmesg -{ch}", _DMESG_HAS)
                else:
                    return Result(1, "", f"dmesg: invalid option -- '{ch}'\n{_DMESG_TRY}")
        else:
            return Result(1, "", f"dmesg: bad usage\n{_DMESG_TRY}")
    clear_after = "c" in flags
    if "C" in flags:
        kmsg.clear()
        return Result(0)
    out = []
    strip = "t" in flags
    for item in kmsg:
        if strip and item.startswith("[") and "] " in item:
            item = item.split("] ", 1)[1]
        out.append(f"{item}\n")
    if clear_after:
        kmsg.clear()
    return Result(0, "".join(out))
