"""grep(1) as GNU grep 3.8 on Debian 12 behaves under LC_ALL=C."""
from __future__ import annotations

import re

from netplex.shell.coreutils.common import (
    gnu_getopt,
    read_inputs,
    split_lines,
    text_tool,
)
from netplex.shell.coreutils.regex import RegexError, bre_to_python, ere_to_python
from netplex.shell.registry import Context
from netplex.shell.result import Result

_GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"
_GREP_LONGS = {
    "quiet": "q", "silent": "q", "count": "c", "invert-match": "v", "extended-regexp": "E",
    "basic-regexp": "G", "fixed-strings": "F", "ignore-case": "i", "word-regexp": "w",
    "line-regexp": "x", "only-matching": "o", "line-number": "n", "regexp=": "e",
    "max-count=": "m", "with-filename": "H", "no-filename": "h", "no-messages": "s",
    "files-with-matches": "l", "files-without-match": "L", "color=": "\0", "colour=": "\0",
    "color": "\0", "colour": "\0",
}


@text_tool("grep")
def grep(ctx: Context, argv: list[str]) -> Result:
    """grep(1): print lines that match patterns."""
    opts, operands = gnu_getopt("grep", argv[1:], "qcvEGFiywxonHhslLP", "em", _GREP_LONGS, 2, _GREP_USAGE)
    flags = set()
    patterns: list[str] = []
    have_e = False
    max_count = -1
    mode = "G"
    for o, v in opts:
        if o == "e":
            patterns.extend(v.split("\n"))
            have_e = True
        elif o == "m":
            try:
                max_count = int(v)
            except ValueError:
                return Result(2, "", "grep: invalid max count\n")
        elif o in "EGF":
            mode = o
        elif o == "P":
            return Result(2, "", "netplex: grep -P (Perl regular expressions) is not supported\n")
        elif o == "y":
            flags.add("i")
        else:
            flags.add(o)
    if not have_e:
        if not operands:
            return Result(2, "", _GREP_USAGE)
        patterns = operands.pop(0).split("\n")

    compiled: list[re.Pattern[str]] = []
    try:
        for p in patterns:
            if mode == "F":
                py = re.escape(p)
            else:
                py = ere_to_python(p) if mode == "E" else bre_to_python(p)
            if "x" in flags:
                py = f"^(?:{py})$"
            elif "w" in flags:
                py = rf"(?<!\w)(?:{py})(?!\w)"
            compiled.append(re.compile(py, re.IGNORECASE if "i" in flags else 0))
    except RegexError as e:
        return Result(2, "", f"grep: {e}\n")
    except re.error as e:
        return Result(2, "", f"grep: {e}\n")

    inputs, errors = read_inputs(ctx, operands, lambda p: f"grep: {p}: No such file or directory\n")
    status_if_error = 2 if errors else None
    if "s" in flags:
        errors = []
    show_name = ("H" in flags or len(operands) > 1) and "h" not in flags
    invert = "v" in flags
    out: list[str] = []
    selected_any = False
    for name, text in inputs:
        label = "(standard input)" if name == "-" else name
        prefix = f"{label}:" if show_name else ""
        count = 0
        for lineno, line in enumerate(split_lines(text), 1):
            if max_count >= 0 and count >= max_count:
                break
            hit = any(p.search(line) for p in compiled)
            if hit == invert:
                continue
            count += 1
            selected_any = True
            if "q" in flags:
                return Result(0)
            if flags & {"c", "l", "L"}:
                continue
            num = f"{lineno}:" if "n" in flags else ""
            if "o" in flags:
                if not invert:
                    for m in _all_matches(compiled, line):
                        out.append(f"{prefix}{num}{m}\n")
            else:
                out.append(f"{prefix}{num}{line}\n")
        if "l" in flags:
            if count:
                out.append(f"{label}\n")
        elif "L" in flags:
            if not count:
                out.append(f"{label}\n")
        elif "c" in flags:
            out.append(f"{prefix}{count}\n")
    status = status_if_error or (0 if selected_any else 1)
    return Result(status, "".join(out), "".join(errors))


def _all_matches(compiled: list[re.Pattern[str]], line: str) -> list[str]:
    """Non-empty matches left to right; at one position the longest wins (POSIX)."""
    found: list[str] = []
    pos = 0
    while pos <= len(line):
        best: tuple[int, int] | None = None
        for p in compiled:
            m = p.search(line, pos)
            if m and (best is None or m.start() < best[0] or (m.start() == best[0] and m.end() > best[1])):
                best = (m.start(), m.end())
        if best is None:
            break
        start, end = best
        if end == start:
            pos = start + 1
            continue
        found.append(line[start:end])
        pos = end
    return found
