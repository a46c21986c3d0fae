"""`nstat` as iproute2 6.1 prints it (Debian 12, nstat(8), misc/nstat.c).

nstat reads the namespace's SNMP counters from /proc/net/netstat, /proc/net/snmp6 and
/proc/net/snmp (netplex.stack.snmp through `ctx.read_file`, so `ip netns exec` reads the
target namespace's), in the kernel's order: the snmp lines first, then snmp6, then netstat.
Without a daemon it prints what changed since its history file (the first run, or `-a`: the
absolute values), non-zero counters only unless `-z`, those matching a PATTERN (fnmatch,
case-insensitive) when some are given, and rewrites the history unless `-s`.

The history file is the node's own, in its file system: `$NSTAT_HISTORY` or /tmp/.nstat.u0
(root's uid), as the twin's nodes each have their own /tmp; it holds the counters in nstat's
text format (`#kernel`, then `name value rate`), so it is as deterministic as the simulator.

Options: `-a/--ignore`, `-z/--zeros`, `-r/--reset`, `-n/--nooutput`, `-s/--noupdate`,
`-j/--json`, `-p/--pretty`, `-t/--interval` (checked, then unused as without a daemon),
`-V`, `-h`. Refused in netplex's words: `-d/--scan` (the sampling daemon). The rate column is
always 0.0 (only the daemon computes rates).
"""
from __future__ import annotations

import fnmatch
import re

from netplex.machine.fs import FsError
from netplex.shell.coreutils.common import Usage, gnu_getopt
from netplex.shell.registry import Context, FileReadError, command
from netplex.shell.result import Result, unsupported

__all__ = ["nstat"]

VERSION = "nstat utility, iproute2-6.1.0\n"
USAGE = ("Usage: nstat [OPTION] [ PATTERN [ PATTERN ] ]\n"
         "   -h, --help          this message\n"
         "   -a, --ignore        ignore history\n"
         "   -d, --scan=SECS     sample every statistics every SECS\n"
         "   -j, --json          format output in JSON\n"
         "   -n, --nooutput      do history only\n"
         "   -p, --pretty        pretty print\n"
         "   -r, --reset         reset history\n"
         "   -s, --noupdate      don't update history\n"
         "   -t, --interval=SECS report average over the last SECS\n"
         "   -V, --version       output version information\n"
         "   -z, --zeros         show entries with zero activity\n")
_LONGS = {"help": "h", "ignore": "a", "scan=": "d", "nooutput": "n", "json": "j", "reset": "r",
          "noupdate": "s", "pretty": "p", "interval=": "t", "version": "V", "zeros": "z"}
EXIT_USAGE = 255        # exit(-1)
EXIT_HISTORY = 254      # exit(-2): the history file does not parse
HISTORY_ERROR = "nstat.c:146: error parsing history file\n"
# useless_numbers[]: gauges and constants nstat never shows
USELESS = frozenset({"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax", "TcpMaxConn",
                     "TcpCurrEstab"})

Counters = list[tuple[str, int]]
_INT = re.compile(r"\s*([+-]?\d+)")


def _ugly_table(text: str) -> Counters:
    """load_ugly_table: pairs of `Prefix: names` / `Prefix: values` lines, ids Prefix+name."""
    out: Counters = []
    lines = text.splitlines()
    for head, vals in zip(lines[0::2], lines[1::2], strict=False):
        prefix, _, names = head.partition(":")
        for name, val in zip(names.split(), vals.partition(":")[2].split(), strict=False):
            key = prefix + name
            if key not in USELESS:
                out.append((key, int(val) & 0xFFFFFFFFFFFFFFFF))
    return out


def _good_table(text: str) -> Counters:
    """load_good_table for /proc/net/snmp6: `name value` lines."""
    out: Counters = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] not in USELESS:
            out.append((parts[0], int(parts[1])))
    return out


def _history(text: str) -> tuple[str, dict[str, int]] | None:
    """The history file: its `#source` line and `name value [rate]` lines; None when a line does
    not parse (load_good_table's sscanf)."""
    source = ""
    hist: dict[str, int] = {}
    for line in text.splitlines(keepends=True):
        if line.startswith("#"):
            source = line[1:].rstrip("\n")
            continue
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            return None
        if parts[0] not in USELESS:
            hist[parts[0]] = int(parts[1])
    return source, hist


def _kernel(ctx: Context) -> Counters:
    """load_netstat, load_snmp6, load_snmp: each table goes in front of the ones before it."""
    tables: list[Counters] = []
    for path, parse in (("/proc/net/netstat", _ugly_table), ("/proc/net/snmp6", _good_table),
                        ("/proc/net/snmp", _ugly_table)):
        try:
            text = ctx.read_file(path)
        except FileReadError:
            text = None
        tables.insert(0, parse(text) if text else [])
    return [c for t in tables for c in t]


def _text(rows: list[tuple[str, int, str]]) -> str:
    return "#kernel\n" + "".join(f"{name:<32}{val:<16}{0.0:6.1f}{tail}\n" for name, val, tail in rows)


def _json(rows: list[tuple[str, int, str]], pretty: bool) -> str:
    """json_writer's output: {"kernel":{...}} on one line, or indented by 4 with -p."""
    if not pretty:
        return '{"kernel":{' + ",".join(f'"{n}":{v}' for n, v, _ in rows) + "}}\n"
    if not rows:
        return '{\n    "kernel": {}\n}\n'
    body = ",".join(f'\n        "{n}": {v}' for n, v, _ in rows)
    return '{\n    "kernel": {' + body + "\n    }\n}\n"


@command("nstat")
def nstat(ctx: Context, argv: list[str]) -> Result:
    """nstat(8): the SNMP counters, against the node's history file."""
    try:
        opts, patterns = gnu_getopt("nstat", argv[1:], "h?vVzrnasjp", "dt", _LONGS, EXIT_USAGE, USAGE)
    except Usage as e:
        return e.result
    flags = {c for c, _ in opts}
    for c, value in opts:
        if c in "h?":
            return Result(EXIT_USAGE, "", USAGE)
        if c in "vV":
            return Result(0, VERSION)
        if c == "d":
            return unsupported("nstat -d", "the sampling daemon")
        if c == "t":
            m = _INT.match(value)   # sscanf("%d"): a time constant must be a positive number
            if m is None or int(m.group(1)) <= 0:
                return Result(EXIT_USAGE, "", "nstat: invalid time constant divisor\n")
    zeros, ignore, no_output, no_update = "z" in flags, "a" in flags, "n" in flags, "s" in flags
    fs = ctx.fs
    hist_name = ctx.env.get("NSTAT_HISTORY") or "/tmp/.nstat.u0"
    if "r" in flags:
        try:
            fs.unlink(hist_name, ctx.cwd)
        except FsError:
            pass
    hist: dict[str, int] | None = None
    if not ignore or not no_update:
        try:
            data = fs.read_bytes(hist_name, ctx.cwd) if fs.exists(hist_name, ctx.cwd) else b""
            if not fs.exists(hist_name, ctx.cwd):
                fs.write_bytes(hist_name, b"", cwd=ctx.cwd)   # open(O_CREAT)
        except FsError as e:
            return Result(EXIT_USAGE, "", f"nstat: open history file: {e.message}\n")
        parsed = _history(data.decode(errors="replace"))
        if parsed is None:
            return Result(EXIT_HISTORY, "", HISTORY_ERROR)
        source, hist = parsed
        err = ""
        if hist and source and source != "kernel":
            err, hist = "nstat: history is stale, ignoring it.\n", {}
        hist = hist or None
    else:
        err = ""
    kern = _kernel(ctx)

    def match(name: str) -> bool:
        low = name.lower()
        return not patterns or any(fnmatch.fnmatchcase(low, p.lower()) for p in patterns)

    out = ""
    if not no_output:
        rows: list[tuple[str, int, str]] = []
        for name, val in kern:
            tail = ""
            if not ignore and hist is not None:
                old = hist.get(name)
                if old is not None:
                    if val < old:
                        val, tail = 0, " (overflow)"
                    else:
                        val -= old
            if (zeros or val) and match(name):
                rows.append((name, val, tail))
        out = _json(rows, "p" in flags) if "j" in flags else _text(rows)
    if not no_update:
        # dump_kern_db(hist_fp, 1): a counter the patterns leave out keeps its old history value
        saved = [(name, val if match(name) or hist is None or name not in hist else hist[name], "")
                 for name, val in kern if zeros or val]
        fs.write_bytes(hist_name, _text(saved).encode(), cwd=ctx.cwd)
    return Result(0, out, err)
