"""`ps`, `kill` and `pidof` over the machine's process table (`netplex.apps.process`).

`ps` (procps-ng 4.0.2, ps(1)) prints the simple (`ps`, `ps -e`, `ps -A`), full
(`-f`), BSD user (`aux`) and user-defined (`-o pid,comm,args`) formats with
procps's column widths; `-p PIDLIST` and `-C NAME` select, `--no-headers`
drops the header. netplex's commands run as root with no terminal, so a plain
`ps` (same user, same tty "?") lists every process, as it does in a script on
Linux. `ps` lists itself while it runs, with a pid of its own. Other options
are refused with procps's own error lines.

`kill` is bash's builtin (bash(1) SHELL BUILTIN COMMANDS): `kill PID`,
`kill -9 PID`, `kill -TERM PID`, `kill -s SIG PID`, `kill -n NUM PID`,
`kill -l [SIG]`. `pidof NAME...` (procps-ng pidof(1)) prints the pids,
newest first, and fails when there is none. `pgrep`/`pkill PATTERN`
(pgrep(1): an extended regular expression on the name, `-f` on the whole
command line, `-x` exact, `-l`/`-a` list, `-n`/`-o` newest/oldest, `-SIG`)
and `killall NAME` (psmisc killall(1): exact names, `-SIG`, `-s SIG`, `-q`)
select by name.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from netplex.apps.process import SIGNALS, SIGTERM, Process, ProcessTable, signal_number
from netplex.machine import Machine
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["kill", "pidof", "ps"]

NSEC_PER_SEC = 1_000_000_000
PS_USAGE = ("\nUsage:\n ps [options]\n\n Try 'ps --help <simple|list|output|threads|misc|all>'\n"
            "  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\nFor more details see ps(1).\n")
# ps(1) options that exist but netplex does not model: refused with its own message
PS_UNMODELLED_SYSV = set("adFgGHjlLmMnNOqsStTuUwyZ")
PS_UNMODELLED_LONG = {"sort", "forest", "cols", "columns", "width", "lines", "rows", "cumulative", "deselect",
                      "group", "Group", "user", "User", "sid", "tty", "context", "headers", "info", "quick-pid"}
KILL_USAGE = "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n"


def _table(ctx: Context) -> ProcessTable | None:
    return ctx.machine.procs if isinstance(ctx.machine, Machine) else None


# -- ps ----------------------------------------------------------------------
def _clock(now_ns: int) -> str:
    """STIME/START: the time of day the process started (the simulation starts at 00:00)."""
    secs = now_ns // NSEC_PER_SEC
    return f"{secs // 3600 % 24:02d}:{secs // 60 % 60:02d}"


def _stat(p: Process) -> str:
    return p.state


# user-defined format columns: header, width, right-aligned, value
Column = tuple[str, int, bool, Callable[[Process], str]]
COLUMNS: dict[str, Column] = {
    "pid": ("PID", 5, True, lambda p: str(p.pid)),
    "ppid": ("PPID", 5, True, lambda p: str(p.ppid)),
    "user": ("USER", 8, False, lambda p: "root"),
    "euser": ("EUSER", 8, False, lambda p: "root"),
    "uid": ("UID", 5, True, lambda p: str(p.uid)),
    "tty": ("TT", 8, False, lambda p: p.tty),
    "tname": ("TTY", 8, False, lambda p: p.tty),
    "stat": ("STAT", 4, False, _stat),
    "s": ("S", 1, False, lambda p: p.state[0]),
    "state": ("S", 1, False, lambda p: p.state[0]),
    "time": ("TIME", 8, True, lambda p: "00:00:00"),
    "comm": ("COMMAND", 15, False, lambda p: p.comm),
    "ucomm": ("COMMAND", 15, False, lambda p: p.comm),
    "args": ("COMMAND", 27, False, lambda p: p.args),
    "command": ("COMMAND", 27, False, lambda p: p.args),
    "cmd": ("CMD", 27, False, lambda p: p.args),
}
COLUMNS["pcpu"] = COLUMNS["%cpu"] = ("%CPU", 4, True, lambda p: "0.0")
COLUMNS["pmem"] = COLUMNS["%mem"] = ("%MEM", 4, True, lambda p: "0.0")


def _render(procs: list[Process], cols: list[Column], headers: bool) -> str:
    lines = []
    rows = ([[c[0] for c in cols]] if headers else []) + [[c[3](p) for c in cols] for p in procs]
    for row in rows:
        cells = []
        for i, (c, v) in enumerate(zip(cols, row)):
            last = i == len(cols) - 1
            cells.append(v.rjust(c[1]) if c[2] else (v if last else v.ljust(c[1])))
        lines.append(" ".join(cells).rstrip() if not cols[-1][2] else " ".join(cells))
    return "".join(line + "\n" for line in lines)


def _aux(procs: list[Process], now_ns: int, headers: bool) -> str:
    out = ["USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n"] if headers else []
    for p in procs:
        vsz, rss = (p.program.vsz_kib, p.program.rss_kib) if p.program is not None else (0, 0)
        if p.argv and p.argv[0] == "ps":
            vsz, rss = 11084, 4480
        out.append(f"root     {p.pid:5d}  0.0  0.0 {vsz:6d} {rss:5d} {p.tty:<8} {_stat(p):<4} "
                   f"{_clock(p.start_ns)}   0:00 {p.args}\n")
    return "".join(out)


def _full(procs: list[Process], headers: bool) -> str:
    out = ["UID        PID  PPID  C STIME TTY          TIME CMD\n"] if headers else []
    for p in procs:
        out.append(f"root     {p.pid:5d} {p.ppid:5d}  0 {_clock(p.start_ns)} {p.tty:<8} 00:00:00 {p.args}\n")
    return "".join(out)


def _ps_error(text: str) -> Result:
    return Result(1, "", f"error: {text}\n{PS_USAGE}")


@command("ps")
def ps(ctx: Context, argv: list[str]) -> Result:
    table = _table(ctx)
    if table is None:
        return Result(1, "", "netplex: ps: this shell runs on no machine\n")
    fmt = "simple"
    cols: list[Column] = []
    pids: list[int] | None = None
    ppids: list[int] | None = None
    names: list[str] | None = None
    headers = True
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name == "help" and not eq and i == len(args):
                return Result(0, PS_USAGE)
            if name == "version" and len(args) == 1:
                return Result(0, "ps from procps-ng 4.0.2\n")
            if name in ("no-headers", "no-heading"):
                headers = False
                continue
            if name in ("format", "pid", "ppid"):
                if not eq:
                    if i >= len(args):
                        return _ps_error(f"list of process IDs must follow --{name}" if name != "format"
                                         else "format specification must follow --format")
                    val = args[i]
                    i += 1
                if name == "format":
                    err = _add_columns(cols, val)
                    if err:
                        return _ps_error(err)
                    fmt = "user"
                    continue
                try:
                    ids = [int(x) for x in val.replace(",", " ").split()]
                except ValueError:
                    return _ps_error("process ID list syntax error")
                if name == "pid":
                    pids = (pids or []) + ids
                else:
                    ppids = (ppids or []) + ids
                continue
            if name in PS_UNMODELLED_LONG:
                return Result(1, "", f"netplex: ps: --{name} is not supported\n")
            return _ps_error("unknown gnu long option")
        if a == "-V" and len(args) == 1:
            return Result(0, "ps from procps-ng 4.0.2\n")
        if a.startswith("-"):
            flags = a[1:]
            j = 0
            while j < len(flags):
                ch = flags[j]
                j += 1
                if ch in "eA":
                    continue
                if ch == "f":
                    fmt = "full" if fmt != "user" else fmt
                elif ch in "opC":
                    val = flags[j:]
                    if not val:
                        if i >= len(args):
                            return _ps_error({"o": "improper format list", "p": "list of process IDs must follow -p",
                                              "C": "list of command names must follow -C"}[ch])
                        val = args[i]
                        i += 1
                    j = len(flags)
                    if ch == "o":
                        err = _add_columns(cols, val)
                        if err:
                            return _ps_error(err)
                        fmt = "user"
                    elif ch == "p":
                        try:
                            pids = (pids or []) + [int(x) for x in val.replace(",", " ").split()]
                        except ValueError:
                            return _ps_error("process ID list syntax error")
                    else:
                        names = (names or []) + val.split(",")
                elif ch == "a" and flags == "aux":
                    fmt = "aux"
                    break
                elif ch in PS_UNMODELLED_SYSV:
                    return Result(1, "", f"netplex: ps: option -{ch} is not supported\n")
                else:
                    return _ps_error("unsupported SysV option")
            continue
        # BSD syntax: aux, ax, x, a, u
        if set(a) <= set("aux"):
            if "u" in a:
                fmt = "aux"
            continue
        if a[0].isalpha() and set(a) <= set("auxwfjlsvemrcSTreh"):
            return Result(1, "", f"netplex: ps: BSD option {a} is not supported (a, u, x are)\n")
        return _ps_error("unsupported option (BSD syntax)" if a[0].isalpha() else "garbage option")
    now = ctx.node.sched.now if ctx.node is not None else 0   # type: ignore[attr-defined]
    me = table.spawn(["ps", *argv[1:]], ctx.node, None)       # type: ignore[arg-type]
    me.state = "R"
    try:
        procs = list(table)
        if pids is not None:
            procs = [p for p in procs if p.pid in pids]
        if ppids is not None:
            procs = [p for p in procs if p.ppid in ppids]
        if names is not None:
            procs = [p for p in procs if p.comm in names]
        if fmt == "aux":
            text = _aux(procs, now, headers)
        elif fmt == "full":
            text = _full(procs, headers)
        else:
            if fmt == "simple":
                cols = [COLUMNS["pid"], ("TTY", 8, False, COLUMNS["tty"][3]), COLUMNS["time"], COLUMNS["cmd"]]
                cols[-1] = ("CMD", 27, False, lambda p: p.comm)
            text = _render(procs, cols, headers and any(c[0] for c in cols))
    finally:
        table.exit(me, 0)
    return Result(0 if procs else 1, text)


def _add_columns(cols: list[Column], spec: str) -> str | None:
    for name in spec.replace(" ", ",").split(","):
        if not name:
            continue
        key, eq, header = name.partition("=")
        c = COLUMNS.get(key.lower() if key.startswith("%") else key)
        if c is None:
            return f'unknown user-defined format specifier "{key}"'
        if eq:
            c = (header, max(c[1], len(header)), c[2], c[3])
        cols.append(c)
    return None


# -- kill --------------------------------------------------------------------
def _kill_list(specs: list[str]) -> Result:
    if not specs:
        out = []
        nums = sorted(SIGNALS)
        for k, n in enumerate(nums, 1):
            out.append(f"{n:2d}) SIG{SIGNALS[n]}" + ("\n" if k % 5 == 0 else "\t"))
        text = "".join(out)
        return Result(0, text if text.endswith("\n") else text + "\n")
    out_lines, errors, status = [], [], 0
    for s in specs:
        if s.isdigit():
            n = int(s)
            n = n - 128 if n > 128 else n
            if n in SIGNALS:
                out_lines.append(SIGNALS[n] + "\n")
                continue
        else:
            n2 = signal_number(s)
            if n2 is not None and n2:
                out_lines.append(f"{n2}\n")
                continue
        errors.append(f"bash: kill: {s}: invalid signal specification\n")
        status = 1
    return Result(status, "".join(out_lines), "".join(errors))


@command("kill")
def kill(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    sig = SIGTERM
    if args and args[0] in ("-l", "-L"):
        return _kill_list(args[1:])
    if args and args[0] in ("-s", "-n"):
        if len(args) < 2:
            return Result(2, "", f"bash: kill: {args[0]}: option requires an argument\n{KILL_USAGE}")
        n = signal_number(args[1])
        if n is None:
            return Result(1, "", f"bash: kill: {args[1]}: invalid signal specification\n")
        sig, args = n, args[2:]
    elif args and args[0].startswith("-") and args[0] != "--" and len(args[0]) > 1:
        n = signal_number(args[0][1:])
        if n is None:
            return Result(1, "", f"bash: kill: {args[0][1:]}: invalid signal specification\n")
        sig, args = n, args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        return Result(2, "", KILL_USAGE)
    table = _table(ctx)
    errors = []
    for a in args:
        if a.startswith("%"):
            errors.append(f"bash: kill: {a}: no such job\n")
            continue
        if not a.lstrip("-").isdigit():
            errors.append(f"bash: kill: {a}: arguments must be process or job IDs\n")
            continue
        if table is None or not table.kill(int(a), sig):
            errors.append(f"bash: kill: ({a}) - No such process\n")
    return Result(1 if errors else 0, "", "".join(errors))


# -- pidof -------------------------------------------------------------------
@command("pidof")
def pidof(ctx: Context, argv: list[str]) -> Result:
    table = _table(ctx)
    quiet, single = False, False
    omit: set[str] = set()
    names = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-q",):
            quiet = True
        elif a == "-s":
            single = True
        elif a in ("-x", "-w", "-n", "-z"):
            continue
        elif a == "-o":
            if i >= len(args):
                return Result(1, "", "pidof: option requires an argument -- 'o'\n")
            omit.update(x for x in args[i].split(",") if x.isdigit())
            i += 1
        elif a.startswith("-") and len(a) > 1:
            return Result(1, "", f"pidof: invalid option -- '{a[1]}'\n")
        else:
            names.append(a)
    found: list[int] = []
    for name in names:
        for pid in (table.pidof(name) if table is not None else []):
            if str(pid) not in omit and pid not in found:
                found.append(pid)
    if single:
        found = found[:1]
    if not found:
        return Result(1)
    return Result(0, "" if quiet else " ".join(map(str, found)) + "\n")


# -- pgrep, pkill, killall ----------------------------------------------------
def _pgrep_usage(prog: str, bad: str) -> Result:
    return Result(2, "", f"{prog}: {bad}\n\nUsage:\n {prog} [options] <pattern>\n\n"
                         "For more details see pgrep(1).\n")


@command("pgrep", "pkill")
def pgrep(ctx: Context, argv: list[str]) -> Result:
    prog = argv[0].rsplit("/", 1)[-1]
    table = _table(ctx)
    full = exact = newest = oldest = False
    show = ""
    sig = SIGTERM
    patterns: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-f", "--full"):
            full = True
        elif a in ("-x", "--exact"):
            exact = True
        elif a in ("-n", "--newest"):
            newest = True
        elif a in ("-o", "--oldest"):
            oldest = True
        elif prog == "pgrep" and a in ("-l", "--list-name", "-a", "--list-full"):
            show = "a" if a in ("-a", "--list-full") else "l"
        elif prog == "pkill" and a == "--signal":
            if i >= len(args) or signal_number(args[i]) is None:
                return _pgrep_usage(prog, f"invalid argument for --signal: {args[i] if i < len(args) else ''}")
            sig = signal_number(args[i]) or 0
            i += 1
        elif prog == "pkill" and a.startswith("-") and len(a) > 1 and signal_number(a[1:]) is not None:
            sig = signal_number(a[1:]) or 0
        elif a.startswith("-") and len(a) > 1:
            return _pgrep_usage(prog, f"invalid option -- '{a[1]}'" if a[1] != "-" else f"unrecognized option '{a}'")
        else:
            patterns.append(a)
    if len(patterns) != 1:
        return _pgrep_usage(prog, "no matching criteria specified" if not patterns
                            else "only one pattern can be provided")
    try:
        rx = re.compile(patterns[0])
    except re.error:
        return Result(2, "", f"{prog}: regex error: Invalid regular expression\n")
    found = []
    for p in (table if table is not None else []):
        text = p.args if full else p.comm
        if (rx.fullmatch(text) if exact else rx.search(text)) and p.pid != 1:
            found.append(p)
    if found and (newest or oldest):
        found = [found[-1] if newest else found[0]]
    if not found:
        return Result(1)
    if prog == "pkill":
        for p in found:
            if table is not None:
                table.kill(p.pid, sig)
        return Result(0)
    out = "".join(f"{p.pid} {p.args if show == 'a' else p.comm}\n" if show else f"{p.pid}\n" for p in found)
    return Result(0, out)


@command("killall")
def killall(ctx: Context, argv: list[str]) -> Result:
    table = _table(ctx)
    sig, quiet = SIGTERM, False
    names: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-s", "--signal"):
            n = signal_number(args[i]) if i < len(args) else None
            if n is None:
                return Result(1, "", "killall: unknown signal; killall -l lists signals.\n")
            sig = n
            i += 1
        elif a.startswith("-") and len(a) > 1 and signal_number(a[1:]) is not None:
            sig = signal_number(a[1:]) or 0
        elif a.startswith("-") and len(a) > 1:
            return Result(1, "", f"killall: invalid option -- '{a[1]}'\n")   # netplex models -q, -s, -SIG
        else:
            names.append(a)
    if not names:
        return Result(1, "", "Usage: killall [OPTION]... [--] NAME...\n")
    status, err = 0, []
    for name in names:
        pids = table.pidof(name) if table is not None else []
        pids = [pid for pid in pids if pid != 1]
        if not pids:
            status = 1
            if not quiet:
                err.append(f"{name}: no process found\n")
        for pid in pids:
            if table is not None:
                table.kill(pid, sig)
    return Result(status, "", "".join(err))
