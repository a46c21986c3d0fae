"""`tc` (iproute2 6.1 tc/tc.c, tc(8)): the command, its global options and objects.

`-j` (`-p` indents) prints JSON for `qdisc show` (every kind) and `filter show` (u32 without
actions); `tc -j class show` prints text, as tc 6.1's print_class does; JSON of actions,
of fw/matchall filters and `-j -p filter` (which aborts in tc 6.1) are refused.

    tc [-s] [-d] qdisc  { add | change | replace | link | del } dev DEV [parent ID | root | ingress]
                        [handle ID] KIND [OPTIONS]
    tc [-s] [-d] qdisc  show [dev DEV]
    tc [-s] [-d] class  { add | change | replace | del | show } dev DEV ...
    tc [-s]      filter { add | change | replace | del | show | get } dev DEV ...
    tc [-s]      actions { add | change | replace | del | get | ls | flush } action KIND ...
"""
from __future__ import annotations

from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.shell.tc.m_action import tc_actions
from netplex.shell.tc.tc_class import tc_class
from netplex.shell.tc.tc_filter import tc_filter
from netplex.shell.tc.tc_qdisc import tc_qdisc
from netplex.shell.tc.tc_util import INCOMPLETE, Opts, TcExit, matches
from netplex.stack.qdisc.core import TcError


@command("tc")
def tc(ctx: Context, argv: list[str]) -> Result:
    ns = ctx.node
    args = argv[1:]
    o = Opts()
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        w = a.lstrip("-")
        if matches(w, "statistics") or w == "s":
            o.stats += 1
        elif matches(w, "details") or w == "d":
            o.details = True
        elif w == "r" or matches(w, "raw"):
            o.raw = True
        elif w in ("p", "pretty") or matches(w, "pretty"):
            o.pretty = True
        elif w in ("iec", "i", "nm", "N", "c", "color") or matches(w, "color"):
            continue
        elif w in ("V", "Version") or matches(w, "Version"):
            return Result(0, "tc utility, iproute2-6.1.0, libbpf 1.1.2\n")
        elif w in ("j", "json") or matches(w, "json"):
            o.json = True
        else:
            return Result(255, "", f'Option "{a}" is unknown, try "tc -help".\n')
    if not args:
        return Result(255, "", USAGE)
    obj, rest = args[0], args[1:]
    out: list[str] = []
    try:
        if matches(obj, "qdisc"):
            tc_qdisc(ns, rest, o, out)
        elif matches(obj, "class"):
            tc_class(ns, rest, o, out)
        elif matches(obj, "filter"):
            tc_filter(ns, rest, o, out)
        elif matches(obj, "actions") or obj == "action":
            if o.json:
                return Result(2, "", "netplex: tc -json actions is not supported\n")
            try:
                tc_actions(ns, rest, o, out)
            except TcExit as e:
                # tc_action_modify/gd return -1 on a kernel error: exit status 255
                raise TcExit(255 if e.status == 2 else e.status, e.msg) from None
        elif matches(obj, "help"):
            return Result(0, "", USAGE)   # usage() prints to stderr
        else:
            return Result(1, "", f'Object "{obj}" is unknown, try "tc help".\n')
    except TcExit as e:
        return Result(e.status, "".join(out), e.msg)
    except TcError as e:
        return Result(2, "".join(out), e.message + "\n")
    except IndexError:   # an option word at the end of the line: NEXT_ARG() → incomplete_command()
        return Result(255, "".join(out), INCOMPLETE)
    return Result(0, "".join(out))


USAGE = """Usage:	tc [ OPTIONS ] OBJECT { COMMAND | help }
	tc [-force] -batch filename
where  OBJECT := { qdisc | class | filter | chain |
		    action | monitor | exec }
       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[aw] |
		    -o[neline] | -j[son] | -p[retty] | -c[olor]
		    -b[atch] [filename] | -n[etns] name | -N[umeric] |
		     -nm | -nam[es] | { -cf | -conf } path
		     -br[ief] }
"""
