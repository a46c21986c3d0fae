"""`ovs-vsctl` (utilities/ovs-vsctl.c, lib/db-ctl-base.c; ovs-vsctl(8)).

Commands are separated by `--`; all of one invocation are one transaction:
one error and nothing changes. Then ovs-vswitchd reconfigures, and unless
`--no-wait` was given the command reports the interfaces it could not set
up (`Error detected while setting up 'x': ...`, status 1, the rows stay) as
ovs-vsctl does after waiting for `cur_cfg`.

Bridge/port commands: init, show, add-br, del-br, list-br, br-exists,
br-to-vlan, br-to-parent, list-ports, add-port, add-bond, add-bond-iface,
del-bond-iface, del-port, port-to-br,
list-ifaces, iface-to-br, set-controller, get-controller, del-controller,
set-fail-mode, get-fail-mode, del-fail-mode. Database commands: list, find,
get, set, add, remove, clear, create, destroy, with `--id=@name`,
`--if-exists`, `--may-exist`, `--columns`, `--bare`. Refused in netplex's
words: fake (VLAN) bridges, balance-tcp bonds,
`--format` other than list, wait-until, emer-reset.
"""
from __future__ import annotations

import re
from typing import Any

from netplex.ovs.ovsdb import Column, Database, DbError, Row, Table, format_atom, format_datum, parse_datum
from netplex.ovs.service import connect
from netplex.ovs.vswitchd import SUPPORTED_TYPES
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["ovs_vsctl"]

# db-ctl-base's row ids: how a record is named besides its UUID
_NAME_TABLES = ("Bridge", "Port", "Interface", "Mirror", "Flow_Table", "AutoAttach", "Flow_Sample_Collector_Set")
_UNSUPPORTED_CMDS = ("emer-reset", "wait-until", "add-aa-mapping",
                     "del-aa-mapping", "get-aa-mapping", "set-manager", "get-manager", "del-manager", "set-ssl",
                     "get-ssl", "del-ssl", "add-zone-tp", "del-zone-tp", "list-zone-tp", "get-zone-tp")
# (name, min args, max args) of the commands netplex runs
_COMMANDS: dict[str, tuple[int, int]] = {
    "init": (0, 0), "show": (0, 0), "comment": (0, 1 << 30), "add-br": (1, 3), "del-br": (1, 1), "list-br": (0, 0),
    "br-exists": (1, 1), "br-to-vlan": (1, 1), "br-to-parent": (1, 1), "list-ports": (1, 1),
    "add-port": (2, 1 << 30), "add-bond": (4, 1 << 30), "add-bond-iface": (2, 2), "del-bond-iface": (1, 2),
    "del-port": (1, 2), "port-to-br": (1, 1), "list-ifaces": (1, 1),
    "iface-to-br": (1, 1), "set-controller": (1, 1 << 30), "get-controller": (1, 1), "del-controller": (1, 1),
    "set-fail-mode": (2, 2), "get-fail-mode": (1, 1), "del-fail-mode": (1, 1), "list": (1, 1 << 30),
    "find": (1, 1 << 30), "get": (2, 1 << 30), "set": (3, 1 << 30), "add": (4, 1 << 30),
    "remove": (4, 1 << 30), "clear": (3, 1 << 30), "create": (2, 1 << 30), "destroy": (1, 1 << 30),
    "br-set-external-id": (2, 3), "br-get-external-id": (1, 2), "list-br-external-ids": (1, 1),
}
_CMD_OPTS = {"--if-exists", "--may-exist", "--all", "--with-iface", "--real", "--fake", "--columns", "--id",
             "--inactivity-probe"}


class _Cmd:
    def __init__(self, name: str, args: list[str], opts: dict[str, str | None]) -> None:
        self.name = name
        self.args = args
        self.opts = opts
        self.output: list[str] = []

    def text(self) -> str:
        return " ".join(([f"{k}={v}" if v is not None else k for k, v in self.opts.items()]) + [self.name] + self.args)


class Vsctl:
    """One invocation: its options, its commands, the transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.symbols: dict[str, str] = {}
        self.bare = False
        self.columns: list[str] | None = None
        self.oneline = False

    # -- lookups -----------------------------------------------------------
    def table(self, name: str) -> Table:
        tables = self.db.schema.tables
        for t in tables.values():
            if t.name.lower() == name.lower():
                return t
        hits = [t for t in tables.values() if t.name.lower().startswith(name.lower())]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise DbError(f'multiple table names match "{name}"')
        raise DbError(f'unknown table "{name}"')

    def column(self, table: Table, name: str) -> Column:
        norm = name.replace("-", "_")
        if norm in table.columns:
            return table.columns[norm]
        hits = [c for n, c in table.columns.items() if n.startswith(norm)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise DbError(f'{table.name} contains more than one column whose name matches "{name}"')
        raise DbError(f'{table.name} does not contain a column whose name matches "{name}"')

    def row(self, table: Table, rec: str, must: bool = True) -> Row | None:
        rows = self.db.table(table.name)
        if table.name == "Open_vSwitch" and rec == ".":
            return self.db.root()
        if rec.startswith("@") and rec in self.symbols:
            return rows.get(self.symbols[rec])
        r = rows.get(rec.lower())
        if r is None and table.name in _NAME_TABLES:
            r = self.db.by_name(table.name, rec)
        if r is None and len(rec) >= 4 and all(c in "0123456789abcdef-" for c in rec.lower()):
            prefix = [x for u, x in rows.items() if u.startswith(rec.lower())]
            if len(prefix) == 1:
                r = prefix[0]
        if r is None and must:
            raise DbError(f'no row "{rec}" in table {table.name}')
        return r

    def bridge(self, name: str, must: bool = True) -> Row | None:
        for u in self.db.root()["bridges"]:
            b = self.db.get("Bridge", u)
            if b is not None and b.scalar("name") == name:
                return b
        if must:
            raise DbError(f"no bridge named {name}")
        return None

    def bridges(self) -> list[Row]:
        out = [self.db.get("Bridge", u) for u in self.db.root()["bridges"]]
        return [b for b in out if b is not None]

    def ports_of(self, br: Row) -> list[Row]:
        out = [self.db.get("Port", u) for u in br["ports"]]
        return [p for p in out if p is not None]

    def ifaces_of(self, port: Row) -> list[Row]:
        out = [self.db.get("Interface", u) for u in port["interfaces"]]
        return [i for i in out if i is not None]

    def find_port(self, name: str) -> tuple[Row, Row] | None:
        for b in self.bridges():
            for p in self.ports_of(b):
                if p.scalar("name") == name:
                    return b, p
        return None

    def find_iface(self, name: str) -> tuple[Row, Row, Row] | None:
        for b in self.bridges():
            for p in self.ports_of(b):
                for i in self.ifaces_of(p):
                    if i.scalar("name") == name:
                        return b, p, i
        return None

    # -- column=value ----------------------------------------------------------
    def column_key(self, table: Table, spec: str, verb: str) -> tuple[Column, Any, bool]:
        """`COLUMN` or `COLUMN:KEY` (a map's key): the column, the parsed key, whether one was given."""
        col_name, colon, key = spec.partition(":")
        col = self.column(table, col_name)
        if not colon:
            return col, None, False
        if not col.is_map:
            raise DbError(f"cannot specify key to {verb} for non-map column {col.name}")
        return col, parse_datum(Column("k", col.key, None, 1, 1), key, self.symbols)[0], True

    def set_column(self, table: Table, row: Row, arg: str) -> None:
        name, eq, value = arg.partition("=")
        if not eq:
            raise DbError(f'{arg}: argument does not end in "=" followed by a value.')
        col, k, keyed = self.column_key(table, name, "set")
        if keyed:
            assert col.value is not None
            v = parse_datum(Column("v", col.value, None, 1, 1), value, self.symbols)[0]
            new = dict(row[col.name])
            new[k] = v
            row[col.name] = new
        else:
            row[col.name] = parse_datum(col, value, self.symbols)

    # -- show ------------------------------------------------------------------
    def show(self) -> list[str]:
        root = self.db.root()
        out = [root.uuid]
        for b in sorted(self.bridges(), key=lambda r: r.scalar("name")):
            out.append(f"    Bridge {format_atom(b.table.columns['name'].key, b.scalar('name'))}")
            ctrls = [self.db.get("Controller", u) for u in b["controller"]]
            for c in sorted([c for c in ctrls if c is not None], key=lambda r: r.scalar("target")):
                out.append(f'        Controller "{c.scalar("target")}"')
                if c.scalar("is_connected"):
                    out.append("            is_connected: true")
            if b["fail_mode"]:
                out.append(f"        fail_mode: {b.scalar('fail_mode')}")
            if b["datapath_type"] and b.scalar("datapath_type"):
                out.append(f"        datapath_type: {b.scalar('datapath_type')}")
            for p in sorted(self.ports_of(b), key=lambda r: r.scalar("name")):
                out.append(f"        Port {format_atom(p.table.columns['name'].key, p.scalar('name'))}")
                for cname in ("tag", "trunks"):
                    if p[cname]:
                        out.append(f"            {cname}: {format_datum(p.table.columns[cname], p[cname])}")
                for i in sorted(self.ifaces_of(p), key=lambda r: r.scalar("name")):
                    out.append(f"            Interface {format_atom(i.table.columns['name'].key, i.scalar('name'))}")
                    cols = i.table.columns
                    if i.scalar("type"):
                        out.append(f"                type: {format_datum(cols['type'], i['type'])}")
                    if i["options"]:
                        out.append(f"                options: {format_datum(cols['options'], i['options'])}")
                    if i["error"]:
                        out.append(f"                error: {format_datum(cols['error'], i['error'])}")
        if root["ovs_version"]:
            out.append(f"    ovs_version: {format_datum(root.table.columns['ovs_version'], root['ovs_version'])}")
        return out

    # -- list / find ---------------------------------------------------------
    def list_rows(self, table: Table, rows: list[Row], columns: list[str] | None) -> list[str]:
        names = ["_uuid"] + sorted(table.columns) if columns is None else columns
        cols = [None if n == "_uuid" else self.column(table, n) for n in names]
        out: list[str] = []
        for i, r in enumerate(rows):
            if i and not self.bare:
                out.append("")
            elif i and self.bare:
                out.append("")
            for n, c in zip(names, cols):
                if c is None:
                    value = r.uuid
                else:
                    value = _bare(c, r[c.name]) if self.bare else format_datum(c, r[c.name])
                out.append(value if self.bare else f"{n if c is None else c.name:<20}: {value}")
        return out

    def condition(self, table: Table, row: Row, cond: str) -> bool:
        """`COLUMN[:KEY] OP VALUE` (ovs-vsctl(8) "Database Values"): = != < > <= >= compare
        whole values (by size, then element by element), {=} {!=} {<} {>} {<=} {>=} as sets."""
        m = _COND.match(cond)
        if m is None:
            raise DbError(f'{cond}: argument does not end in "=", "!=", "<", ">", "<=", ">=", "{{=}}", '
                          f'"{{!=}}", "{{<}}", "{{>}}", "{{<=}}", or "{{>=}}" followed by a value.')
        name, op, value = m.group(1), m.group(2), m.group(3)
        col, k, keyed = self.column_key(table, name, "find")
        if keyed:
            assert col.value is not None
            if k not in row[col.name] and not op.startswith("{"):
                return False      # a plain relation on a key the map lacks is false
            want = parse_datum(Column("v", col.value, None, 0, None), value, self.symbols)
            have = [row[col.name][k]] if k in row[col.name] else []
        else:
            want = parse_datum(Column(col.name, col.key, col.value, 0, col.max), value, self.symbols)
            have = row[col.name]
        return _relation(op, have, want)

    # -- the commands ------------------------------------------------------------
    def run(self, c: _Cmd) -> None:
        name, a, o = c.name, c.args, c.opts
        db = self.db
        if name in ("init", "comment"):
            return
        if name == "show":
            c.output = self.show()
        elif name == "add-br":
            self.add_br(a, "--may-exist" in o)
        elif name == "del-br":
            b = self.bridge(a[0], must="--if-exists" not in o)
            if b is not None:
                root = db.root()
                root["bridges"] = [u for u in root["bridges"] if u != b.uuid]
                for p in self.ports_of(b):
                    self._delete_port(p)
                del db.table("Bridge")[b.uuid]
        elif name == "list-br":
            c.output = sorted(b.scalar("name") for b in self.bridges())
        elif name == "br-exists":
            if self.bridge(a[0], must=False) is None:
                raise DbError("", status=2)
        elif name == "br-to-vlan":
            self.bridge(a[0])
            c.output = ["0"]
        elif name == "br-to-parent":
            self.bridge(a[0])
            c.output = [a[0]]
        elif name == "list-ports":
            b = self.bridge(a[0])
            assert b is not None
            c.output = sorted(p.scalar("name") for p in self.ports_of(b) if p.scalar("name") != a[0])
        elif name == "list-ifaces":
            b = self.bridge(a[0])
            assert b is not None
            c.output = sorted(i.scalar("name") for p in self.ports_of(b) for i in self.ifaces_of(p)
                              if i.scalar("name") != a[0])
        elif name == "add-port":
            self.add_port(a[0], a[1], [a[1]], a[2:], "--may-exist" in o, c.text())
        elif name == "add-bond":
            n = next((i for i, x in enumerate(a[2:]) if "=" in x), len(a) - 2)
            if n < 2:
                raise DbError(f"add-bond requires at least 2 interfaces, but only {n} were specified")
            self.add_port(a[0], a[1], a[2:2 + n], a[2 + n:], "--may-exist" in o, c.text())
        elif name == "add-bond-iface":
            self.add_bond_iface(a[0], a[1], "--may-exist" in o, c.text())
        elif name == "del-bond-iface":
            self.del_bond_iface(a[0] if len(a) == 2 else None, a[-1], "--if-exists" in o)
        elif name == "del-port":
            self.del_port(a, "--if-exists" in o)
        elif name == "port-to-br":
            hit = self.find_port(a[0])
            if hit is None or hit[1].scalar("name") == hit[0].scalar("name"):
                raise DbError(f"no port named {a[0]}")
            c.output = [hit[0].scalar("name")]
        elif name == "iface-to-br":
            ih = self.find_iface(a[0])
            if ih is None or ih[2].scalar("name") == ih[0].scalar("name"):
                raise DbError(f"no interface named {a[0]}")
            c.output = [ih[0].scalar("name")]
        elif name == "set-controller":
            b = self.bridge(a[0])
            assert b is not None
            uuids = []
            probe = o.get("--inactivity-probe")
            for target in a[1:]:
                r = db.insert("Controller")
                r["target"] = [target]
                if probe:
                    r["inactivity_probe"] = parse_datum(r.table.columns["inactivity_probe"], probe)
                uuids.append(r.uuid)
            b["controller"] = sorted(uuids)
        elif name == "get-controller":
            b = self.bridge(a[0])
            assert b is not None
            rows = [db.get("Controller", u) for u in b["controller"]]
            c.output = sorted(r.scalar("target") for r in rows if r is not None)
        elif name == "del-controller":
            b = self.bridge(a[0])
            assert b is not None
            b["controller"] = []
        elif name == "set-fail-mode":
            b = self.bridge(a[0])
            assert b is not None
            if a[1] not in ("standalone", "secure"):
                raise DbError('fail-mode must be "standalone" or "secure"')
            b["fail_mode"] = [a[1]]
        elif name == "get-fail-mode":
            b = self.bridge(a[0])
            assert b is not None
            c.output = list(b["fail_mode"])
        elif name == "del-fail-mode":
            b = self.bridge(a[0])
            assert b is not None
            b["fail_mode"] = []
        elif name == "br-set-external-id":
            b = self.bridge(a[0])
            assert b is not None
            ext = dict(b["external_ids"])
            if len(a) == 3:
                ext[a[1]] = a[2]
            else:
                ext.pop(a[1], None)
            b["external_ids"] = ext
        elif name == "br-get-external-id":
            b = self.bridge(a[0])
            assert b is not None
            ext = b["external_ids"]
            c.output = [ext[a[1]]] if len(a) == 2 and a[1] in ext else \
                ([] if len(a) == 2 else [f"{k}={v}" for k, v in sorted(ext.items())])
        elif name == "list-br-external-ids":
            b = self.bridge(a[0])
            assert b is not None
            c.output = [f"{k}={v}" for k, v in sorted(b["external_ids"].items())]
        elif name in ("list", "find"):
            self.cmd_list(c)
        elif name == "get":
            self.cmd_get(c)
        elif name in ("set", "add", "remove", "clear"):
            self.cmd_modify(c)
        elif name == "create":
            t = self.table(a[0])
            r = db.insert(t.name)
            idname = o.get("--id")
            if idname:
                self.symbols[idname] = r.uuid
            for arg in a[1:]:
                self.set_column(t, r, arg)
            c.output = [r.uuid]
        elif name == "destroy":
            t = self.table(a[0])
            if "--all" in o:
                for u in list(db.table(t.name)):
                    self._destroy(t, db.table(t.name)[u])
                return
            for rec in a[1:]:
                victim = self.row(t, rec, must="--if-exists" not in o)
                if victim is not None:
                    self._destroy(t, victim)

    def _destroy(self, t: Table, r: Row) -> None:
        db = self.db
        del db.table(t.name)[r.uuid]
        for tt in db.schema.tables.values():
            for row in db.table(tt.name).values():
                for cname, col in tt.columns.items():
                    if col.key.ref_table == t.name and not col.is_map and r.uuid in row[cname]:
                        row[cname] = [u for u in row[cname] if u != r.uuid]
                    elif col.is_map and col.value is not None and col.value.ref_table == t.name:
                        row[cname] = {k: v for k, v in row[cname].items() if v != r.uuid}

    def add_br(self, a: list[str], may_exist: bool) -> None:
        name = a[0]
        if len(a) == 2:
            raise DbError("'add-br' command takes exactly 1 or 3 arguments")
        if len(a) == 3:
            if may_exist and self.bridge(name, must=False) is not None:
                raise DbError(f'"--may-exist add-br {name} {a[1]} {a[2]}" but {name} is not a VLAN bridge')
            raise DbError("netplex: ovs-vsctl add-br with a parent bridge and VLAN (fake bridge) is not supported")
        if not name:
            raise DbError("bridge name must not be empty string")
        if self.bridge(name, must=False) is not None:
            if may_exist:
                return
            raise DbError(f"cannot create a bridge named {name} because a bridge named {name} already exists")
        hit = self.find_port(name)
        if hit is not None:
            raise DbError(f"cannot create a bridge named {name} because a port named {name} already exists on "
                          f"bridge {hit[0].scalar('name')}")
        db = self.db
        iface = db.insert("Interface")
        iface["name"] = [name]
        iface["type"] = ["internal"]
        port = db.insert("Port")
        port["name"] = [name]
        port["interfaces"] = [iface.uuid]
        br = db.insert("Bridge")
        br["name"] = [name]
        br["ports"] = [port.uuid]
        root = db.root()
        root["bridges"] = sorted(root["bridges"] + [br.uuid])

    def add_port(self, brname: str, pname: str, inames: list[str], settings: list[str], may_exist: bool,
                 line: str = "") -> None:
        """add_port of ovs-vsctl.c: a port with one interface (add-port) or several (add-bond)."""
        if not pname:
            raise DbError("port name must not be empty string")
        if any(not n for n in inames):
            raise DbError("interface name must not be empty string")
        hit = self.find_port(pname)
        if hit is not None and may_exist:
            if hit[0].scalar("name") != brname:
                command = line or f"--may-exist add-port {brname} {pname}"
                raise DbError(f'"{command}" but {pname} is actually attached to bridge {hit[0].scalar("name")}')
            have = sorted(i.scalar("name") for i in self.ifaces_of(hit[1]))
            if have != sorted(inames):
                raise DbError(f'"{line}" but {pname} actually has interface(s) {", ".join(have)}')
            return
        self.check_conflicts(pname, f"cannot create a port named {pname}")
        for n in inames:
            self.check_conflicts(n, f"cannot create an interface named {n}")
        b = self.bridge(brname)
        assert b is not None
        db = self.db
        ifaces = []
        for n in inames:
            iface = db.insert("Interface")
            iface["name"] = [n]
            ifaces.append(iface.uuid)
        port = db.insert("Port")
        port["name"] = [pname]
        port["interfaces"] = sorted(ifaces)
        for s in settings:
            self.set_column(port.table, port, s)
        b["ports"] = sorted(b["ports"] + [port.uuid])

    def check_conflicts(self, name: str, msg: str) -> None:
        """check_conflicts: a bridge, port or interface already named so."""
        if self.bridge(name, must=False) is not None:
            raise DbError(f"{msg} because a bridge named {name} already exists")
        hit = self.find_port(name)
        if hit is not None:
            raise DbError(f"{msg} because a port named {name} already exists on bridge {hit[0].scalar('name')}")
        ih = self.find_iface(name)
        if ih is not None:
            raise DbError(f"{msg} because an interface named {name} already exists on bridge "
                          f"{ih[0].scalar('name')}")

    def add_bond_iface(self, pname: str, iname: str, may_exist: bool, line: str) -> None:
        hit = self.find_port(pname)
        if hit is None:
            raise DbError(f"no port named {pname}")
        if may_exist:
            ih = self.find_iface(iname)
            if ih is not None:
                if ih[1].uuid == hit[1].uuid:
                    return
                raise DbError(f'"{line}" but {iname} is actually attached to port {ih[1].scalar("name")}')
        self.check_conflicts(iname, f"cannot create an interface named {iname}")
        iface = self.db.insert("Interface")
        iface["name"] = [iname]
        hit[1]["interfaces"] = sorted(hit[1]["interfaces"] + [iface.uuid])

    def del_bond_iface(self, pname: str | None, iname: str, if_exists: bool) -> None:
        ih = self.find_iface(iname)
        if ih is None:
            if if_exists:
                return
            raise DbError(f"no interface named {iname}")
        port = ih[1]
        if pname is not None:
            hit = self.find_port(pname)
            if hit is None:
                raise DbError(f"no port named {pname}")
            if hit[1].uuid != port.uuid:
                raise DbError(f"port {pname} does not have an interface {iname}")
        if len(port["interfaces"]) < 2:
            raise DbError(f"cannot delete last interface from port {port.scalar('name')}")
        port["interfaces"] = [u for u in port["interfaces"] if u != ih[2].uuid]

    def del_port(self, a: list[str], if_exists: bool) -> None:
        if len(a) == 2:
            b = self.bridge(a[0])
            assert b is not None
            pname = a[1]
            hit = self.find_port(pname)
            if hit is None:
                if if_exists:
                    return
                raise DbError(f"no port named {pname}")
            if hit[0].uuid != b.uuid:
                raise DbError(f"bridge {a[0]} does not have a port {pname}")
        else:
            pname = a[0]
            hit = self.find_port(pname)
            if hit is not None and hit[1].scalar("name") == hit[0].scalar("name"):
                if if_exists:
                    return
                raise DbError(f"cannot delete port {pname} because it is the local port for bridge {pname} "
                              f"(deleting this port requires deleting the entire bridge)")
            if hit is None:
                if if_exists:
                    return
                raise DbError(f"no port named {pname}")
        br, port = hit
        br["ports"] = [u for u in br["ports"] if u != port.uuid]
        self._delete_port(port)

    def _delete_port(self, port: Row) -> None:
        """ovsrec_port_delete and its interfaces: gone from the transaction at once."""
        for i in self.ifaces_of(port):
            self.db.table("Interface").pop(i.uuid, None)
        self.db.table("Port").pop(port.uuid, None)

    def cmd_list(self, c: _Cmd) -> None:
        t = self.table(c.args[0])
        cols = c.opts.get("--columns")
        columns = [x.strip() for x in cols.split(",")] if cols else None
        if c.name == "list":
            if len(c.args) > 1:
                rows = []
                for rec in c.args[1:]:
                    r = self.row(t, rec, must="--if-exists" not in c.opts)
                    if r is not None:
                        rows.append(r)
            else:
                rows = sorted(self.db.table(t.name).values(), key=_row_order)
        else:
            rows = [r for r in sorted(self.db.table(t.name).values(), key=_row_order)
                    if all(self.condition(t, r, cond) for cond in c.args[1:])]
        c.output = self.list_rows(t, rows, columns)

    def cmd_get(self, c: _Cmd) -> None:
        t = self.table(c.args[0])
        r = self.row(t, c.args[1], must="--if-exists" not in c.opts)
        if r is None:
            return
        idname = c.opts.get("--id")
        if idname:
            self.symbols[idname] = r.uuid
        for spec in c.args[2:]:
            if spec == "_uuid":
                c.output.append(r.uuid)
                continue
            col, k, keyed = self.column_key(t, spec, "get")
            if keyed:
                assert col.value is not None
                if k not in r[col.name]:
                    if "--if-exists" in c.opts:
                        c.output.append("")
                        continue
                    key = spec.partition(":")[2]
                    raise DbError(f'no key "{key}" in {t.name} record "{c.args[1]}" column {col.name}')
                v = r[col.name][k]
                c.output.append(v if self.bare and isinstance(v, str) else format_atom(col.value, v))
            else:
                c.output.append(_bare(col, r[col.name]) if self.bare else format_datum(col, r[col.name]))

    def cmd_modify(self, c: _Cmd) -> None:
        t = self.table(c.args[0])
        r = self.row(t, c.args[1], must="--if-exists" not in c.opts)
        if r is None:
            return
        if c.name == "set":
            for arg in c.args[2:]:
                self.set_column(t, r, arg)
            return
        if c.name == "clear":
            for cname in c.args[2:]:
                col = self.column(t, cname)
                if col.min > 0:
                    raise DbError(f'"clear" operation cannot be applied to column {col.name} of table {t.name}, '
                                  f"which is not allowed to be empty")
                r[col.name] = {} if col.is_map else []
            return
        col = self.column(t, c.args[2])
        for value in c.args[3:]:
            loose = Column(col.name, col.key, col.value, 0, None)
            if c.name == "remove" and col.is_map and "=" not in value:
                keys = parse_datum(Column(col.name, col.key, None, 0, None), value, self.symbols)
                r[col.name] = {k: v for k, v in r[col.name].items() if k not in keys}
                continue
            d = parse_datum(loose, value, self.symbols)
            if col.is_map:
                cur = dict(r[col.name])
                if c.name == "add":
                    for k, v in d.items():
                        cur.setdefault(k, v)
                else:
                    for k, v in d.items():
                        if cur.get(k) == v:
                            del cur[k]
                r[col.name] = cur
            else:
                cur_set = list(r[col.name])
                if c.name == "add":
                    cur_set = sorted(set(cur_set) | set(d), key=lambda x: (isinstance(x, str), x))
                else:
                    cur_set = [x for x in cur_set if x not in d]
                if col.max is not None and len(cur_set) > col.max:
                    raise DbError(f'"add" operation would put {len(cur_set)} values in column {col.name} of '
                                  f"table {t.name} but the maximum number is {col.max}")
                if len(cur_set) < col.min:
                    raise DbError(f'"remove" operation would put {len(cur_set)} values in column {col.name} of '
                                  f"table {t.name} but the minimum number is {col.min}")
                r[col.name] = cur_set


_COND = re.compile(r"^([^=!<>{}]+?)(\{!=\}|\{<=\}|\{>=\}|\{=\}|\{<\}|\{>\}|\{in\}|\{not-in\}|!=|<=|>=|=|<|>)(.*)$",
                   re.S)


def _relation(op: str, have: Any, want: Any) -> bool:
    """ovsdb_datum_compare_3way for the plain operators; set inclusion for the braced ones."""
    if isinstance(have, dict):
        hs, ws = set(have.items()), set(want.items())
        hkey: Any = (len(have), sorted(have.items()))
        wkey: Any = (len(want), sorted(want.items()))
    else:
        hs, ws = set(have), set(want)
        hkey, wkey = (len(have), sorted(have)), (len(want), sorted(want))
    return {"=": hkey == wkey, "!=": hkey != wkey, "<": hkey < wkey, ">": hkey > wkey, "<=": hkey <= wkey,
            ">=": hkey >= wkey, "{=}": hs == ws, "{!=}": hs != ws, "{<}": hs < ws, "{>}": hs > ws,
            "{<=}": hs <= ws, "{>=}": hs >= ws, "{in}": hs <= ws, "{not-in}": not hs & ws}[op]


def _row_order(r: Row) -> Any:
    name = r.data.get("name")
    return (0, name[0]) if name else (1, r.uuid)


def _bare(col: Column, datum: Any) -> str:
    """--bare: the values alone, space-separated, strings unquoted."""
    if col.is_map:
        return " ".join(f"{k}={v}" for k, v in sorted(datum.items()))
    return " ".join(a if isinstance(a, str) else format_atom(col.key, a) for a in datum)


def _split_commands(argv: list[str]) -> tuple[dict[str, str | None], list[_Cmd]]:
    """ovs-vsctl's command line: global options, then commands separated by `--`."""
    gopts: dict[str, str | None] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        opt, eq, val = argv[i].partition("=")
        if opt in _CMD_OPTS and opt != "--columns":
            break
        if opt == "--columns" and not eq and i + 1 < len(argv):   # `--columns a,b` as well as `--columns=a,b`
            i += 1
            val, eq = argv[i], "="
        gopts[opt] = val if eq else None
        i += 1
    groups: list[list[str]] = [[]]
    for tok in argv[i:]:
        if tok == "--":
            groups.append([])
        else:
            groups[-1].append(tok)
    cmds: list[_Cmd] = []
    for g in groups:
        if not g:
            continue
        opts: dict[str, str | None] = {}
        j = 0
        while j < len(g) and g[j].startswith("--"):
            opt, eq, val = g[j].partition("=")
            opts[opt] = val if eq else None
            j += 1
        if j >= len(g):
            raise DbError("missing command name (use --help for help)")
        cmds.append(_Cmd(g[j], g[j + 1:], opts))
    return gopts, cmds


_GLOBAL_OK = {"--no-wait", "--db", "--timeout", "-t", "--oneline", "--bare", "--columns", "--dry-run", "--retry",
              "--no-syslog", "--data", "--format", "-f", "--id"}


@command("ovs-vsctl")
def ovs_vsctl(ctx: Context, argv: list[str]) -> Result:
    """ovs-vsctl(8) on the machine's Open vSwitch database."""
    try:
        gopts, cmds = _split_commands(argv[1:])
    except DbError as e:
        return Result(1, "", f"ovs-vsctl: {e.message}\n")
    for opt, val in gopts.items():
        if opt.startswith("-v") or opt == "--verbose":
            continue
        if opt in ("--format", "-f") and val not in (None, "list"):
            return Result(2, "", f"netplex: ovs-vsctl --format={val} is not supported\n")
        if opt == "--data" and val not in ("bare", "string"):
            return Result(2, "", f"netplex: ovs-vsctl --data={val} is not supported\n")
        if opt == "--db" and val not in (None, "unix:/var/run/openvswitch/db.sock"):
            return Result(2, "", f"netplex: ovs-vsctl --db={val} is not supported (the local database only)\n")
        if opt == "--dry-run":
            return Result(2, "", "netplex: ovs-vsctl --dry-run is not supported\n")
        if opt not in _GLOBAL_OK and not opt.startswith("-v"):
            return Result(1, "", f"ovs-vsctl: unrecognized option '{opt}'\n" if opt.startswith("--") else
                          f"ovs-vsctl: invalid option -- '{opt[1:]}'\n")
    if not cmds:
        return Result(1, "", "ovs-vsctl: missing command name (use --help for help)\n")
    for c in cmds:
        if c.name in _UNSUPPORTED_CMDS:
            return Result(2, "", f"netplex: ovs-vsctl {c.name} is not supported\n")
        spec = _COMMANDS.get(c.name)
        if spec is None:
            return Result(1, "", f"ovs-vsctl: unknown command '{c.name}'; use --help for help\n")
        lo, hi = spec
        if len(c.args) < lo:
            return Result(1, "", f"ovs-vsctl: '{c.name}' command requires at least {lo} arguments\n")
        if len(c.args) > hi:
            return Result(1, "", f"ovs-vsctl: '{c.name}' command takes at most {hi} arguments\n")
        for o in c.opts:
            if o not in _CMD_OPTS:
                return Result(1, "", f"ovs-vsctl: '{c.name}' command has no '{o}' option\n")
    try:
        server, vsd = connect(ctx.machine, "ovs-vsctl")
    except DbError as e:
        return Result(1, "", f"ovs-vsctl: {e.message}\n")
    db = server.db
    v = Vsctl(db)
    v.bare = "--bare" in gopts or gopts.get("--data") == "bare"
    v.oneline = "--oneline" in gopts
    if gopts.get("--columns"):
        for c in cmds:
            c.opts.setdefault("--columns", gopts["--columns"])
    # --id=@name create: a forward reference resolves to the row made later in the transaction
    for c in cmds:
        ident = c.opts.get("--id")
        if ident is not None:
            if not ident.startswith("@"):
                return Result(1, "", f'ovs-vsctl: row id "{ident}" does not begin with "@"\n')
            if c.name == "create":
                v.symbols[ident] = db.new_uuid()
    snap = db.snapshot()
    try:
        for c in cmds:
            if c.name == "create" and c.opts.get("--id"):
                _create_with_id(v, c)
            else:
                v.run(c)
        root = db.root()
        root["next_cfg"] = [root.scalar("next_cfg") + 1] if root["next_cfg"] else [1]
        db.garbage_collect()
        for iface in db.table("Interface").values():
            itype = iface.scalar("type") or ""
            if itype not in SUPPORTED_TYPES:
                db.restore(snap)
                return Result(2, "", f"netplex: ovs-vsctl: interface type {itype} is not supported "
                                     f"(system, internal, patch, vxlan, gre and geneve are)\n")
        for port in db.table("Port").values():
            refused = _bond_refusal(port)
            if refused:
                db.restore(snap)
                return Result(2, "", f"netplex: ovs-vsctl: {refused} is not supported\n")
    except DbError as e:
        db.restore(snap)
        msg = f"ovs-vsctl: {e.message}\n" if e.message else ""
        return Result(e.status, "", msg)
    errors: list[tuple[str, str]] = []
    if vsd is not None:
        errors = vsd.reconfigure()
    out = []
    for c in cmds:
        if v.oneline:      # one line per command, its own newlines written as \n
            out.append("\\n".join(c.output) + "\n")
        elif c.output:
            out.append("\n".join(c.output) + "\n")
    text = "".join(out)
    if errors and "--no-wait" not in gopts and vsd is not None:
        err = "".join(f"ovs-vsctl: Error detected while setting up '{n}': {t}.  See ovs-vswitchd log for details.\n"
                      for n, t in errors)
        err += 'ovs-vsctl: The default log directory is "/var/log/openvswitch".\n'
        return Result(0, text, err)   # reported, not failed: the transaction did commit
    return Result(0, text)


def _bond_refusal(port: Row) -> str:
    """What netplex's bonds do not do (ofproto/bond.c's balance-tcp, delays, fallback, primary)."""
    if port.scalar("bond_mode") == "balance-tcp":
        return "bond_mode balance-tcp"
    for col in ("bond_updelay", "bond_downdelay"):
        if port.scalar(col):
            return f"{col} other than 0"
    oc = port["other_config"]
    for key in ("lacp-fallback-ab", "bond-primary", "bond-rebalance-interval", "lacp-aggregation-key",
                "lacp-system-id", "lacp-port-id", "lacp-port-priority", "bond-detect-mode"):
        if key in oc:
            return f"other_config:{key}"
    return ""


def _create_with_id(v: Vsctl, c: _Cmd) -> None:
    """`--id=@name create ...`: the row takes the UUID its forward references already use."""
    t = v.table(c.args[0])
    ident = c.opts["--id"]
    assert ident is not None
    r = v.db.insert(t.name, v.symbols[ident])
    for arg in c.args[1:]:
        v.set_column(t, r, arg)
    c.output = [r.uuid]
