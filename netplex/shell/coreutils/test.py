"""test / [ as bash's builtin (builtins/test.def): strings, integers, and files
read through the node (-e -f -r -s).
"""
from __future__ import annotations

import re

from netplex.shell.registry import Context, FileReadError, command
from netplex.shell.result import Result

_TEST_BINARY_INT = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__,
                    "-le": int.__le__, "-gt": int.__gt__, "-ge": int.__ge__}
_TEST_BINARY_STR = {"=": str.__eq__, "==": str.__eq__, "!=": str.__ne__,
                    "<": lambda a, b: a.encode() < b.encode(), ">": lambda a, b: a.encode() > b.encode()}
_TEST_UNARY = frozenset(["-z", "-n", "-e", "-f", "-r", "-s", "-d", "-L", "-h", "-x", "-w"])


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
