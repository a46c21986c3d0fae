"""The small text tools people pipe network commands into.

grep(1), wc(1), head(1), tail(1), sort(1), uniq(1), cut(1), tr(1), seq(1),
cat(1), sleep(1), true(1), false(1) as GNU coreutils and GNU grep 3.8 on
Debian 12 behave under LC_ALL=C; echo and printf as bash's builtins; awk as
mawk for a useful subset (print with fields, NR/NF, regex and comparison
patterns, BEGIN/END). Output and error texts are the real tools'; what
netplex does not implement is refused with status 2 and a message that says
so, never silently ignored.

Files named as operands are read through `ctx.read_file` (the node's /proc
and /sys); `-` or no operand means standard input.
"""
from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Callable

from netplex.shell.registry import Context, FileReadError, command
from netplex.shell.result import Result

__all__ = ["bre_to_python", "ere_to_python"]


# ---------------------------------------------------------------- helpers


class _Usage(Exception):
    """A command-line error; `result` is what the tool prints and returns."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.error)
        self.result = result


def _try(prog: str) -> str:
    return f"Try '{prog} --help' for more information.\n"


def _bad(prog: str, msg: str, status: int = 1, hint: bool = True) -> _Usage:
    return _Usage(Result(status, "", f"{prog}: {msg}\n" + (_try(prog) if hint else "")))


def _getopt(
    prog: str,
    argv: list[str],
    flags: str,
    with_arg: str,
    longs: dict[str, str] | None = None,
    status: int = 1,
    usage: str = "",
) -> tuple[list[tuple[str, str]], list[str]]:
    """GNU getopt_long with permutation: (options in order, operands).

    `flags` take no argument, `with_arg` take one; `longs` maps a long name
    to its short letter (a trailing "=" on the name means it takes an argument).
    """
    longs = longs or {}
    tail = usage or _try(prog)
    opts: list[tuple[str, str]] = []
    operands: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            operands.extend(argv[i:])
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            matches = [k for k in longs if k.rstrip("=") == name] or [
                k for k in longs if k.rstrip("=").startswith(name)
            ]
            if len(matches) != 1:
                raise _Usage(Result(status, "", f"{prog}: unrecognized option '{arg}'\n{tail}"))
            key = matches[0]
            if key.endswith("="):
                if not eq:
                    if i >= len(argv):
                        raise _Usage(Result(status, "", f"{prog}: option '--{key[:-1]}' requires an argument\n{tail}"))
                    value = argv[i]
                    i += 1
            elif eq:
                raise _Usage(Result(status, "", f"{prog}: option '--{key}' doesn't allow an argument\n{tail}"))
            opts.append((longs[key], value))
            continue
        if arg.startswith("-") and arg != "-":
            j = 1
            while j < len(arg):
                c = arg[j]
                j += 1
                if c in with_arg:
                    if j < len(arg):
                        value = arg[j:]
                    elif i < len(argv):
                        value = argv[i]
                        i += 1
                    else:
                        raise _Usage(Result(status, "", f"{prog}: option requires an argument -- '{c}'\n{tail}"))
                    opts.append((c, value))
                    break
                if c in flags:
                    opts.append((c, ""))
                else:
                    raise _Usage(Result(status, "", f"{prog}: invalid option -- '{c}'\n{tail}"))
            continue
        operands.append(arg)
    return opts, operands


def _command(name: str) -> Callable[[Callable[[Context, list[str]], Result]], Callable[[Context, list[str]], Result]]:
    """Register a text tool; a `_Usage` raised inside becomes its Result."""

    def wrap(fn: Callable[[Context, list[str]], Result]) -> Callable[[Context, list[str]], Result]:
        @functools.wraps(fn)
        def run(ctx: Context, argv: list[str]) -> Result:
            try:
                return fn(ctx, argv)
            except _Usage as e:
                return e.result

        command(name)(run)
        return run

    return wrap


def _lines(text: str) -> list[str]:
    """Lines without their newlines; a last line lacking one still counts."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _inputs(ctx: Context, operands: list[str], missing: Callable[[str], str]) -> tuple[list[tuple[str, str]], list[str]]:
    """[(name, text)] for each operand ("-" is stdin), and the error lines for missing files."""
    found: list[tuple[str, str]] = []
    errors: list[str] = []
    for name in operands or ["-"]:
        if name == "-":
            found.append(("-", ctx.stdin))
            continue
        try:
            text = ctx.read_file(name)
        except FileReadError as e:
            errors.append(missing(name).replace("No such file or directory", e.message))
            continue
        if text is None:
            errors.append(missing(name))
        else:
            found.append((name, text))
    return found, errors


# ---------------------------------------------------------------- regular expressions

_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "0-9A-Za-z", "upper": "A-Z", "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v", "blank": " \\t", "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").replace("-", "\\-"),
    "cntrl": "\\x00-\\x1f\\x7f", "print": "\\x20-\\x7e", "graph": "\\x21-\\x7e",
}


class RegexError(ValueError):
    """A pattern GNU grep would reject; the message is grep's."""


def _bracket(pat: str, i: int) -> tuple[str, int]:
    """Translate the POSIX bracket expression starting after `[` at i; returns (python, next index)."""
    out = ["["]
    if i < len(pat) and pat[i] == "^":
        out.append("^")
        i += 1
    first = True
    while True:
        if i >= len(pat):
            raise RegexError("Unmatched [, [^, [:, [., or [=")
        c = pat[i]
        if c == "]" and not first:
            return "".join(out) + "]", i + 1
        first = False
        if c == "[" and i + 1 < len(pat) and pat[i + 1] in ":.=":
            kind = pat[i + 1]
            end = pat.find(kind + "]", i + 2)
            if end < 0:
                raise RegexError("Unmatched [, [^, [:, [., or [=")
            name = pat[i + 2:end]
            if kind == ":":
                if name not in _CLASSES:
                    raise RegexError("Invalid character class name")
                out.append(_CLASSES[name])
            else:
                out.append(re.escape(name))
            i = end + 2
            continue
        out.append("\\" + c if c in "\\[]^&|~" else c)
        i += 1


_INTERVAL = re.compile(r"\{(\d*)(,?)(\d*)\}")


class _ReBuilder:
    """Atoms of the Python pattern being built, so quantifiers bind to the right thing."""

    def __init__(self) -> None:
        self.atoms: list[str] = []
        self.quantified: list[bool] = []
        self.groups: list[int] = []  # index in atoms where each open group starts

    def atom(self, s: str) -> None:
        self.atoms.append(s)
        self.quantified.append(False)

    def quantify(self, q: str) -> bool:
        """Apply q to the last atom; False when there is no atom (the caller makes q literal)."""
        start = self.groups[-1] + 1 if self.groups else 0
        if len(self.atoms) <= start or self.atoms[-1] in ("|", "^"):
            return False
        if self.quantified[-1]:
            self.atoms[-1] = f"(?:{self.atoms[-1]})"
        self.atoms[-1] += q
        self.quantified[-1] = True
        return True

    def open(self) -> None:
        self.groups.append(len(self.atoms))
        self.atom("(")

    def close(self) -> bool:
        if not self.groups:
            return False
        start = self.groups.pop()
        merged = "".join(self.atoms[start:]) + ")"
        del self.atoms[start:], self.quantified[start:]
        self.atom(merged)
        return True

    def at_start(self) -> bool:
        """Nothing yet in the current branch (start of RE, after `(` or `|`)."""
        return not self.atoms or self.atoms[-1] in ("(", "|", "^") and not self.quantified[-1]

    def result(self) -> str:
        if self.groups:
            raise RegexError("Unmatched ( or \\(")
        return "".join(self.atoms)


def _escape_common(b: _ReBuilder, c: str) -> None:
    """GNU escapes shared by BRE and ERE (after a backslash)."""
    table = {"w": r"\w", "W": r"\W", "s": r"\s", "S": r"\S", "b": r"\b", "B": r"\B",
             "<": r"\b(?=\w)", ">": r"\b(?<=\w)", "`": r"\A", "'": r"\Z"}
    if c in table:
        b.atom(table[c])
    elif c.isdigit() and c != "0":
        b.atom("\\" + c)
    else:
        b.atom(re.escape(c))


def _translate(pat: str, extended: bool) -> str:
    b = _ReBuilder()
    i = 0
    n = len(pat)
    while i < n:
        c = pat[i]
        if c == "\\":
            if i + 1 >= n:
                raise RegexError("Trailing backslash")
            e = pat[i + 1]
            i += 2
            if not extended and e == "(":
                b.open()
            elif not extended and e == ")":
                if not b.close():
                    raise RegexError("Unmatched ) or \\)")
            elif not extended and e == "|":
                b.atom("|")
            elif not extended and e in "+?":
                if not b.quantify(e):
                    b.atom(re.escape(e))
            elif not extended and e == "{":
                m = _INTERVAL.match("{" + pat[i:].replace("\\}", "}", 1))
                end = pat.find("\\}", i)
                if not m or end < 0:
                    raise RegexError("Unmatched \\{")
                if not b.quantify(_interval(m)):
                    raise RegexError("Invalid preceding regular expression")
                i = end + 2
            else:
                _escape_common(b, e)
            continue
        i += 1
        if c == "[":
            cls, i = _bracket(pat, i)
            b.atom(cls)
        elif c == ".":
            b.atom(".")
        elif c == "*":
            if b.at_start() or not b.quantify("*"):
                b.atom(r"\*")
        elif c == "^":
            if extended or b.at_start():
                b.atom("^")
            else:
                b.atom(r"\^")
        elif c == "$":
            at_end = i >= n or pat.startswith("\\)", i) or pat.startswith("\\|", i)
            b.atom("$" if extended or at_end else r"\$")
        elif extended and c in "+?":
            if not b.quantify(c):
                b.atom(re.escape(c))
        elif extended and c == "{":
            m = _INTERVAL.match(pat, i - 1)
            if m and (m.group(1) or m.group(3)) and b.quantify(_interval(m)):
                i = m.end()
            else:
                b.atom(r"\{")
        elif extended and c == "(":
            b.open()
        elif extended and c == ")":
            if not b.close():
                b.atom(r"\)")
        elif extended and c == "|":
            b.atom("|")
        else:
            b.atom(re.escape(c))
    return b.result()


def _interval(m: re.Match[str]) -> str:
    lo, comma, hi = m.group(1), m.group(2), m.group(3)
    if lo and hi and int(lo) > int(hi):
        raise RegexError("Invalid content of \\{\\}")
    return "{" + (lo or "0") + comma + hi + "}"


def bre_to_python(pattern: str) -> str:
    """A POSIX basic regular expression (GNU flavour) as a Python pattern."""
    return _translate(pattern, extended=False)


def ere_to_python(pattern: str) -> str:
    """A POSIX extended regular expression (GNU flavour) as a Python pattern."""
    return _translate(pattern, extended=True)


# ---------------------------------------------------------------- grep

_GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"
_GREP_LONGS = {
    "quiet": "q", "silent": "q", "count": "c", "invert-match": "v", "extended-regexp": "E",
    "basic-regexp": "G", "fixed-strings": "F", "ignore-case": "i", "word-regexp": "w",
    "line-regexp": "x", "only-matching": "o", "line-number": "n", "regexp=": "e",
    "max-count=": "m", "with-filename": "H", "no-filename": "h", "no-messages": "s",
    "files-with-matches": "l", "files-without-match": "L", "color=": "\0", "colour=": "\0",
    "color": "\0", "colour": "\0",
}


@_command("grep")
def grep(ctx: Context, argv: list[str]) -> Result:
    """grep(1): print lines that match patterns."""
    opts, operands = _getopt("grep", argv[1:], "qcvEGFiywxonHhslLP", "em", _GREP_LONGS, 2, _GREP_USAGE)
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
                py = _translate(p, extended=(mode == "E"))
            if "x" in flags:
                py = f"^(?:{py})$"
            elif "w" in flags:
                py = rf"(?<!\w)(?:{py})(?!\w)"
            compiled.append(re.compile(py, re.IGNORECASE if "i" in flags else 0))
    except RegexError as e:
        return Result(2, "", f"grep: {e}\n")
    except re.error as e:
        return Result(2, "", f"grep: {e}\n")

    inputs, errors = _inputs(ctx, operands, lambda p: f"grep: {p}: No such file or directory\n")
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
        for lineno, line in enumerate(_lines(text), 1):
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


# ---------------------------------------------------------------- wc


def _file_size(name: str, text: str) -> int | None:
    """What stat(2) reports as st_size for a file read from the node (None: not a regular file)."""
    if name == "-":
        return None
    if name.startswith("/proc/"):
        return 0
    if name.startswith("/sys/"):
        return 4096
    return len(text.encode())


@_command("wc")
def wc(ctx: Context, argv: list[str]) -> Result:
    """wc(1): newline, word and byte counts."""
    longs = {"lines": "l", "words": "w", "bytes": "c", "chars": "m", "max-line-length": "L"}
    opts, operands = _getopt("wc", argv[1:], "lwcmL", "", longs)
    which = {o for o, _ in opts} or {"l", "w", "c"}
    order = [k for k in "lwmcL" if k in which]
    inputs, errors = _inputs(ctx, operands, lambda p: f"wc: {p}: No such file or directory\n")
    rows: list[tuple[list[int], str]] = []
    totals = [0] * len(order)
    for name, text in inputs:
        counts = []
        for k in order:
            if k == "l":
                counts.append(text.count("\n"))
            elif k == "w":
                counts.append(len(text.split()))
            elif k == "m":
                counts.append(len(text))
            elif k == "c":
                counts.append(len(text.encode()))
            else:
                counts.append(max((len(line.expandtabs()) for line in text.split("\n")), default=0))
        totals = [max(t, c) if k == "L" else t + c for t, c, k in zip(totals, counts, order)]
        rows.append((counts, "" if name == "-" and not operands else name))
    nfiles = len(operands) or 1
    if nfiles == 1 and len(order) == 1:
        width = 1
    else:
        width, minimum, regular = 1, 1, 0
        for name, text in inputs:
            size = _file_size(name, text)
            if size is None:
                minimum = 7
            else:
                regular += size
        while regular >= 10:
            width += 1
            regular //= 10
        width = max(width, minimum)
        if errors and not inputs:
            width = 1
    out = []
    for counts, name in rows:
        line = " ".join(str(c).rjust(width) for c in counts)
        out.append(line + (f" {name}" if name else "") + "\n")
    if nfiles > 1:
        out.append(" ".join(str(c).rjust(width) for c in totals) + " total\n")
    return Result(1 if errors else 0, "".join(out), "".join(errors))


# ---------------------------------------------------------------- head, tail


def _count_arg(prog: str, value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise _Usage(Result(1, "", f"{prog}: invalid number of {what}: '{value}'\n")) from None
    return n


def _numeric_shorthand(argv: list[str]) -> list[str]:
    """`head -5` / `tail -5` / `tail +5` mean `-n 5` / `-n +5`."""
    if len(argv) > 1 and re.fullmatch(r"-\d+[cl]?", argv[1]):
        arg = argv[1]
        flag = "-c" if arg.endswith("c") else "-n"
        return [argv[0], flag, arg[1:].rstrip("cl"), *argv[2:]]
    return argv


@_command("head")
def head(ctx: Context, argv: list[str]) -> Result:
    """head(1): the first part of files."""
    argv = _numeric_shorthand(argv)
    longs = {"lines=": "n", "bytes=": "c", "quiet": "q", "silent": "q", "verbose": "v"}
    opts, operands = _getopt("head", argv[1:], "qv", "nc", longs)
    unit, count, headers = "n", 10, len(operands) > 1
    for o, v in opts:
        if o in "nc":
            unit = o
            count = _count_arg("head", v, "lines" if o == "n" else "bytes")
        elif o == "q":
            headers = False
        elif o == "v":
            headers = True
    inputs, errors = _inputs(ctx, operands, lambda p: f"head: cannot open '{p}' for reading: No such file or directory\n")
    out = []
    for k, (name, text) in enumerate(inputs):
        if headers:
            label = "standard input" if name == "-" else name
            out.append(("\n" if k else "") + f"==> {label} <==\n")
        if unit == "c":
            data = text.encode()
            out.append(data[:count].decode(errors="replace"))  # a negative count: all but the last
        else:
            pieces = text.splitlines(keepends=True)
            out.append("".join(pieces[:count]))
    return Result(1 if errors else 0, "".join(out), "".join(errors))


@_command("tail")
def tail(ctx: Context, argv: list[str]) -> Result:
    """tail(1): the last part of files."""
    argv = _numeric_shorthand(argv)
    longs = {"lines=": "n", "bytes=": "c", "quiet": "q", "silent": "q", "verbose": "v", "follow": "f"}
    opts, operands = _getopt("tail", argv[1:], "qvfF", "nc", longs)
    unit, count, from_start, headers = "n", 10, False, len(operands) > 1
    for o, v in opts:
        if o in "nc":
            unit = o
            from_start = v.startswith("+")
            count = abs(_count_arg("tail", v.lstrip("+"), "lines" if o == "n" else "bytes"))
        elif o == "q":
            headers = False
        elif o == "v":
            headers = True
        elif o in "fF":
            return Result(2, "", "netplex: tail -f (follow) is not supported\n")
    inputs, errors = _inputs(ctx, operands, lambda p: f"tail: cannot open '{p}' for reading: No such file or directory\n")
    out = []
    for k, (name, text) in enumerate(inputs):
        if headers:
            label = "standard input" if name == "-" else name
            out.append(("\n" if k else "") + f"==> {label} <==\n")
        if unit == "c":
            data = text.encode()
            part = data[max(count - 1, 0):] if from_start else (data[-count:] if count else b"")
            out.append(part.decode(errors="replace"))
        else:
            pieces = text.splitlines(keepends=True)
            chosen = pieces[max(count - 1, 0):] if from_start else (pieces[-count:] if count else [])
            out.append("".join(chosen))
    return Result(1 if errors else 0, "".join(out), "".join(errors))


# ---------------------------------------------------------------- sort

_NUM = re.compile(r"[ \t]*(-?)(\d*)(?:\.(\d*))?")


def _numeric_key(s: str) -> Decimal:
    m = _NUM.match(s)
    assert m is not None
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    if not whole and not frac:
        return Decimal(0)
    return Decimal(f"{sign}{whole or '0'}.{frac or '0'}")


class _Key:
    __slots__ = ("start_field", "start_char", "end_field", "end_char", "opts")

    def __init__(self, spec: str, global_opts: str) -> None:
        m = re.fullmatch(r"(\d+)(?:\.(\d+))?([bdfgiMhnRrV]*)(?:,(\d+)(?:\.(\d+))?([bdfgiMhnRrV]*))?", spec)
        if not m:
            bad = re.match(r"\d*", spec)
            raise _bad("sort", f"invalid number at field start: invalid count at start of '{spec[bad.end() if bad else 0:] or spec}'", 2, False)
        if int(m.group(1)) == 0:
            raise _bad("sort", f"field number is zero: invalid field specification '{spec}'", 2, False)
        self.start_field = int(m.group(1))
        self.start_char = int(m.group(2) or 1)
        self.end_field = int(m.group(4)) if m.group(4) else None
        self.end_char = int(m.group(5) or 0)
        own = (m.group(3) or "") + (m.group(6) or "")
        self.opts = own if own else global_opts


def _fields(line: str, sep: str | None) -> list[tuple[int, int]]:
    """(start, end) of each field; without -t a field is its leading blanks plus non-blanks."""
    if sep is not None:
        spans, start = [], 0
        while True:
            end = line.find(sep, start)
            if end < 0:
                spans.append((start, len(line)))
                return spans
            spans.append((start, end))
            start = end + 1
    return [m.span() for m in re.finditer(r"[ \t]*[^ \t]+|[ \t]+$", line)] or [(0, 0)]


def _key_text(line: str, key: _Key, sep: str | None) -> str:
    spans = _fields(line, sep)
    if key.start_field > len(spans):
        return ""
    fstart, fend = spans[key.start_field - 1]
    if "b" in key.opts:
        while fstart < fend and line[fstart] in " \t":
            fstart += 1
    start = min(fstart + key.start_char - 1, fend)
    if key.end_field is None:
        end = len(line)
    elif key.end_field > len(spans):
        end = len(line)
    else:
        s, e = spans[key.end_field - 1]
        end = e if key.end_char == 0 else min(s + key.end_char, e)
    return line[start:max(start, end)]


@_command("sort")
def sort(ctx: Context, argv: list[str]) -> Result:
    """sort(1) under LC_ALL=C: byte order, -n -r -u -k -t -b -f -s."""
    longs = {"numeric-sort": "n", "reverse": "r", "unique": "u", "key=": "k", "field-separator=": "t",
             "ignore-leading-blanks": "b", "ignore-case": "f", "stable": "s"}
    opts, operands = _getopt("sort", argv[1:], "nrubfsghVMR", "kt", longs, status=2)
    global_opts = ""
    key_specs: list[str] = []
    sep: str | None = None
    unique = stable = False
    for o, v in opts:
        if o in "nrbf":
            global_opts += o
        elif o in "ghVMR":
            return Result(2, "", f"netplex: sort -{o} is not supported\n")
        elif o == "u":
            unique = True
        elif o == "s":
            stable = True
        elif o == "k":
            key_specs.append(v)
        elif o == "t":
            if len(v) != 1:
                if v == "\\0":
                    v = "\0"
                else:
                    return Result(2, "", f"sort: multi-character tab '{v}'\n")
            sep = v
    keys = [_Key(s, global_opts) for s in key_specs]
    inputs, errors = _inputs(ctx, operands, lambda p: f"sort: cannot read: {p}: No such file or directory\n")
    if errors:
        return Result(2, "", errors[0])
    lines = [line for _, text in inputs for line in _lines(text)]
    whole = _Key("1", global_opts)
    whole.start_field, whole.end_field = 1, None

    def key_of(line: str, key: _Key) -> str:
        return line if not keys else _key_text(line, key, sep)

    def cmp_key(a: str, b: str, key: _Key) -> int:
        ka, kb = (a, b) if not keys else (key_of(a, key), key_of(b, key))
        if "b" in key.opts and not keys:
            ka, kb = ka.lstrip(" \t"), kb.lstrip(" \t")
        if "n" in key.opts:
            na, nb = _numeric_key(ka), _numeric_key(kb)
            c = (na > nb) - (na < nb)
        else:
            if "f" in key.opts:
                ka, kb = ka.upper(), kb.upper()
            ba, bb = ka.encode(), kb.encode()
            c = (ba > bb) - (ba < bb)
        return -c if "r" in key.opts else c

    def compare_keys(a: str, b: str) -> int:
        for key in keys or [whole]:
            c = cmp_key(a, b, key)
            if c:
                return c
        return 0

    def compare(a: str, b: str) -> int:
        c = compare_keys(a, b)
        if c or stable or unique:
            return c
        ba, bb = a.encode(), b.encode()
        c = (ba > bb) - (ba < bb)
        return -c if "r" in global_opts else c

    lines.sort(key=functools.cmp_to_key(compare))
    if unique:
        kept: list[str] = []
        for line in lines:
            if not kept or compare_keys(kept[-1], line) != 0:
                kept.append(line)
        lines = kept
    return Result(0, "".join(line + "\n" for line in lines))


# ---------------------------------------------------------------- uniq


@_command("uniq")
def uniq(ctx: Context, argv: list[str]) -> Result:
    """uniq(1): report or omit repeated adjacent lines."""
    longs = {"count": "c", "repeated": "d", "unique": "u", "ignore-case": "i"}
    opts, operands = _getopt("uniq", argv[1:], "cdui", "", longs)
    flags = {o for o, _ in opts}
    if len(operands) > 1:
        return Result(2, "", "netplex: uniq with an output file is not supported\n")
    inputs, errors = _inputs(ctx, operands, lambda p: f"uniq: {p}: No such file or directory\n")
    if errors:
        return Result(1, "", errors[0])
    groups: list[list[str]] = []
    for line in _lines(inputs[0][1]):
        same = groups and (groups[-1][0].lower() == line.lower() if "i" in flags else groups[-1][0] == line)
        if same:
            groups[-1].append(line)
        else:
            groups.append([line])
    out = []
    for g in groups:
        if "d" in flags and len(g) < 2 or "u" in flags and len(g) > 1:
            continue
        out.append(f"{len(g):7d} {g[0]}\n" if "c" in flags else g[0] + "\n")
    return Result(0, "".join(out))


# ---------------------------------------------------------------- cut


def _cut_list(spec: str, what: str) -> list[tuple[int, int]]:
    ranges = []
    for item in spec.split(","):
        m = re.fullmatch(r"(\d*)(-?)(\d*)", item)
        if not m or item in ("", "-"):
            msg = f"invalid {what} value '{item}'" if item not in ("", "-") else "invalid range with no endpoint: -"
            if item == "":
                msg = f"{what}s are numbered from 1"
            raise _bad("cut", msg)
        lo, dash, hi = m.group(1), m.group(2), m.group(3)
        if (lo and int(lo) == 0) or (hi and int(hi) == 0 and not dash) or (dash and hi and int(hi) == 0):
            raise _bad("cut", f"{what}s are numbered from 1" if not dash or lo == "0" else "invalid decreasing range")
        a = int(lo) if lo else 1
        b = (int(hi) if hi else 1 << 30) if dash else a
        if b < a:
            raise _bad("cut", "invalid decreasing range")
        ranges.append((a, b))
    return ranges


@_command("cut")
def cut(ctx: Context, argv: list[str]) -> Result:
    """cut(1): select fields (-f with -d) or characters (-c, -b) of each line."""
    longs = {"delimiter=": "d", "fields=": "f", "characters=": "c", "bytes=": "b",
             "only-delimited": "s", "output-delimiter=": "O", "complement": "C"}
    opts, operands = _getopt("cut", argv[1:], "sn", "dfcb", longs)
    mode = spec = ""
    delim = "\t"
    out_delim: str | None = None
    only_delimited = complement = False
    for o, v in opts:
        if o in "fcb":
            if mode:
                raise _bad("cut", "only one list may be specified")
            mode, spec = o, v
        elif o == "d":
            if len(v) != 1:
                raise _bad("cut", "the delimiter must be a single character")
            delim = v
        elif o == "s":
            only_delimited = True
        elif o == "O":
            out_delim = v
        elif o == "C":
            complement = True
    if not mode:
        raise _bad("cut", "you must specify a list of bytes, characters, or fields")
    ranges = _cut_list(spec, "field" if mode == "f" else "byte/character")

    def wanted(i: int) -> bool:
        return any(a <= i <= b for a, b in ranges) != complement

    inputs, errors = _inputs(ctx, operands, lambda p: f"cut: {p}: No such file or directory\n")
    out = []
    for _, text in inputs:
        for line in _lines(text):
            if mode == "f":
                if delim not in line:
                    if not only_delimited:
                        out.append(line + "\n")
                    continue
                parts = line.split(delim)
                kept = [p for i, p in enumerate(parts, 1) if wanted(i)]
                out.append((delim if out_delim is None else out_delim).join(kept) + "\n")
            else:
                out.append("".join(ch for i, ch in enumerate(line, 1) if wanted(i)) + "\n")
    return Result(1 if errors else 0, "".join(out), "".join(errors))


# ---------------------------------------------------------------- tr


def _tr_set(spec: str) -> list[str]:
    """Expand a tr(1) SET: escapes, ranges a-z and [:class:]."""
    chars: list[str] = []
    i = 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    classes = {
        "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "lower": "abcdefghijklmnopqrstuvwxyz",
        "digit": "0123456789", "space": " \t\n\r\f\v", "blank": " \t",
        "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "xdigit": "0123456789ABCDEFabcdef",
    }
    classes["alpha"] = classes["upper"] + classes["lower"]
    classes["alnum"] = classes["digit"] + classes["alpha"]
    while i < len(spec):
        m = re.match(r"\[:(\w+):\]", spec[i:])
        if m and m.group(1) in classes:
            chars.extend(classes[m.group(1)])
            i += m.end()
            continue
        c = spec[i]
        if c == "\\" and i + 1 < len(spec):
            o = re.match(r"[0-7]{1,3}", spec[i + 1:])
            if o:
                c = chr(int(o.group(), 8))
                i += 1 + len(o.group())
            else:
                c = simple.get(spec[i + 1], spec[i + 1])
                i += 2
        else:
            i += 1
        if i + 1 < len(spec) and spec[i] == "-":
            hi = spec[i + 1]
            if ord(hi) < ord(c):
                raise _bad("tr", f"range-endpoints of '{c}-{hi}' are in reverse collating sequence order", hint=False)
            chars.extend(chr(k) for k in range(ord(c), ord(hi) + 1))
            i += 2
        else:
            chars.append(c)
    return chars


@_command("tr")
def tr(ctx: Context, argv: list[str]) -> Result:
    """tr(1): translate, squeeze (-s) or delete (-d) characters."""
    longs = {"delete": "d", "squeeze-repeats": "s", "complement": "c", "truncate-set1": "t"}
    opts, operands = _getopt("tr", argv[1:], "dscCt", "", longs)
    flags = {("c" if o == "C" else o) for o, _ in opts}
    delete, squeeze = "d" in flags, "s" in flags
    if not operands:
        raise _bad("tr", "missing operand")
    need_two = not delete and not (squeeze and len(operands) == 1)
    if need_two and len(operands) < 2:
        raise _Usage(Result(1, "", f"tr: missing operand after '{operands[0]}'\n"
                                   "Two strings must be given when translating.\n" + _try("tr")))
    if len(operands) > (2 if need_two or (delete and squeeze) else 1):
        raise _bad("tr", f"extra operand '{operands[2 if need_two or (delete and squeeze) else 1]}'")
    set1 = _tr_set(operands[0])
    set2 = _tr_set(operands[1]) if len(operands) > 1 else []
    text = ctx.stdin
    in1: Callable[[str], bool] = (lambda ch: ch not in set1) if "c" in flags else (lambda ch: ch in set1)
    out: list[str] = []
    if delete:
        text = "".join(ch for ch in text if not in1(ch))
        squeeze_set = set(set2)
        if squeeze:
            for ch in text:
                if not (out and out[-1] == ch and ch in squeeze_set):
                    out.append(ch)
            text = "".join(out)
        return Result(0, text)
    if set2:
        if "c" in flags:
            mapping_fn: Callable[[str], str] = lambda ch: set2[-1] if in1(ch) else ch  # noqa: E731
        else:
            table: dict[str, str] = {}
            for k, ch in enumerate(set1):
                table[ch] = set2[min(k, len(set2) - 1)]
            mapping_fn = lambda ch: table.get(ch, ch)  # noqa: E731
        text = "".join(mapping_fn(ch) for ch in text)
    if squeeze:
        squeeze_in: Callable[[str], bool] = (lambda ch: ch in set2) if set2 else in1
        for ch in text:
            if not (out and out[-1] == ch and squeeze_in(ch)):
                out.append(ch)
        text = "".join(out)
    return Result(0, text)


# ---------------------------------------------------------------- seq


@_command("seq")
def seq(ctx: Context, argv: list[str]) -> Result:
    """seq(1): print a sequence of numbers."""
    args = argv[1:]
    sep, equal_width = "\n", False
    while args and args[0].startswith("-") and not re.fullmatch(r"-[\d.]+", args[0]):
        a = args.pop(0)
        if a == "--":
            break
        if a == "-w":
            equal_width = True
        elif a.startswith("-s"):
            sep = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
        else:
            raise _bad("seq", f"invalid option -- '{a[1:2]}'")
    if not args:
        raise _bad("seq", "missing operand")
    if len(args) > 3:
        raise _bad("seq", f"extra operand '{args[3]}'")
    nums = []
    for a in args:
        try:
            nums.append(Decimal(a))
        except InvalidOperation:
            raise _bad("seq", f"invalid floating point argument: '{a}'") from None
    first, step, last = (Decimal(1), Decimal(1), nums[0]) if len(nums) == 1 else (
        (nums[0], Decimal(1), nums[1]) if len(nums) == 2 else tuple(nums))
    if step == 0:
        raise _bad("seq", f"invalid Zero increment value: '{args[1]}'")
    # like GNU seq: as many decimals as FIRST and INCREMENT carry
    places = max((len(a.partition(".")[2]) for a in args[:-1]), default=0)
    values = []
    v = first
    while (v <= last) if step > 0 else (v >= last):
        values.append(f"{v:.{places}f}")
        v += step
    if equal_width and values:
        width = max(len(s) for s in values)
        values = [s.rjust(width, "0") if not s.startswith("-") else "-" + s[1:].rjust(width - 1, "0") for s in values]
    return Result(0, sep.join(values) + "\n" if values else "")


# ---------------------------------------------------------------- cat, true, false, sleep


@_command("cat")
def cat(ctx: Context, argv: list[str]) -> Result:
    """cat(1): concatenate files (-n numbers lines)."""
    opts, operands = _getopt("cat", argv[1:], "nu", "", {"number": "n"})
    number = any(o == "n" for o, _ in opts)
    out: list[str] = []
    errors: list[str] = []
    lineno = 0
    for name in operands or ["-"]:
        try:
            text = ctx.stdin if name == "-" else ctx.read_file(name)
        except FileReadError as e:
            errors.append(f"cat: {name}: {e.message}\n")
            continue
        if text is None:
            errors.append(f"cat: {name}: No such file or directory\n")
            continue
        if number:
            for piece in text.splitlines(keepends=True):
                lineno += 1
                out.append(f"{lineno:6d}\t{piece}")
        else:
            out.append(text)
    return Result(1 if errors else 0, "".join(out), "".join(errors))


@_command("true")
def true_(ctx: Context, argv: list[str]) -> Result:
    """true(1)."""
    return Result(0)


@_command("false")
def false_(ctx: Context, argv: list[str]) -> Result:
    """false(1)."""
    return Result(1)


_SLEEP_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@_command("sleep")
def sleep(ctx: Context, argv: list[str]) -> Result:
    """sleep(1): advance simulated time by the sum of the intervals."""
    args = argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        raise _bad("sleep", "missing operand")
    total = Decimal(0)
    errors = []
    for a in args:
        m = re.fullmatch(r"(\d+\.?\d*|\.\d+)([smhd]?)", a)
        if not m:
            errors.append(f"sleep: invalid time interval '{a}'\n")
            continue
        total += Decimal(m.group(1)) * _SLEEP_UNITS[m.group(2)]
    if errors:
        return Result(1, "", "".join(errors) + _try("sleep"))
    ctx.sleep(int(total * 1_000_000_000))
    return Result(0)


# ---------------------------------------------------------------- echo, printf (bash builtins)

_ECHO_ESC = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n",
             "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _backslash_escapes(s: str, echo: bool) -> tuple[str, bool]:
    """Decode echo -e / printf %b escapes; the bool is False when \\c stopped output."""
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\" or i + 1 >= len(s):
            out.append(c)
            i += 1
            continue
        e = s[i + 1]
        i += 2
        if e in _ECHO_ESC:
            out.append(_ECHO_ESC[e])
        elif e == "c":
            return "".join(out), False
        elif e == "0" or (not echo and e in "1234567"):
            m = re.match(r"[0-7]{0,3}" if echo or e == "0" else r"[0-7]{0,2}", s[i:])
            digits = m.group() if m else ""
            i += len(digits)
            out.append(chr(int((e if e != "0" or not echo else "") + digits or "0", 8) & 0xFF))
        elif e == "x" and re.match(r"[0-9A-Fa-f]", s[i:i + 1]):
            m = re.match(r"[0-9A-Fa-f]{1,2}", s[i:])
            assert m is not None
            i += len(m.group())
            out.append(chr(int(m.group(), 16)))
        else:
            out.append("\\" + e)
    return "".join(out), True


@_command("echo")
def echo(ctx: Context, argv: list[str]) -> Result:
    """bash's echo builtin: -n, -e, -E."""
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for c in args.pop(0)[1:]:
            if c == "n":
                newline = False
            else:
                escapes = c == "e"
    text = " ".join(args)
    if escapes:
        text, go_on = _backslash_escapes(text, echo=True)
        if not go_on:
            return Result(0, text)
    return Result(0, text + ("\n" if newline else ""))


_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\d*|\*))?(.?)", re.DOTALL)


@_command("printf")
def printf(ctx: Context, argv: list[str]) -> Result:
    """bash's printf builtin: %s %d %i %u %x %o %c %f %e %g %b %% with flags, width, precision."""
    if len(argv) < 2:
        return Result(2, "", "printf: usage: printf [-v var] format [arguments]\n")
    fmt, args = argv[1], argv[2:]
    if fmt == "--" and len(argv) > 2:
        fmt, args = argv[2], argv[3:]
    if fmt.startswith("-v"):
        return Result(2, "", "netplex: printf -v is not supported\n")
    out: list[str] = []
    errors: list[str] = []
    status = 0
    k = 0
    while True:
        consumed = False
        pos = 0
        for m in _PRINTF_SPEC.finditer(fmt):
            text, _ = _backslash_escapes(fmt[pos:m.start()], echo=False)
            out.append(text)
            pos = m.end()
            flags, width, prec, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            if not conv:
                errors.append(f"bash: line 1: printf: `{m.group()}': missing format character\n")
                return Result(1, "".join(out), "".join(errors))
            if conv not in "sdiuxXocfeEgGb":
                errors.append(f"bash: line 1: printf: `{conv}': invalid format character\n")
                return Result(1, "".join(out), "".join(errors))
            if width == "*":
                width = args[k] if k < len(args) else "0"
                k += 1
            if prec == "*":
                prec = args[k] if k < len(args) else "0"
                k += 1
            arg = args[k] if k < len(args) else None
            if arg is not None:
                k += 1
                consumed = True
            spec = "%" + flags + (width or "") + (f".{prec}" if prec is not None else "")
            if conv in "sb":
                s = arg or ""
                if conv == "b":
                    s, _ = _backslash_escapes(s, echo=True)
                out.append((spec + "s") % s)
            elif conv == "c":
                out.append((spec + "s") % (arg or "")[:1])
            elif conv in "diuxXo":
                value = 0
                if arg:
                    try:
                        if len(arg) >= 2 and arg[0] in "'\"":
                            value = ord(arg[1])
                        else:
                            value = int(arg, 0) if not re.fullmatch(r"[-+]?0\d+", arg) else int(arg, 8)
                    except ValueError:
                        errors.append(f"bash: line 1: printf: {arg}: invalid number\n")
                        status = 1
                out.append((spec + ("d" if conv in "iu" else conv)) % value)
            else:
                fvalue = 0.0
                if arg:
                    try:
                        fvalue = float(arg)
                    except ValueError:
                        errors.append(f"bash: line 1: printf: {arg}: invalid number\n")
                        status = 1
                out.append((spec + conv) % fvalue)
        text, go_on = _backslash_escapes(fmt[pos:], echo=False)
        out.append(text)
        if not consumed or k >= len(args) or not go_on:
            break
    return Result(status, "".join(out), "".join(errors))


# ---------------------------------------------------------------- awk (a subset)


class _AwkUnsupported(Exception):
    pass


class _AwkRuntimeError(Exception):
    """mawk's "run time error"; the message is mawk's first line."""


_AWK_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<re>/(?:[^/\\]|\\.)*/)
    | (?P<num>\d+(?:\.\d*)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|!~|&&|\|\||[-+*/%<>~!(){},;$])
    )""",
    re.VERBOSE,
)


class _AwkProgram:
    """A parsed awk program of `pattern { print ... }` rules (mawk's semantics for that subset)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.toks = self._tokenize(source)
        self.i = 0
        self.begin: list[list[tuple]] = []
        self.end: list[list[tuple]] = []
        self.rules: list[tuple[tuple | None, list[tuple]]] = []
        while self._peek() is not None:
            if self._peek() == ("op", ";"):
                self.i += 1
                continue
            if self._peek() in (("name", "BEGIN"), ("name", "END")):
                which = self._next()[1]
                action = self._action()
                (self.begin if which == "BEGIN" else self.end).append(action)
                continue
            pattern = None if self._peek() == ("op", "{") else self._expr()
            action = self._action() if self._peek() == ("op", "{") else [("print", [])]
            self.rules.append((pattern, action))

    @staticmethod
    def _tokenize(source: str) -> list[tuple[str, str]]:
        toks = []
        pos = 0
        prev: tuple[str, str] | None = None
        while pos < len(source):
            if source[pos:].strip() == "":
                break
            m = _AWK_TOKEN.match(source, pos)
            if not m or m.end() == pos:
                raise _AwkUnsupported
            kind = m.lastgroup
            assert kind is not None
            text = m.group(kind)
            # `/` is division after a value, a regex otherwise
            if kind == "re" and prev is not None and (prev[0] in ("num", "str", "name") or prev == ("op", ")")):
                m2 = re.compile(r"\s*(/)").match(source, pos)
                assert m2 is not None
                kind, text, end = "op", "/", m2.end()
            else:
                end = m.end()
            tok = (kind, text)
            toks.append(tok)
            prev = tok
            pos = end
        return toks

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _next(self) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise _AwkUnsupported
        self.i += 1
        return tok

    def _expect(self, tok: tuple[str, str]) -> None:
        if self._next() != tok:
            raise _AwkUnsupported

    def _action(self) -> list[tuple]:
        self._expect(("op", "{"))
        stmts: list[tuple] = []
        while True:
            tok = self._peek()
            if tok == ("op", "}"):
                self.i += 1
                return stmts
            if tok == ("op", ";"):
                self.i += 1
                continue
            if tok != ("name", "print"):
                raise _AwkUnsupported
            self.i += 1
            args: list[tuple] = []
            if self._peek() not in (("op", "}"), ("op", ";")):
                args.append(self._concat())
                while self._peek() == ("op", ","):
                    self.i += 1
                    args.append(self._concat())
            if self._peek() in (("op", ">"), ("op", "|")):
                raise _AwkUnsupported
            stmts.append(("print", args))

    # expression grammar: or > and > not > comparison/match > concatenation > additive > primary
    def _expr(self) -> tuple:
        left = self._and()
        while self._peek() == ("op", "||"):
            self.i += 1
            left = ("or", left, self._and())
        return left

    def _and(self) -> tuple:
        left = self._not()
        while self._peek() == ("op", "&&"):
            self.i += 1
            left = ("and", left, self._not())
        return left

    def _not(self) -> tuple:
        if self._peek() == ("op", "!"):
            self.i += 1
            return ("not", self._not())
        return self._compare()

    def _compare(self) -> tuple:
        left = self._concat()
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">=", "~", "!~"):
            self.i += 1
            return ("cmp", tok[1], left, self._concat())
        return left

    def _concat(self) -> tuple:
        parts = [self._additive()]
        while True:
            tok = self._peek()
            if tok is None or not (tok[0] in ("str", "num", "name") or tok in (("op", "$"), ("op", "("))):
                break
            if tok[0] == "name" and tok[1] in ("print", "BEGIN", "END"):
                break
            parts.append(self._additive())
        return parts[0] if len(parts) == 1 else ("concat", parts)

    def _additive(self) -> tuple:
        left = self._primary()
        while self._peek() in (("op", "+"), ("op", "-"), ("op", "*"), ("op", "/"), ("op", "%")):
            op = self._next()[1]
            left = ("arith", op, left, self._primary())
        return left

    def _primary(self) -> tuple:
        kind, text = self._next()
        if kind == "str":
            return ("str", _backslash_escapes(text[1:-1].replace('\\"', '"').replace("\\/", "/"), echo=True)[0])
        if kind == "num":
            return ("num", float(text))
        if kind == "re":
            try:
                return ("re", re.compile(ere_to_python(text[1:-1].replace("\\/", "/"))))
            except (RegexError, re.error):
                raise _AwkUnsupported from None
        if kind == "name":
            if text in ("NR", "NF", "FNR"):
                return ("var", "NR" if text == "FNR" else text)
            raise _AwkUnsupported
        if text == "$":
            return ("field", self._primary())
        if text == "-":
            return ("arith", "-", ("num", 0.0), self._primary())
        if text == "(":
            inner = self._expr()
            self._expect(("op", ")"))
            return inner
        raise _AwkUnsupported


def _awk_num(s: str) -> float:
    m = re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s)
    return float(m.group()) if m else 0.0


def _awk_looks_numeric(s: str) -> bool:
    return re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", s) is not None


def _awk_str(v: object) -> str:
    if isinstance(v, float):
        return str(int(v)) if v == int(v) and abs(v) < 1e16 else f"{v:.6g}"
    return str(v)


class _AwkRun:
    def __init__(self, fs: str | None) -> None:
        self.fs = fs
        self.fields: list[str] = []
        self.record = ""
        self.nr = 0
        self.filename = ""

    def split(self, record: str) -> None:
        self.record = record
        if self.fs is None or self.fs == " ":
            self.fields = record.split()
        elif len(self.fs) == 1 and self.fs != "\\":
            self.fields = record.split(self.fs) if record else []
        else:
            self.fields = re.split(ere_to_python(self.fs), record) if record else []

    def field(self, n: int) -> str:
        if n == 0:
            return self.record
        if n < 0:
            raise _AwkRuntimeError(f"negative field index ${n}")
        return self.fields[n - 1] if n <= len(self.fields) else ""

    # values: str (string), float (number), ("strnum", str) for fields
    def eval(self, e: tuple) -> object:
        kind = e[0]
        if kind == "str":
            return e[1]
        if kind == "num":
            return e[1]
        if kind == "re":
            return 1.0 if e[1].search(self.record) else 0.0
        if kind == "var":
            return float(self.nr if e[1] == "NR" else len(self.fields))
        if kind == "field":
            n = self.eval(e[1])
            idx = int(_awk_num(self._s(n)) if not isinstance(n, float) else n)
            return ("strnum", self.field(idx))
        if kind == "concat":
            return "".join(self._s(self.eval(p)) for p in e[1])
        if kind == "arith":
            a, b = self._n(self.eval(e[2])), self._n(self.eval(e[3]))
            op = e[1]
            if op in "/%" and b == 0:
                raise _AwkUnsupported
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0,
                    "%": float(a - b * int(a / b)) if b else 0.0}[op]
        if kind == "not":
            return 0.0 if self.truth(self.eval(e[1])) else 1.0
        if kind == "and":
            return 1.0 if self.truth(self.eval(e[1])) and self.truth(self.eval(e[2])) else 0.0
        if kind == "or":
            return 1.0 if self.truth(self.eval(e[1])) or self.truth(self.eval(e[2])) else 0.0
        if kind == "cmp":
            op, left, right = e[1], e[2], e[3]
            if op in ("~", "!~"):
                if right[0] != "re":
                    raise _AwkUnsupported
                hit = right[1].search(self._s(self.eval(left))) is not None
                return 1.0 if hit == (op == "~") else 0.0
            va, vb = self.eval(left), self.eval(right)
            if self._numeric(va) and self._numeric(vb):
                x: object = self._n(va)
                y: object = self._n(vb)
            else:
                x, y = self._s(va).encode(), self._s(vb).encode()
            result = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y,  # type: ignore[operator]
                      ">": x > y, ">=": x >= y}[op]  # type: ignore[operator]
            return 1.0 if result else 0.0
        raise _AwkUnsupported

    @staticmethod
    def _numeric(v: object) -> bool:
        return isinstance(v, float) or (isinstance(v, tuple) and _awk_looks_numeric(v[1]))

    @staticmethod
    def _s(v: object) -> str:
        return v[1] if isinstance(v, tuple) else _awk_str(v)

    @staticmethod
    def _n(v: object) -> float:
        if isinstance(v, float):
            return v
        return _awk_num(v[1] if isinstance(v, tuple) else str(v))

    def truth(self, v: object) -> bool:
        if isinstance(v, float):
            return v != 0
        if isinstance(v, tuple):
            return _awk_num(v[1]) != 0 if _awk_looks_numeric(v[1]) else v[1] != ""
        return v != ""

    def action(self, stmts: list[tuple], out: list[str]) -> None:
        for _, args in stmts:
            if not args:
                out.append(self.record + "\n")
            else:
                out.append(" ".join(self._s(self.eval(a)) for a in args) + "\n")


@_command("awk")
def awk(ctx: Context, argv: list[str]) -> Result:
    """awk(1) as mawk, for programs of `pattern { print expr, ... }` rules."""
    args = argv[1:]
    fs: str | None = None
    while args and args[0].startswith("-") and args[0] != "-":
        a = args.pop(0)
        if a == "--":
            break
        if a.startswith("-F"):
            value = a[2:] if len(a) > 2 else (args.pop(0) if args else "")
            fs = "\t" if value in ("t", "\\t") else _backslash_escapes(value, echo=True)[0]
        else:
            return Result(2, "", f"awk: netplex supports only a subset of awk: option {a}\n")
    if not args:
        return Result(2, "", "usage: awk [-F value] [-v var=value] [--] 'program text' [file ...]\n")
    source = args.pop(0)
    try:
        program = _AwkProgram(source)
    except _AwkUnsupported:
        return Result(2, "", f"awk: netplex supports only a subset of awk: {source}\n")
    if any("=" in a for a in args):
        return Result(2, "", f"awk: netplex supports only a subset of awk: {' '.join(args)}\n")
    inputs, errors = _inputs(ctx, args, lambda p: f"awk: cannot open {p} (No such file or directory)\n")
    run = _AwkRun(fs)
    out: list[str] = []
    try:
        for stmts in program.begin:
            run.action(stmts, out)
        if program.rules or program.end:
            if errors:
                return Result(2, "".join(out), errors[0])
            for name, text in inputs:
                run.filename = name
                for line in _lines(text):
                    run.nr += 1
                    run.split(line)
                    for pattern, stmts in program.rules:
                        if pattern is None or run.truth(run.eval(pattern)):
                            run.action(stmts, out)
            for stmts in program.end:
                run.action(stmts, out)
    except _AwkUnsupported:
        return Result(2, "".join(out), f"awk: netplex supports only a subset of awk: {source}\n")
    except _AwkRuntimeError as e:
        where = f'\tFILENAME="{run.filename}" FNR={run.nr} NR={run.nr}\n'
        return Result(2, "".join(out), f"awk: run time error: {e}\n{where}")
    return Result(0, "".join(out))


# ---------------------------------------------------------------- test, [ (bash builtins)

_TEST_BINARY_INT = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__,
                    "-le": int.__le__, "-gt": int.__gt__, "-ge": int.__ge__}
_TEST_BINARY_STR = {"=": str.__eq__, "==": str.__eq__, "!=": str.__ne__,
                    "<": lambda a, b: a.encode() < b.encode(), ">": lambda a, b: a.encode() > b.encode()}
_TEST_UNARY = frozenset("-z -n -e -f -r -s -d -L -h -x -w".split())


class _TestError(Exception):
    pass


def _test_eval(ctx: Context, prog: str, args: list[str]) -> bool:
    """POSIX test(1) by argument count; -a / -o join such expressions."""
    for joiner in ("-o", "-a"):
        if len(args) > 3 and joiner in args[1:-1]:
            k = args.index(joiner, 1)
            left, right = _test_eval(ctx, prog, args[:k]), _test_eval(ctx, prog, args[k + 1:])
            return (left or right) if joiner == "-o" else (left and right)
    n = len(args)
    if n == 0:
        return False
    if n == 1:
        return args[0] != ""
    if args[0] == "!" and n in (2, 3, 4) and not (n == 3 and args[1] in _TEST_BINARY_INT | _TEST_BINARY_STR):
        return not _test_eval(ctx, prog, args[1:])
    if n == 2:
        op, value = args
        if op == "-z":
            return value == ""
        if op == "-n":
            return value != ""
        if op in ("-e", "-f", "-r", "-s"):
            try:
                text = ctx.read_file(value)
            except FileReadError:
                return op in ("-e", "-f")   # it exists; reading it fails
            return text is not None and (op != "-s" or text != "")
        if op in _TEST_UNARY:
            raise _TestError(f"netplex: {prog} {op} is not supported (only files read through the node: -e -f -r -s)\n")
        raise _TestError(f"bash: line 1: {prog}: {op}: unary operator expected\n")
    if n == 3:
        a, op, b = args
        if op in _TEST_BINARY_STR:
            return bool(_TEST_BINARY_STR[op](a, b))
        if op in _TEST_BINARY_INT:
            nums = []
            for v in (a, b):
                if not re.fullmatch(r"\s*[-+]?\d+\s*", v):
                    raise _TestError(f"bash: line 1: {prog}: {v}: integer expression expected\n")
                nums.append(int(v))
            return bool(_TEST_BINARY_INT[op](nums[0], nums[1]))
        raise _TestError(f"bash: line 1: {prog}: {op}: binary operator expected\n")
    raise _TestError(f"bash: line 1: {prog}: too many arguments\n")


@command("test", "[")
def test_(ctx: Context, argv: list[str]) -> Result:
    """bash's test / [ builtin: strings, integers, and files read through the node (-e -f -r -s)."""
    prog, args = argv[0], argv[1:]
    if prog == "[":
        if not args or args[-1] != "]":
            return Result(2, "", "bash: line 1: [: missing `]'\n")
        args = args[:-1]
    try:
        return Result(0 if _test_eval(ctx, prog, args) else 1)
    except _TestError as e:
        return Result(2, "", str(e))
