"""What every text tool shares: GNU getopt_long, usage errors, input operands.

Files named as operands are read through `ctx.read_file` (the node's files,
/proc and /sys); `-` or no operand means standard input.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable

from netplex.errors import NetplexError
from netplex.shell.registry import Context, FileReadError, command
from netplex.shell.result import Result


class Usage(NetplexError):
    """A command-line error; `result` is what the tool prints and returns."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.error, status=result.status)
        self.result = result


def try_help(prog: str) -> str:
    return f"Try '{prog} --help' for more information.\n"


def usage_error(prog: str, msg: str, status: int = 1, hint: bool = True) -> Usage:
    return Usage(Result(status, "", f"{prog}: {msg}\n" + (try_help(prog) if hint else "")))


def gnu_getopt(
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
    tail = usage or try_help(prog)
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
                raise Usage(Result(status, "", f"{prog}: unrecognized option '{arg}'\n{tail}"))
            key = matches[0]
            if key.endswith("="):
                if not eq:
                    if i >= len(argv):
                        raise Usage(Result(status, "", f"{prog}: option '--{key[:-1]}' requires an argument\n{tail}"))
                    value = argv[i]
                    i += 1
            elif eq:
                raise Usage(Result(status, "", f"{prog}: option '--{key}' doesn't allow an argument\n{tail}"))
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
                        raise Usage(Result(status, "", f"{prog}: option requires an argument -- '{c}'\n{tail}"))
                    opts.append((c, value))
                    break
                if c in flags:
                    opts.append((c, ""))
                else:
                    raise Usage(Result(status, "", f"{prog}: invalid option -- '{c}'\n{tail}"))
            continue
        operands.append(arg)
    return opts, operands


def text_tool(name: str) -> Callable[[Callable[[Context, list[str]], Result]], Callable[[Context, list[str]], Result]]:
    """Register a text tool; a `Usage` raised inside becomes its Result."""

    def wrap(fn: Callable[[Context, list[str]], Result]) -> Callable[[Context, list[str]], Result]:
        @functools.wraps(fn)
        def run(ctx: Context, argv: list[str]) -> Result:
            try:
                return fn(ctx, argv)
            except Usage as e:
                return e.result

        command(name)(run)
        return run

    return wrap


def split_lines(text: str) -> list[str]:
    """Lines without their newlines; a last line lacking one still counts."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def read_inputs(ctx: Context, operands: list[str], missing: Callable[[str], str]) -> tuple[list[tuple[str, str]], list[str]]:
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


def count_arg(prog: str, value: str, what: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise Usage(Result(1, "", f"{prog}: invalid number of {what}: '{value}'\n")) from None
    return n


def numeric_shorthand(argv: list[str]) -> list[str]:
    """`head -5` / `tail -5` / `tail +5` mean `-n 5` / `-n +5`."""
    if len(argv) > 1 and re.fullmatch(r"-\d+[cl]?", argv[1]):
        arg = argv[1]
        flag = "-c" if arg.endswith("c") else "-n"
        return [argv[0], flag, arg[1:].rstrip("cl"), *argv[2:]]
    return argv


_ECHO_ESC = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n",
             "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def backslash_escapes(s: str, echo: bool) -> tuple[str, bool]:
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
