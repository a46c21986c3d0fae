"""sed(1) as GNU sed 4.9 runs a subset of its scripts (sed/compile.c, sed/execute.c).

Options: -n, -e SCRIPT, -f FILE, -i[SUFFIX] (in place, each file on its own),
-E / -r (extended regular expressions), -s. Addresses: a line number, `$`,
`/regex/` (or `\\cregexc`, with the `I` flag), `first~step`, ranges `a,b`
and `a,+N`, and `!`. Commands: `s///` (flags g, p, N, I, and `&`, `\\1`..`\\9`,
`\\n` in the replacement), `d`, `p`, `q [status]`, `Q [status]`, `=`, `y///`,
and GNU's one-line `a text`, `i text`, `c text`. Anything else (`{ }`, `n`,
`N`, hold space, branches, `w`, `r`, `e` ...) is refused with status 2 and a
netplex message, never run half-way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from netplex.machine.fs import FileSystem, FsError
from netplex.shell.coreutils.common import Usage, gnu_getopt, text_tool
from netplex.shell.coreutils.regex import RegexError, bre_to_python, ere_to_python
from netplex.shell.registry import Context, FileReadError
from netplex.shell.result import Result

_SUPPORTED = "s d p q Q = y a i c { }"



def _bracket_end(text: str, start: int) -> int | None:
    """The index just past the bracket expression opening at text[start] (`[`): a `]` right after
    `[` or `[^` is literal, `[:alpha:]`-style classes are skipped whole; None when it never closes
    on this line."""
    i = start + 1
    if i < len(text) and text[i] == "^":
        i += 1
    if i < len(text) and text[i] == "]":
        i += 1
    while i < len(text) and text[i] != "\n":
        if text[i] == "[" and i + 1 < len(text) and text[i + 1] in ":.=":
            close = text.find(text[i + 1] + "]", i + 2)
            if close != -1:
                i = close + 2
                continue
        if text[i] == "]":
            return i + 1
        i += 1
    return None

class _SedError(Exception):
    """A script sed refuses: the message after `sed: -e expression #N, char M: `."""


class _SedUnsupported(Exception):
    pass


@dataclass(slots=True)
class _Addr:
    kind: str                  # "line", "last", "re", "step", "plus"
    line: int = 0
    step: int = 0
    regex: re.Pattern[str] | None = None


@dataclass(slots=True)
class _Cmd:
    a1: _Addr | None
    a2: _Addr | None
    negate: bool
    name: str
    regex: re.Pattern[str] | None = None
    repl: list[tuple[str, str | int]] = field(default_factory=list)   # ("lit", text) / ("group", n)
    count: int = 1             # s///N: replace the Nth match (0: all, with g)
    global_: bool = False
    print_: bool = False
    text: str = ""             # a / i / c text; y source
    text2: str = ""            # y destination
    status: int = 0            # q / Q exit status
    block: list[_Cmd] = field(default_factory=list)   # `{ ... }`
    active: bool = False       # inside a range
    end_line: int = 0          # a,+N: the range's last line


class _Script:
    """The parser of one sed script (all -e and -f pieces joined by newlines)."""

    def __init__(self, text: str, extended: bool) -> None:
        self.text = text
        self.pos = 0
        self.extended = extended
        self.last_regex: re.Pattern[str] | None = None
        self.depth = 0
        self.cmds = self._commands()

    def _commands(self) -> list[_Cmd]:
        cmds: list[_Cmd] = []
        while True:
            self._skip(" \t\n;")
            if self.pos >= len(self.text):
                if self.depth:
                    raise self._error("unmatched `{'")
                return cmds
            if self._peek() == "}":
                if not self.depth:
                    raise self._error("unexpected `}'")
                self.pos += 1
                return cmds
            cmds.append(self._command())

    def _skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _error(self, msg: str) -> _SedError:
        return _SedError(f"char {self.pos}: {msg}")

    def _compile(self, pattern: str, icase: bool) -> re.Pattern[str]:
        if pattern == "":
            if self.last_regex is None:
                raise _SedError("no previous regular expression")
            return self.last_regex
        try:
            py = ere_to_python(pattern) if self.extended else bre_to_python(pattern)
            rx = re.compile(py, re.IGNORECASE if icase else 0)
        except (RegexError, re.error) as e:
            raise self._error(str(e)) from None
        self.last_regex = rx
        return rx

    def _delimited(self, delim: str, regex: bool = False, address: bool = False) -> str:
        """Text up to an unescaped `delim` (consumed); `\\delim` stands for delim itself. In a
        `regex` a bracket expression is read whole, so `delim` may stand in it (GNU sed 4.9
        takes `s/[/]/X/`)."""
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise self._error("unterminated address regex" if address else "unterminated `s' command")
            c = text[self.pos]
            if regex and c == "[":
                end = _bracket_end(text, self.pos)
                if end is None:   # GNU sed reads an open bracket to the end: the command is unterminated
                    end = len(text)
                out.append(text[self.pos:end])
                self.pos = end
                continue
            if c == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                out.append(nxt if nxt == delim and delim != "\\" else "\\" + nxt)
                self.pos += 2
                continue
            if c == delim:
                self.pos += 1
                return "".join(out)
            if c == "\n":
                raise self._error("unterminated `s' command")
            out.append(c)
            self.pos += 1

    def _number(self) -> int:
        m = re.match(r"\d+", self.text[self.pos:])
        assert m is not None
        self.pos += len(m.group())
        return int(m.group())

    def _address(self) -> _Addr | None:
        c = self._peek()
        if c.isdigit():
            n = self._number()
            if self._peek() == "~":
                self.pos += 1
                step = self._number() if self._peek().isdigit() else 0
                return _Addr("step", n, step)
            return _Addr("line", n)
        if c == "$":
            self.pos += 1
            return _Addr("last")
        if c in ("/", "\\"):
            self.pos += 1
            delim = "/"
            if c == "\\":
                delim = self._peek()
                self.pos += 1
            pattern = self._delimited(delim, regex=True, address=True)
            icase = False
            while self._peek() in ("I", "M"):
                if self._peek() == "M":
                    raise _SedUnsupported("the M address flag")
                icase = True
                self.pos += 1
            return _Addr("re", regex=self._compile(pattern, icase))
        return None

    def _command(self) -> _Cmd:
        a1 = self._address()
        a2 = None
        if a1 is not None and self._peek() == ",":
            self.pos += 1
            self._skip(" \t")
            if self._peek() == "+":
                self.pos += 1
                if not self._peek().isdigit():
                    raise self._error("unexpected `,'")
                a2 = _Addr("plus", self._number())
            else:
                a2 = self._address()
                if a2 is None:
                    raise self._error("unexpected `,'")
        self._skip(" \t")
        negate = False
        while self._peek() == "!":
            negate = True
            self.pos += 1
            self._skip(" \t")
        name = self._peek()
        if not name:
            raise self._error("missing command")
        self.pos += 1
        cmd = _Cmd(a1, a2, negate, name)
        if name == "s":
            self._substitute(cmd)
        elif name == "y":
            self._transliterate(cmd)
        elif name in ("a", "i", "c"):
            self._skip(" \t")
            if self._peek() == "\\":
                self.pos += 1
                if self._peek() == "\n":
                    self.pos += 1
            end = self.text.find("\n", self.pos)
            end = len(self.text) if end < 0 else end
            cmd.text = self.text[self.pos:end]
            self.pos = end
        elif name in ("q", "Q"):
            if a2 is not None:
                raise self._error("command only uses one address")
            self._skip(" \t")
            if self._peek().isdigit():
                cmd.status = self._number()
            self._end_of_command()
        elif name in ("d", "p", "="):
            self._end_of_command()
        elif name == "{":
            self.depth += 1
            cmd.block = self._commands()
            self.depth -= 1
        elif name in "}nNDPhHgGxbtT:wrleFzWRv#":
            raise _SedUnsupported(f"the command `{name}'")
        else:
            raise self._error(f"unknown command: `{name}'")
        return cmd

    def _end_of_command(self) -> None:
        self._skip(" \t")
        c = self._peek()
        if c and c not in ";\n}#":
            raise self._error("extra characters after command")

    def _substitute(self, cmd: _Cmd) -> None:
        delim = self._peek()
        if not delim or delim in "\n\\":
            raise self._error("unterminated `s' command")
        self.pos += 1
        pattern = self._delimited(delim, regex=True)
        repl = self._delimited(delim)
        icase = False
        while True:
            c = self._peek()
            if c == "g":
                cmd.global_ = True
            elif c == "p":
                cmd.print_ = True
            elif c in ("i", "I"):
                icase = True
            elif c.isdigit():
                cmd.count = self._number()
                if cmd.count == 0:
                    raise self._error("number option to `s' command may not be zero")
                continue
            elif c in ("w", "e", "m", "M"):
                raise _SedUnsupported(f"the s///{c} flag")
            else:
                break
            self.pos += 1
        self._end_of_command()
        cmd.regex = self._compile(pattern, icase)
        groups = cmd.regex.groups
        parts: list[tuple[str, str | int]] = []
        i = 0
        lit: list[str] = []
        while i < len(repl):
            c = repl[i]
            if c == "\\" and i + 1 < len(repl):
                n = repl[i + 1]
                i += 2
                if n.isdigit():
                    if int(n) > groups:
                        raise self._error(f"invalid reference \\{n} on `s' command's RHS")
                    parts.append(("lit", "".join(lit)))
                    lit = []
                    parts.append(("group", int(n)))
                elif n == "n":
                    lit.append("\n")
                elif n == "t":
                    lit.append("\t")
                else:
                    lit.append(n)
                continue
            if c == "&":
                parts.append(("lit", "".join(lit)))
                lit = []
                parts.append(("group", 0))
            else:
                lit.append(c)
            i += 1
        parts.append(("lit", "".join(lit)))
        cmd.repl = [p for p in parts if p != ("lit", "")]

    def _transliterate(self, cmd: _Cmd) -> None:
        delim = self._peek()
        self.pos += 1
        src = self._delimited(delim).replace("\\\\", "\\").replace("\\n", "\n")
        dst = self._delimited(delim).replace("\\\\", "\\").replace("\\n", "\n")
        if len(src) != len(dst):
            raise self._error("strings for `y' command are different lengths")
        cmd.text, cmd.text2 = src, dst
        self._end_of_command()


def _expand(cmd: _Cmd, m: re.Match[str]) -> str:
    return "".join(p if kind == "lit" else (m.group(p) or "") for kind, p in cmd.repl)  # type: ignore[misc]


def _substitute(cmd: _Cmd, line: str) -> tuple[str, bool]:
    assert cmd.regex is not None
    out: list[str] = []
    pos = 0
    n = 0
    done = False
    for m in cmd.regex.finditer(line):
        n += 1
        if n < cmd.count:
            continue
        out.append(line[pos:m.start()])
        out.append(_expand(cmd, m))
        pos = m.end()
        done = True
        if not cmd.global_:
            break
    if not done:
        return line, False
    out.append(line[pos:])
    return "".join(out), True


class _Run:
    """One pass of the script over a stream of lines."""

    def __init__(self, script: _Script, quiet: bool) -> None:
        self.script = script
        self.quiet = quiet
        self.out: list[str] = []
        self.quit: int | None = None

    def _match(self, a: _Addr, lineno: int, line: str, last: bool) -> bool:
        if a.kind == "line":
            return lineno == a.line
        if a.kind == "last":
            return last
        if a.kind == "step":
            return lineno == a.line if a.step <= 0 else lineno >= a.line and (lineno - a.line) % a.step == 0
        assert a.regex is not None
        return a.regex.search(line) is not None

    def _selected(self, cmd: _Cmd, lineno: int, line: str, last: bool) -> bool:
        if cmd.a1 is None:
            hit = True
        elif cmd.a2 is None:
            hit = self._match(cmd.a1, lineno, line, last)
        elif cmd.active:
            hit = True
            a2 = cmd.a2
            if a2.kind == "plus":
                end = lineno >= cmd.end_line
            elif a2.kind == "line":
                end = lineno >= a2.line
            else:
                end = self._match(a2, lineno, line, last)
            if end:
                cmd.active = False
        elif self._match(cmd.a1, lineno, line, last):
            hit = True
            a2 = cmd.a2
            if a2.kind == "plus":
                cmd.end_line = lineno + a2.line
                cmd.active = a2.line > 0
            elif a2.kind == "line":
                cmd.active = a2.line > lineno
            elif a2.kind == "last":
                cmd.active = not last
            else:
                cmd.active = True
        else:
            hit = False
        return hit != cmd.negate

    def lines(self, lines: list[tuple[str, bool]], start: int) -> int:
        """Run over (line, had newline) pairs; returns the last line number."""
        lineno = start
        for idx, (line, nl) in enumerate(lines):
            lineno += 1
            cyc = _Cycle(line, lineno, idx == len(lines) - 1, "\n" if nl else "")
            verdict = self._run(self.script.cmds, cyc)
            if verdict == "quit":
                self.out.extend(cyc.appended)
                return lineno
            if verdict != "delete" and not self.quiet:
                self.out.append(cyc.line + cyc.end)
            self.out.extend(cyc.appended)
        return lineno

    def _run(self, cmds: list[_Cmd], cyc: _Cycle) -> str:
        """One cycle's commands: "" to go on, "delete" (d, c) or "quit" (q, Q)."""
        for cmd in cmds:
            if not self._selected(cmd, cyc.lineno, cyc.line, cyc.last):
                continue
            name = cmd.name
            if name == "{":
                verdict = self._run(cmd.block, cyc)
                if verdict:
                    return verdict
            elif name == "s":
                cyc.line, changed = _substitute(cmd, cyc.line)
                if changed and cmd.print_:
                    self.out.append(cyc.line + "\n")
            elif name == "y":
                cyc.line = cyc.line.translate(str.maketrans(cmd.text, cmd.text2))
            elif name == "p":
                self.out.append(cyc.line + "\n")
            elif name == "=":
                self.out.append(f"{cyc.lineno}\n")
            elif name == "i":
                self.out.append(cmd.text + "\n")
            elif name == "a":
                cyc.appended.append(cmd.text + "\n")
            elif name == "c":
                if cmd.a2 is None or not cmd.active or cmd.negate:
                    self.out.append(cmd.text + "\n")
                return "delete"
            elif name == "d":
                return "delete"
            elif name in ("q", "Q"):
                if name == "q" and not self.quiet:
                    self.out.append(cyc.line + cyc.end)
                self.quit = cmd.status
                return "quit"
        return ""


@dataclass(slots=True)
class _Cycle:
    """The pattern space of one input line and what the cycle appends after it."""

    line: str
    lineno: int
    last: bool
    end: str
    appended: list[str] = field(default_factory=list)


def _split(text: str) -> list[tuple[str, bool]]:
    if not text:
        return []
    parts = text.split("\n")
    rows = [(p, True) for p in parts[:-1]]
    if parts[-1]:
        rows.append((parts[-1], False))
    return rows


@text_tool("sed")
def sed(ctx: Context, argv: list[str]) -> Result:
    """sed(1): a stream editor (see the module docstring for the subset)."""
    args = []
    in_place: str | None = None
    for a in argv[1:]:   # -i takes its suffix only when attached: -i.bak
        if a.startswith("-i") and not a.startswith("--"):
            in_place = a[2:]
            continue
        if a == "--in-place" or a.startswith("--in-place="):
            in_place = a.partition("=")[2]
            continue
        args.append(a)
    opts, operands = gnu_getopt("sed", args, "nErsuz", "ef", {
        "quiet": "n", "silent": "n", "expression=": "e", "file=": "f", "regexp-extended": "E",
        "separate": "s", "unbuffered": "u", "null-data": "z", "posix": "p", "debug": "D"}, status=1)
    quiet = any(o == "n" for o, _ in opts)
    extended = any(o in ("E", "r") for o, _ in opts)
    if any(o in ("z", "p", "D") for o, _ in opts):
        return Result(2, "", "netplex: sed: -z, --posix and --debug are not supported\n")
    pieces: list[str] = []
    for o, v in opts:
        if o == "e":
            pieces.append(v)
        elif o == "f":
            try:
                text = ctx.read_file(v)
            except FileReadError as e:
                return Result(1, "", f"sed: couldn't open file {v}: {e.message}\n")
            if text is None:
                return Result(1, "", f"sed: couldn't open file {v}: No such file or directory\n")
            pieces.append(text.rstrip("\n"))
    if not pieces:
        if not operands:
            return Result(1, "", "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n\n")
        pieces.append(operands.pop(0))
    try:
        script = _Script("\n".join(pieces), extended)
    except _SedError as e:
        return Result(1, "", f"sed: -e expression #1, {e}\n")
    except _SedUnsupported as e:
        return Result(2, "", f"netplex: sed: {e} is not supported (netplex runs: {_SUPPORTED})\n")
    if in_place is not None:
        return _in_place(ctx, script, quiet, operands, in_place)
    run = _Run(script, quiet)
    errors: list[str] = []
    texts: list[str] = []
    for name in operands or ["-"]:
        try:
            text = ctx.stdin if name == "-" else ctx.read_file(name)
        except FileReadError as e:
            errors.append(f"sed: couldn't edit {name}: not a regular file\n" if e.message == "Is a directory"
                          else f"sed: can't read {name}: {e.message}\n")
            continue
        if text is None:
            errors.append(f"sed: can't read {name}: No such file or directory\n")
            continue
        texts.append(text)
    joined: list[tuple[str, bool]] = []
    for t in texts:
        rows = _split(t)
        if joined and not joined[-1][1]:   # GNU sed adds the newline a file lacked before the next one
            joined[-1] = (joined[-1][0], True)
        joined.extend(rows)
    run.lines(joined, 0)
    status = 2 if errors else 0
    if run.quit is not None:
        status = run.quit
    return Result(status, "".join(run.out), "".join(errors))


def _in_place(ctx: Context, script: _Script, quiet: bool, operands: list[str], suffix: str) -> Result:
    if not operands:
        return Result(1, "", "sed: no input files\n")
    fs = ctx.fs
    errors: list[str] = []
    for name in operands:
        p = FileSystem.norm(name, ctx.cwd)
        if FileSystem.is_virtual(p):
            return Result(2, "", f"netplex: sed: -i on {p} is not supported\n")
        if fs.is_dir(p):
            errors.append(f"sed: couldn't edit {name}: not a regular file\n")
            continue
        if not fs.is_file(p):
            errors.append(f"sed: can't read {name}: No such file or directory\n")
            continue
        if "*" in suffix or "/" in suffix:
            raise Usage(Result(2, "", "netplex: sed: -i with `*' or `/' in the suffix is not supported\n"))
        data = fs.read_bytes(p)
        run = _Run(script, quiet)
        for cmd in script.cmds:
            cmd.active = False
        run.lines(_split(data.decode("utf-8", "surrogateescape")), 0)
        try:
            if suffix:
                fs.write_bytes(p + suffix, data)
            fs.write_bytes(p, "".join(run.out).encode("utf-8", "surrogateescape"))
        except FsError as e:
            errors.append(f"sed: couldn't open temporary file {name}: {e.message}\n")
        if run.quit is not None:
            return Result(run.quit, "", "".join(errors))
    return Result(4 if errors and any("couldn't open" in e for e in errors) else (2 if errors else 0), "",
                  "".join(errors))
