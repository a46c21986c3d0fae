"""The small text tools people pipe network commands into, one module per tool.

Laid out as the real packages are: GNU coreutils (src/cat.c, cut.c, expr.c, head.c,
seq.c, sleep.c, sort.c, tail.c, timeout.c, tr.c, true.c, uniq.c, wc.c; the file tools
tee, ls, mkdir, rmdir, rm, cp, mv, touch, chmod, basename, dirname in
files.py), GNU sed 4.9 (a subset), GNU grep 3.8,
mawk (a subset), and bash's builtins echo, printf, test. All behave as on
Debian 12 under LC_ALL=C; output and error texts are the real tools'; what
netplex does not implement is refused with status 2 and a message that says
so, never silently ignored.

Importing this package registers every tool in `netplex.shell.registry`; the
list below is the table. A new tool is one module here and one line below.
"""
from __future__ import annotations

from netplex.shell.coreutils import (  # noqa: F401  (each registers its commands)
    awk,
    cat,
    cut,
    echo,
    expr,
    files,
    grep,
    head,
    printf,
    sed,
    seq,
    sleep,
    sort,
    tail,
    test,
    timeout,
    tr,
    true,
    uniq,
    wc,
)
from netplex.shell.coreutils.regex import bre_to_python, ere_to_python

__all__ = ["bre_to_python", "ere_to_python"]
