"""test / [ as bash's builtin (builtins/test.def): strings, integers, and files
(-e -f -d -s -r -w -x) on the machine's filesystem and the modelled /proc and /sys.
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


_FILE_OPS = frozenset(["-e", "-f", "-d", "-s", "-r", "-w", "-x"])


class _TestError(Exception):
    pass


def _file_test(ctx: Context, op: str, path: str) -> bool:
    """-e -f -d -s -r -w -x on the machine's files; /proc and /sys as the node models them (root: -r -w)."""
    p = ctx.fs.norm(path, ctx.cwd)
    if not ctx.fs.is_virtual(p) or ctx.fs.exists(p):
        st = ctx.fs.stat(p)
        if st is None:
            return False
        if op == "-d":
            return st.is_dir
        if op == "-f":
            return not st.is_dir
        if op == "-s":
            return st.size > 0
        if op == "-x":
            return st.is_dir or bool(st.mode & 0o111)
        return True
    try:
        text = ctx.read_file(p)
    except FileReadError as e:
        return op in ("-e", "-d", "-r", "-w") if e.message == "Is a directory" else op in ("-e", "-f", "-r", "-w")
    if text is None:
        return False
    return op != "-d" and op != "-x" and (op != "-s" or text != "")


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
        if op in _FILE_OPS:
            return _file_test(ctx, op, value)
        if op in _TEST_UNARY:
            raise _TestError(f"netplex: {prog} {op} is not supported (files: -e -f -d -s -r -w -x)\n")
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
    """bash's test / [ builtin: strings, integers, and files (-e -f -d -s -r -w -x)."""
    prog, args = argv[0], argv[1:]
    if prog == "[":
        if not args or args[-1] != "]":
            return Result(2, "", "bash: line 1: [: missing `]'\n")
        args = args[:-1]
    try:
        return Result(0 if _test_eval(ctx, prog, args) else 1)
    except _TestError as e:
        return Result(2, "", str(e))
