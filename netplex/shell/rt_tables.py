"""Routing table names (iproute2 6.1 lib/rt_names.c: rtnl_rttable_n2a, rtnl_rttable_a2n).

`ip route ... table NAME` and `ip rule ... lookup NAME` take a name from
/etc/iproute2/rt_tables and rt_tables.d/*.conf (read from the machine's own files, see
`netplex/machine/fs.py`); without that file, the names Debian 12 ships
(local 255, main 254, default 253, unspec 0). The kernel knows only numbers:
names live in the tool, so they are resolved here, in the shell.
"""
from __future__ import annotations

from netplex.machine.machine import Machine
from netplex.shell.iproute_fmt import parse_u32
from netplex.stack.route import RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_UNSPEC

RT_TABLES_PATH = "/etc/iproute2/rt_tables"
RT_TABLES_D = "/etc/iproute2/rt_tables.d"

# rt_names.c's built-in entries, always known
_BUILTIN = {RT_TABLE_DEFAULT: "default", RT_TABLE_MAIN: "main", RT_TABLE_LOCAL: "local"}
# what Debian 12's /etc/iproute2/rt_tables adds
_DEBIAN = {**_BUILTIN, RT_TABLE_UNSPEC: "unspec"}


class RtTables:
    """The table names one `ip` invocation knows: id → name and name → id."""

    __slots__ = ("by_id", "by_name")

    def __init__(self, names: dict[int, str]) -> None:
        self.by_id = dict(names)
        self.by_name = {v: k for k, v in names.items()}

    @classmethod
    def parse(cls, *texts: str) -> RtTables:
        """rtnl_tab_initialize over each file: `ID NAME` lines, `#` comments; ids in C's base 0."""
        names = dict(_BUILTIN)
        for text in texts:
            for line in text.splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) < 2:
                    continue
                tid = parse_u32(words[0])
                if tid is not None:
                    names[tid] = words[1]
        return cls(names)

    def name(self, tid: int) -> str:
        """rtnl_rttable_n2a: the name, or the number."""
        return self.by_id.get(tid, str(tid))

    def id(self, text: str) -> int | None:
        """rtnl_rttable_a2n: a name, or a number (base 0); None when neither."""
        tid = self.by_name.get(text)
        return tid if tid is not None else parse_u32(text)


DEFAULT_RT_TABLES = RtTables(_DEBIAN)
_DEBIAN_FILE = "".join(f"{tid}\t{name}\n" for tid, name in sorted(_DEBIAN.items(), reverse=True))


def rt_tables(machine: object) -> RtTables:
    """The names in the machine's /etc/iproute2/rt_tables (Debian's when absent) and
    rt_tables.d/*.conf, as rtnl_rttable_initialize reads them."""
    if not isinstance(machine, Machine):
        return DEFAULT_RT_TABLES
    fs = machine.fs
    extra = []
    if fs.is_dir(RT_TABLES_D):
        for name in sorted(fs.listdir(RT_TABLES_D)):
            data = fs.read(f"{RT_TABLES_D}/{name}") if name.endswith(".conf") else None
            if data is not None:
                extra.append(data.decode("utf-8", "replace"))
    data = fs.read(RT_TABLES_PATH)
    if data is None and not extra:
        return DEFAULT_RT_TABLES
    base = data.decode("utf-8", "replace") if data is not None else _DEBIAN_FILE
    return RtTables.parse(base, *extra)
