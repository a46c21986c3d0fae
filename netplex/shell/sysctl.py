"""`sysctl` (procps-ng 4.0.2, sysctl(8)) over a namespace's modelled /proc/sys/net keys.

Reads (`sysctl KEY`), writes (`sysctl [-w] KEY=VALUE`, echoed as typed),
`-n`, `-N`, `-b`, `-e`, `-q`, `-a` (every modelled key, in procps' directory
walk order). `-p`/`--system` read files a simulated node does not have and
are rejected with status 2.
"""
from __future__ import annotations

from typing import Any

from netplex.errors import NetplexError
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.sysctl import Sysctl

__all__ = ["sysctl"]

USAGE = """
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
"""
_LONG = {"--all": "a", "--binary": "b", "--ignore": "e", "--names": "N", "--values": "n", "--quiet": "q",
         "--write": "w", "--help": "h", "--version": "V", "--load": "p", "--system": "S", "--dry-run": "D"}


def _sort_key(key: str) -> tuple[str, ...]:
    return tuple(Sysctl.key_parts(key))


def _display(key: str) -> str:
    """procps' name for a key: path components joined by dots, a dot inside one shown as a
    slash (`net.ipv4.conf.eth0/96.forwarding`)."""
    return ".".join(p.replace(".", "/") for p in Sysctl.key_parts(key))


def _parts(op: str) -> list[str]:
    """slashdot(): the path components a typed name means. A name whose first separator is
    a slash is a path; otherwise dots separate and a slash stands for a dot in a component."""
    op = op.strip()
    first = next((c for c in op if c in "./"), ".")
    if first == "/":
        return [p for p in op.split("/") if p]
    return [p.replace("/", ".") for p in op.split(".") if p]


def _known(ns: Any, parts: list[str]) -> str | None:
    """The namespace's key at that path, if there is one (eth0.96 is one component, not two)."""
    key = ".".join(parts)
    ns.sysctl.mpls_sync()
    return key if key in ns.sysctl.values and Sysctl.key_parts(key) == parts else None


def _no_such(parts: list[str]) -> str:
    return f"sysctl: cannot stat /proc/sys/{'/'.join(parts)}: No such file or directory\n"


@command("sysctl")
def sysctl(ctx: Context, argv: list[str]) -> Result:
    ns = ctx.node
    flags: set[str] = set()
    operands: list[str] = []
    for a in argv[1:]:
        if operands or not a.startswith("-") or a == "-":
            operands.append(a)
            continue
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in _LONG:
                return Result(1, "", f"sysctl: unrecognized option '{a}'\n" + USAGE)
            flags.add(_LONG[name])
            continue
        for ch in a[1:]:
            if ch not in "aAXbeNnpfqwoxdhVr":
                return Result(1, "", f"sysctl: invalid option -- '{ch}'\n" + USAGE)
            flags.add({"A": "a", "X": "a", "f": "p", "d": "h"}.get(ch, ch))
    if "h" in flags:
        return Result(0, USAGE)
    if "V" in flags:
        return Result(0, "sysctl from procps-ng 4.0.2\n")
    if "p" in flags or "S" in flags:
        return Result(2, "", "netplex: sysctl -p/--system is not supported (a simulated node has no files)\n")
    if "r" in flags:
        return Result(2, "", "netplex: sysctl -r is not supported\n")
    names_only = "N" in flags
    values_only = "n" in flags
    end = "" if "b" in flags else "\n"

    def fmt(key: str, value: str) -> str:
        key = _display(key)
        if names_only:
            return key + end
        if values_only:
            return value + end
        return f"{key} = {value}{end}"

    if "a" in flags and not operands:
        return Result(0, "".join(fmt(k, ns.sysctl.values[k]) for k in sorted(ns.sysctl.keys(), key=_sort_key)))
    if not operands:
        if flags - {"o", "x"} or len(argv) > 1:
            return Result(1, "", "sysctl: no variables specified\nTry `sysctl --help' for more information.\n")
        return Result(1, "", USAGE)
    out: list[str] = []
    err: list[str] = []
    status = 0
    for op in operands:
        if "=" in op:
            key, _, value = op.partition("=")
            parts = _parts(key)
            found = _known(ns, parts)
            value = value.strip() if value.strip() else value
            if found is None:
                if "e" not in flags:
                    err.append(_no_such(parts))
                    status += 1
                continue
            if "D" not in flags:
                try:
                    ns.sysctl.set(found, value)
                except NetplexError as e:
                    err.append(f"sysctl: {e.message}\n")
                    status += 1
                    continue
            if "q" not in flags:
                out.append(fmt(found, value))
            continue
        if "w" in flags:
            err.append("sysctl: command line(0): invalid syntax, continuing...\n")
            status += 1
            continue
        parts = _parts(op)
        found = _known(ns, parts)
        if found is None:
            if "e" not in flags:
                err.append(_no_such(parts))
                status += 1
            continue
        out.append(fmt(found, ns.sysctl.get(found)))
    return Result(status, "".join(out), "".join(err))
