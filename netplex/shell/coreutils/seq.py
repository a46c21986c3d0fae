"""seq(1) as GNU coreutils (src/seq.c) behaves."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from netplex.shell.coreutils.common import text_tool, usage_error
from netplex.shell.registry import MAX_OUTPUT_BYTES, Context
from netplex.shell.result import Result


@text_tool("seq")
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
            raise usage_error("seq", f"invalid option -- '{a[1:2]}'")
    if not args:
        raise usage_error("seq", "missing operand")
    if len(args) > 3:
        raise usage_error("seq", f"extra operand '{args[3]}'")
    nums = []
    for a in args:
        try:
            nums.append(Decimal(a))
        except InvalidOperation:
            raise usage_error("seq", f"invalid floating point argument: '{a}'") from None
    for a, n in zip(args, nums):
        if n.is_nan():
            raise usage_error("seq", f"invalid 'not-a-number' argument: '{a}'")
    first, step, last = (Decimal(1), Decimal(1), nums[0]) if len(nums) == 1 else (
        (nums[0], Decimal(1), nums[1]) if len(nums) == 2 else tuple(nums))
    if step == 0:
        raise usage_error("seq", f"invalid Zero increment value: '{args[1]}'")
    # like GNU seq: as many decimals as FIRST and INCREMENT carry
    places = max((len(a.partition(".")[2]) for a in args[:-1]), default=0)
    if not (first.is_finite() and step.is_finite() and last.is_finite()):
        count = Decimal(0) if (last - first) * step.copy_sign(1) < 0 or not first.is_finite() else Decimal("inf")
    else:
        count = max(Decimal(0), ((last - first) / step).to_integral_value(rounding="ROUND_FLOOR") + 1)
    width = max(len(f"{first:.0f}") if first.is_finite() else 1, len(f"{last:.0f}") if last.is_finite() else 1)
    if count * (width + places + 1 + len(sep)) > MAX_OUTPUT_BYTES:
        return Result(1, "", f"seq: netplex: {'an endless sequence is' if count.is_infinite() else f'{count} numbers are'} over netplex's limit of {MAX_OUTPUT_BYTES} "
                             "bytes of output (a pipe holds a command's whole output)\n")
    values = []
    v = first
    while (v <= last) if step > 0 else (v >= last):
        values.append(f"{v:.{places}f}")
        v += step
    if equal_width and values:
        width = max(len(s) for s in values)
        values = [s.rjust(width, "0") if not s.startswith("-") else "-" + s[1:].rjust(width - 1, "0") for s in values]
    return Result(0, sep.join(values) + "\n" if values else "")
