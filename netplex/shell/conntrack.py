"""`conntrack` as conntrack-tools 1.4.7 prints it (Debian 12), over the simulated conntrack table.

Commands: `-L` (list; also `-L conntrack`, `-L expect` — the helpers'
expectations, `-F expect`, `-C expect`), `-D` (delete what
the filters select), `-F` (flush), `-C` (count). Filters: `-p/--proto`,
`-s/--src/--orig-src`, `-d/--dst/--orig-dst`, `-r/--reply-src`,
`-q/--reply-dst`, `--sport/--orig-port-src`, `--dport/--orig-port-dst`,
`--reply-port-src`, `--reply-port-dst` (after `-p tcp|udp`), `--state`
(after `-p tcp`), `-m/--mark`, `-w/--zone`, `-u/--status`, `-n/--src-nat`,
`-g/--dst-nat`, `-f ipv4`, `-o extended`. Entries go to standard output,
the `N flow entries have been shown.` summary to standard error, as the
real tool does; `-D` that deletes nothing exits 1.
"""
from __future__ import annotations

from typing import Any

from netplex.errors import NetplexError
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

PREFIX = "conntrack v1.4.7 (conntrack-tools): "
TRY = "Try `conntrack -h' or 'conntrack --help' for more information.\n"
PROTOS = {"tcp": 6, "udp": 17, "icmp": 1, "udplite": 136, "sctp": 132, "dccp": 33, "gre": 47,
          "icmpv6": 58}
TCP_STATES = ("NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK",
              "TIME_WAIT", "CLOSE", "SYN_SENT2")
STATUS_BITS = {"EXPECTED": 1, "SEEN_REPLY": 2, "ASSURED": 4, "CONFIRMED": 8, "SRC_NAT": 16,
               "DST_NAT": 32, "SEQ_ADJUST": 64, "SRC_NAT_DONE": 128, "DST_NAT_DONE": 256,
               "DYING": 512, "FIXED_TIMEOUT": 1024, "TEMPLATE": 2048, "UNTRACKED": 4096}
COMMANDS = {"-L": "L", "--dump": "L", "-D": "D", "--delete": "D", "-F": "F", "--flush": "F",
            "-C": "C", "--count": "C", "-E": "E", "--event": "E", "-G": "G", "--get": "G",
            "-S": "S", "--stats": "S", "-I": "I", "--create": "I", "-U": "U", "--update": "U"}
# option → (canonical name, takes an argument)
OPTIONS = {
    "-p": ("protonum", True), "--proto": ("protonum", True), "--protonum": ("protonum", True),
    "-s": ("orig-src", True), "--src": ("orig-src", True), "--orig-src": ("orig-src", True),
    "-d": ("orig-dst", True), "--dst": ("orig-dst", True), "--orig-dst": ("orig-dst", True),
    "-r": ("reply-src", True), "--reply-src": ("reply-src", True),
    "-q": ("reply-dst", True), "--reply-dst": ("reply-dst", True),
    "-m": ("mark", True), "--mark": ("mark", True),
    "-w": ("zone", True), "--zone": ("zone", True),
    "-u": ("status", True), "--status": ("status", True),
    "-n": ("src-nat", "?"), "--src-nat": ("src-nat", "?"),
    "-g": ("dst-nat", "?"), "--dst-nat": ("dst-nat", "?"),
    "-j": ("any-nat", "?"), "--any-nat": ("any-nat", "?"),
    "-f": ("family", True), "--family": ("family", True),
    "-o": ("output", True), "--output": ("output", True),
    "-z": ("zero", False), "--zero": ("zero", False),
    "-e": ("event-mask", True), "--event-mask": ("event-mask", True),
}
PROTO_OPTIONS = {
    6: {"--sport": "sport", "--orig-port-src": "sport", "--dport": "dport", "--orig-port-dst": "dport",
        "--reply-port-src": "rsport", "--reply-port-dst": "rdport", "--state": "state"},
    17: {"--sport": "sport", "--orig-port-src": "sport", "--dport": "dport", "--orig-port-dst": "dport",
         "--reply-port-src": "rsport", "--reply-port-dst": "rdport"},
    1: {"--icmp-type": "icmp-type", "--icmp-code": "icmp-code", "--icmp-id": "icmp-id"},
}
# options a command refuses (conntrack's commands_v_options, the ones users meet)
ILLEGAL = {"C": ("protonum", "orig-src", "orig-dst", "reply-src", "reply-dst", "mark", "zone",
                 "status", "src-nat", "dst-nat"),
           "F": ("orig-src", "orig-dst", "reply-src", "reply-dst", "mark", "status", "src-nat",
                 "dst-nat")}
LONG_NAMES = {"protonum": "--protonum", "orig-src": "--orig-src", "orig-dst": "--orig-dst",
              "reply-src": "--reply-src", "reply-dst": "--reply-dst", "mark": "--mark", "zone": "--zone",
              "status": "--status", "src-nat": "--src-nat", "dst-nat": "--dst-nat"}


class ConntrackUsage(NetplexError):
    """conntrack's complaint about its command line (it exits 2)."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg, status=2)
        self.msg = msg


def _parse_ip(s: str) -> int:
    """inet_aton-style, as conntrack accepts `1.2.3` too."""
    parts = s.split(".")
    try:
        nums = [int(p, 0) for p in parts]
    except ValueError:
        raise ConntrackUsage(f"Invalid IP address `{s}'") from None
    if not 1 <= len(nums) <= 4 or any(n < 0 for n in nums):
        raise ConntrackUsage(f"Invalid IP address `{s}'")
    last_bits = 32 - 8 * (len(nums) - 1)
    if any(n > 255 for n in nums[:-1]) or nums[-1] >= 1 << last_bits:
        raise ConntrackUsage(f"Invalid IP address `{s}'")
    v = 0
    for n in nums[:-1]:
        v = (v << 8) | n
    return (v << last_bits) | nums[-1]


@command("conntrack")
def conntrack_cmd(ctx: Context, argv: list[str]) -> Result:
    try:
        return _run(ctx, argv)
    except ConntrackUsage as e:
        return Result(2, "", PREFIX + e.msg + "\n" + TRY)


def _run(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    cmd = None
    table = "conntrack"
    opts: dict[str, Any] = {}
    proto = 0
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in COMMANDS:
            if cmd is not None:
                raise ConntrackUsage("Invalid parameters")
            cmd = COMMANDS[a]
            if i < len(args) and not args[i].startswith("-"):
                table = args[i]
                i += 1
            continue
        if a in ("-h", "--help"):
            return Result(0, _HELP, "")
        if a in ("-V", "--version"):
            return Result(0, "conntrack v1.4.7 (conntrack-tools)\n", "")
        spec = OPTIONS.get(a)
        if spec is None and proto in PROTO_OPTIONS and a in PROTO_OPTIONS[proto]:
            if i >= len(args):
                raise ConntrackUsage(f"option `{a}' requires an argument")
            name = PROTO_OPTIONS[proto][a]
            val = args[i]
            i += 1
            if name == "state":
                if val not in TCP_STATES:
                    raise ConntrackUsage(f"unknown TCP state `{val}'")
                opts["state"] = val
            else:
                if not val.isdigit() or int(val) > 65535:
                    raise ConntrackUsage(f"invalid port `{val}'")
                opts[name] = int(val)
            continue
        if spec is None:
            raise ConntrackUsage(f"unknown option `{a}'")
        name, takes = spec
        val = None
        if takes is True:
            if i >= len(args):
                raise ConntrackUsage(f"option `{a}' requires an argument")
            val = args[i]
            i += 1
        elif takes == "?" and i < len(args) and not args[i].startswith("-"):
            val = args[i]
            i += 1
        if name == "protonum":
            if val.isdigit():
                proto = int(val)
            elif val in PROTOS:
                proto = PROTOS[val]
            else:
                raise ConntrackUsage(f"`{val}' unsupported protocol")
            val = proto
        elif name in ("orig-src", "orig-dst", "reply-src", "reply-dst"):
            val = _parse_ip(val)
        elif name in ("src-nat", "dst-nat", "any-nat"):
            val = _parse_ip(val) if val is not None else None
        elif name in ("mark", "zone"):
            m = val.split("/")[0]
            try:
                val = int(m, 0)
            except ValueError:
                raise ConntrackUsage(f"Bad parameter `{val}'") from None
        elif name == "status":
            bits = 0
            for s in val.split(","):
                if s not in STATUS_BITS:
                    raise ConntrackUsage(f"Bad parameter `{s}'")
                bits |= STATUS_BITS[s]
            val = bits
        elif name == "family":
            if val not in ("ipv4", "ipv6"):
                raise ConntrackUsage(f"`{val}' unsupported protocol")
        opts[name] = val
    if cmd is None:
        return Result(0, _HELP, "")
    for name in ILLEGAL.get(cmd, ()):
        if name in opts:
            raise ConntrackUsage(f"Illegal option `{LONG_NAMES[name]}' with this command")
    if table not in ("conntrack", "expect", "expectation", "dying", "unconfirmed"):
        raise ConntrackUsage(f"Bad parameter `{table}'")
    ns = ctx.node
    from netplex.stack.netfilter.conntrack import conntrack_of, format_conn
    ct_table = conntrack_of(ns)
    now = ns.sched.now
    if table in ("expect", "expectation"):
        exps = ct_table.expectations() if ct_table is not None else []
        if opts.get("family") == "ipv6":
            exps = []
        if cmd == "L":
            out = "".join(e.format(now) + "\n" for e in exps)
            return Result(0, out, PREFIX + f"{len(exps)} expectations have been shown.\n")
        if cmd == "F":
            if ct_table is not None:
                ct_table.flush_expectations()
            return Result(0, "", PREFIX + "expectation table has been emptied.\n")
        if cmd == "C":
            return Result(0, f"{len(exps)}\n", "")
        return Result(0, "", "")
    entries = ct_table.entries() if ct_table is not None else []
    if table in ("dying", "unconfirmed"):
        entries = []
    if opts.get("family") == "ipv6":
        entries = []
    if cmd == "C":
        return Result(0, f"{len(entries)}\n", "")
    if cmd == "F":
        if ct_table is not None:
            ct_table.flush()
        return Result(0, "", PREFIX + "connection tracking table has been emptied.\n")
    if cmd not in ("L", "D"):
        raise ConntrackUsage("Invalid parameters")
    sel = [c for c in entries if _selected(c, opts, proto)]
    ext = opts.get("output") == "extended" or "extended" in str(opts.get("output", "")).split(",")
    lines = []
    for c in sel:
        line = format_conn(c, now)
        if ext:
            line = "ipv4     2 " + line
        lines.append(line + "\n")
    out = "".join(lines)
    if cmd == "L":
        return Result(0, out, PREFIX + f"{len(sel)} flow entries have been shown.\n")
    for c in sel:
        ct_table.destroy(c)
    return Result(0 if sel else 1, out, PREFIX + f"{len(sel)} flow entries have been deleted.\n")


def _selected(c: Any, o: dict[str, Any], proto: int) -> bool:
    orig, reply = c.tuple_orig, c.tuple_reply
    if proto and c.proto != proto:
        return False
    checks = (("orig-src", orig[0]), ("orig-dst", orig[1]), ("reply-src", reply[0]), ("reply-dst", reply[1]),
              ("sport", orig[3]), ("dport", orig[4]), ("rsport", reply[3]), ("rdport", reply[4]),
              ("mark", c.mark), ("zone", c.zone))
    for name, have in checks:
        if name in o and o[name] != have:
            return False
    if "state" in o and c.proto_state != o["state"]:
        return False
    if "status" in o and c.status & o["status"] != o["status"]:
        return False
    if "src-nat" in o:
        if not c.status & 16:
            return False
        if o["src-nat"] is not None and reply[1] != o["src-nat"]:
            return False
    if "dst-nat" in o:
        if not c.status & 32:
            return False
        if o["dst-nat"] is not None and reply[0] != o["dst-nat"]:
            return False
    if "any-nat" in o and not c.status & 48:
        return False
    if proto == 1:
        if "icmp-type" in o and (orig[4] >> 8) != o["icmp-type"]:
            return False
    return True


_HELP = """Command line interface for the connection tracking system. Version 1.4.7
Usage: conntrack [commands] [options]

Commands:
  -L [table] [options]\t\tList conntrack or expectation table
  -G [table] parameters\t\tGet conntrack or expectation
  -D [table] parameters\t\tDelete conntrack or expectation
  -I [table] parameters\t\tCreate a conntrack or expectation
  -U [table] parameters\t\tUpdate a conntrack
  -E [table] [options]\t\tShow events
  -F [table]\t\t\tFlush table
  -C [table]\t\t\tShow counter
  -S\t\t\t\tShow statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip\t\t\tsource NAT ip
  -g, --dst-nat ip\t\t\tdestination NAT ip
  -j, --any-nat ip\t\t\tsource or destination NAT ip
  -m, --mark mark\t\t\tSet mark
  -c, --secmark secmark\t\t\tSet selinux secmark
  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY
  -z, --zero \t\t\t\tZero counters while listing
  -o, --output type[,...]\t\tOutput format, eg. xml
  -l, --label label[,...]\t\tconntrack labels

Expectation parameters and options:
  --tuple-src ip\tSource address in expect tuple
  --tuple-dst ip\tDestination address in expect tuple

Updating parameters and options:
  --label-add label\tAdd label
  --label-del label\tDelete label

Common parameters and options:
  -s, --src, --orig-src ip\t\tSource address from original direction
  -d, --dst, --orig-dst ip\t\tDestination address from original direction
  -r, --reply-src ip\t\tSource addres from reply direction
  -q, --reply-dst ip\t\tDestination address from reply direction
  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'
  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout\t\tSet timeout
  -u, --status status\t\tSet status, eg. ASSURED
  -w, --zone value\t\tSet conntrack zone
  --orig-zone value\t\tSet zone for original direction
  --reply-zone value\t\tSet zone for reply direction
  -b, --buffer-size\t\tNetlink socket buffer size
  --mask-src ip\t\t\tSource mask address
  --mask-dst ip\t\t\tDestination mask address

"""
