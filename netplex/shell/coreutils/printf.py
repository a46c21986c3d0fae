"""printf as bash's builtin (builtins/printf.def)."""
from __future__ import annotations

import re

from netplex.shell.coreutils.common import backslash_escapes, text_tool
from netplex.shell.registry import Context
from netplex.shell.result import Result

MAX_FIELD_WIDTH = 1_000_000   # a wider field would fill the simulator's memory (bash allocates it)


def _star(arg: str) -> tuple[str, list[str]]:
    """A `*` width or precision taken from the arguments (bash's getintmax): its digits, or 0 and the error."""
    try:
        return str(int(arg, 0) if not re.fullmatch(r"[-+]?0\d+", arg) else int(arg, 8)), []
    except ValueError:
        return "0", [f"bash: line 1: printf: {arg}: invalid number\n"]


_PRINTF_SPEC = re.compile(r"%([-+ #0]*)(\d+|\*)?(?:\.(\*|\d*))?(.?)", re.DOTALL)


@text_tool("printf")
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
            text, _ = backslash_escapes(fmt[pos:m.start()], echo=False)
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
                width, bad = _star(args[k] if k < len(args) else "0")
                errors.extend(bad)
                status = 1 if bad else status
                k += 1
                if width.startswith("-"):   # a negative `*` width left-justifies
                    flags, width = flags + "-", width[1:]
            if prec == "*":
                prec, bad = _star(args[k] if k < len(args) else "0")
                errors.extend(bad)
                status = 1 if bad else status
                k += 1
                if prec.startswith("-"):   # a negative `*` precision is as if none was given
                    prec = None
            for n in (width, prec):
                if n and int(n) > MAX_FIELD_WIDTH:
                    errors.append(f"netplex: printf: field width or precision {n} is over netplex's "
                                  f"limit of {MAX_FIELD_WIDTH}\n")
                    return Result(1, "".join(out), "".join(errors))
            arg = args[k] if k < len(args) else None
            if arg is not None:
                k += 1
                consumed = True
            spec = "%" + flags + (width or "") + (f".{prec}" if prec is not None else "")
            if conv in "sb":
                s = arg or ""
                if conv == "b":
                    s, _ = backslash_escapes(s, echo=True)
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
        text, go_on = backslash_escapes(fmt[pos:], echo=False)
        out.append(text)
        if not consumed or k >= len(args) or not go_on:
            break
    return Result(status, "".join(out), "".join(errors))
