"""The Open vSwitch database as ovsdb-server keeps it (RFC 7047; lib/ovsdb-data.c,
lib/ovsdb-types.c, lib/db-ctl-base.c for the text forms ovs-vsctl reads and prints).

`Schema` is read from `data/vswitch.ovsschema` (the file Debian's
openvswitch-common 3.1 ships, schema 8.3.1; Apache License 2.0, see
docs/ovs.md). A `Database` holds rows per table; every datum is stored as
either a sorted list of atoms (scalars, optional values, sets) or a dict
(maps). `format_datum`/`parse_datum` are ovsdb_datum_to_string/_from_string:
`[]`, `10`, `[10, 20]`, `{a=b}`, strings quoted only when they must be.
Transactions are all-or-nothing (`Database.snapshot`/`restore`); rows of
non-root tables that nothing references any more are collected after each
commit, as ovsdb-server's garbage collection does.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netplex.errors import NetplexError

__all__ = ["Column", "Database", "DbError", "Schema", "format_atom", "format_datum", "load_schema", "parse_datum"]

SCHEMA_PATH = Path(__file__).with_name("data") / "vswitch.ovsschema"
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class DbError(NetplexError):
    """An ovs-vsctl error: the message after `ovs-vsctl: `, exit status 1."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message, status=status)


@dataclass(frozen=True, slots=True)
class BaseType:
    """struct ovsdb_base_type: an atomic type with its constraints."""

    type: str                          # integer real boolean string uuid
    enum: tuple[Any, ...] | None = None
    min_int: int | None = None
    max_int: int | None = None
    ref_table: str | None = None
    ref_type: str = "strong"

    @classmethod
    def from_json(cls, j: Any) -> BaseType:
        if isinstance(j, str):
            return cls(j)
        enum = None
        if "enum" in j:
            e = j["enum"]
            enum = tuple(sorted(e[1])) if isinstance(e, list) and e and e[0] == "set" else (e,)
        return cls(j["type"], enum, j.get("minInteger"), j.get("maxInteger"), j.get("refTable"),
                   j.get("refType", "strong"))

    def default(self) -> Any:
        return {"integer": 0, "real": 0.0, "boolean": False, "string": "",
                "uuid": "00000000-0000-0000-0000-000000000000"}[self.type]


@dataclass(frozen=True, slots=True)
class Column:
    """struct ovsdb_column: name, key type, value type (maps), min and max counts."""

    name: str
    key: BaseType
    value: BaseType | None
    min: int
    max: int | None            # None: unlimited
    ephemeral: bool = False

    @property
    def is_map(self) -> bool:
        return self.value is not None

    def default(self) -> Any:
        if self.is_map:
            return {}
        return [self.key.default()] if self.min == 1 else []


@dataclass(slots=True)
class Table:
    name: str
    columns: dict[str, Column]
    is_root: bool
    indexes: list[list[str]]


class Schema:
    def __init__(self, data: dict[str, Any]) -> None:
        self.name = data["name"]
        self.version = data["version"]
        self.tables: dict[str, Table] = {}
        for tname, t in data["tables"].items():
            cols: dict[str, Column] = {}
            for cname, c in t["columns"].items():
                ty = c["type"]
                if isinstance(ty, str):
                    col = Column(cname, BaseType(ty), None, 1, 1, c.get("ephemeral", False))
                else:
                    mx = ty.get("max", 1)
                    col = Column(cname, BaseType.from_json(ty["key"]),
                                 BaseType.from_json(ty["value"]) if "value" in ty else None,
                                 ty.get("min", 1), None if mx == "unlimited" else mx, c.get("ephemeral", False))
                cols[cname] = col
            self.tables[tname] = Table(tname, cols, t.get("isRoot", False), t.get("indexes", []))


_SCHEMA: Schema | None = None


def load_schema() -> Schema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = Schema(json.loads(SCHEMA_PATH.read_text()))
    return _SCHEMA


# -- text forms ----------------------------------------------------------------
def string_needs_quotes(s: str) -> bool:
    """string_needs_quotes: not an identifier-like word, or one that reads as something else."""
    if not s or not (s[0].isalpha() or s[0] == "_") or not s.isascii():
        return True
    if any(not (c.isalnum() or c in "_-.") for c in s):
        return True
    return s in ("true", "false") or bool(_UUID_RE.match(s))


def format_atom(base: BaseType, atom: Any) -> str:
    if base.type == "string":
        return json.dumps(atom) if string_needs_quotes(atom) else atom
    if base.type == "boolean":
        return "true" if atom else "false"
    if base.type == "real":
        return repr(float(atom)) if atom != int(atom) else str(int(atom))
    return str(atom)


def format_datum(col: Column, datum: Any) -> str:
    """ovsdb_datum_to_string."""
    if col.is_map:
        assert col.value is not None
        items = sorted(datum.items(), key=lambda kv: _sort_key(kv[0]))
        return "{" + ", ".join(f"{format_atom(col.key, k)}={format_atom(col.value, v)}" for k, v in items) + "}"
    atoms = datum
    if col.max == 1 and len(atoms) == 1:
        return format_atom(col.key, atoms[0])
    return "[" + ", ".join(format_atom(col.key, a) for a in atoms) + "]"


def _sort_key(a: Any) -> Any:
    return (0, a) if isinstance(a, (int, float)) else (1, str(a))


class _Lexer:
    """The token reader of ovsdb_atom_from_string / ovsdb_datum_from_string."""

    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\n":
            self.i += 1

    def peek(self) -> str:
        self.ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self, ch: str) -> bool:
        if self.peek() == ch:
            self.i += 1
            return True
        return False

    def atom_text(self) -> str:
        """A quoted string (JSON escapes) or a bare word up to a delimiter."""
        self.ws()
        s = self.s
        if self.i < len(s) and s[self.i] == '"':
            j = self.i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            if j >= len(s):
                raise DbError(f"{s}: missing quote at end of quoted string")
            text = json.loads(s[self.i:j + 1])
            self.i = j + 1
            return "\x00" + text          # marks "was quoted"
        j = self.i
        while j < len(s) and s[j] not in ",=[]{} \t\n":
            j += 1
        text = s[self.i:j]
        self.i = j
        return text


def parse_atom(base: BaseType, text: str, symbols: dict[str, str] | None = None) -> Any:
    """ovsdb_atom_from_string with its constraint checks (ovsdb_atom_check_constraints)."""
    quoted = text.startswith("\x00")
    if quoted:
        text = text[1:]
    t = base.type
    value: Any
    if t == "integer":
        try:
            value = int(text, 10)
        except ValueError:
            raise DbError(f'"{text}" is not a valid integer or range') from None
        if (base.min_int is not None and value < base.min_int) or (base.max_int is not None and value > base.max_int):
            lo = base.min_int if base.min_int is not None else -(1 << 63)
            hi = base.max_int if base.max_int is not None else (1 << 63) - 1
            if base.max_int is None:
                raise DbError(f"constraint violation: {value} is less than minimum allowed value {lo}")
            if base.min_int is None:
                raise DbError(f"constraint violation: {value} is greater than maximum allowed value {hi}")
            raise DbError(f"constraint violation: {value} is not in the valid range {lo} to {hi} (inclusive)")
    elif t == "real":
        try:
            value = float(text)
        except ValueError:
            raise DbError(f'"{text}" is not a valid real number') from None
    elif t == "boolean":
        if text not in ("true", "false"):
            raise DbError(f'"{text}" is not a valid boolean (use "true" or "false")')
        value = text == "true"
    elif t == "string":
        value = text
    else:   # uuid
        if text.startswith("@") and symbols is not None:
            if text not in symbols:
                raise DbError(f"row id \"{text}\" is referenced but never created (e.g. with \"-- --id={text} create ...\")")
            value = symbols[text]
        elif _UUID_RE.match(text):
            value = text.lower()
        else:
            raise DbError(f'"{text}" is not a valid UUID')
    if base.enum is not None and value not in base.enum:
        allowed = ", ".join(format_atom(BaseType(t), e) for e in sorted(base.enum))
        raise DbError(f"constraint violation: {format_atom(BaseType(t), value)} is not one of the allowed values "
                      f"([{allowed}])")
    return value


def parse_datum(col: Column, text: str, symbols: dict[str, str] | None = None) -> Any:
    """ovsdb_datum_from_string: `[a, b]`, `a,b`, `{k=v, k2=v2}`, `k=v` or a single atom."""
    lx = _Lexer(text)
    if col.is_map:
        assert col.value is not None
        out: dict[Any, Any] = {}
        braced = lx.take("{")
        while lx.peek() not in ("", "}"):
            k = parse_atom(col.key, lx.atom_text(), symbols)
            if not lx.take("="):
                raise DbError(f'"{text}": syntax error in map')
            v = parse_atom(col.value, lx.atom_text(), symbols)
            out[k] = v
            if not lx.take(","):
                break
        if braced and not lx.take("}"):
            raise DbError(f"{text}: missing \"}}\" at end of map")
        _check_count(col, len(out))
        return out
    atoms: list[Any] = []
    bracketed = lx.take("[")
    while lx.peek() not in ("", "]"):
        atoms.append(parse_atom(col.key, lx.atom_text(), symbols))
        if not lx.take(","):
            break
    if bracketed and not lx.take("]"):
        raise DbError(f"{text}: missing \"]\" at end of set")
    if lx.peek():
        raise DbError(f"{text}: trailing garbage after set")
    uniq = sorted(set(atoms), key=_sort_key)
    _check_count(col, len(uniq))
    return uniq


def _check_count(col: Column, n: int) -> None:
    if n < col.min or (col.max is not None and n > col.max):
        if col.min == col.max == 1 and n == 0:
            raise DbError("A scalar value is required")
        raise DbError(f"too many values ({n}) for column {col.name} (maximum {col.max})")


# -- the database --------------------------------------------------------------
class Row:
    __slots__ = ("uuid", "table", "data")

    def __init__(self, uuid: str, table: Table) -> None:
        self.uuid = uuid
        self.table = table
        self.data: dict[str, Any] = {name: col.default() for name, col in table.columns.items()}

    def __getitem__(self, col: str) -> Any:
        return self.data[col]

    def __setitem__(self, col: str, value: Any) -> None:
        self.data[col] = value

    def scalar(self, col: str) -> Any:
        d = self.data[col]
        return d[0] if d else None


class Database:
    """The rows of every table, with all-or-nothing transactions."""

    def __init__(self, new_uuid: Any) -> None:
        self.schema = load_schema()
        self.new_uuid = new_uuid        # () -> str, from the world's seeded RNG
        self.rows: dict[str, dict[str, Row]] = {t: {} for t in self.schema.tables}

    def insert(self, table: str, uuid: str | None = None) -> Row:
        r = Row(uuid or self.new_uuid(), self.schema.tables[table])
        self.rows[table][r.uuid] = r
        return r

    def table(self, name: str) -> dict[str, Row]:
        return self.rows[name]

    def root(self) -> Row:
        rows = self.rows["Open_vSwitch"]
        if not rows:
            return self.insert("Open_vSwitch")
        return next(iter(rows.values()))

    def by_name(self, table: str, name: str) -> Row | None:
        for r in self.rows[table].values():
            if r.data.get("name") == [name]:
                return r
        return None

    def get(self, table: str, uuid: str) -> Row | None:
        return self.rows[table].get(uuid)

    def snapshot(self) -> Any:
        return copy.deepcopy(self.rows)

    def restore(self, snap: Any) -> None:
        self.rows = snap

    def garbage_collect(self) -> None:
        """Rows of non-root tables no strong reference reaches from a root row go."""
        schema = self.schema
        seen: set[str] = set()
        stack = [r for t in schema.tables.values() if t.is_root for r in self.rows[t.name].values()]
        while stack:
            r = stack.pop()
            if r.uuid in seen:
                continue
            seen.add(r.uuid)
            for cname, col in r.table.columns.items():
                for base, atoms in _ref_atoms(col, r.data[cname]):
                    if base.ref_table and base.ref_type == "strong":
                        for u in atoms:
                            child = self.rows[base.ref_table].get(u)
                            if child is not None:
                                stack.append(child)
        for t in schema.tables.values():
            if not t.is_root:
                for u in [u for u in self.rows[t.name] if u not in seen]:
                    del self.rows[t.name][u]
        # weak references to rows that went are removed (RFC 7047 5.2.1 "weak")
        for t in schema.tables.values():
            for r in self.rows[t.name].values():
                for cname, col in t.columns.items():
                    if col.key.ref_table and col.key.ref_type == "weak" and not col.is_map:
                        r.data[cname] = [u for u in r.data[cname] if u in self.rows[col.key.ref_table]]


def _ref_atoms(col: Column, datum: Any) -> list[tuple[BaseType, list[Any]]]:
    if col.is_map:
        assert col.value is not None
        return [(col.key, list(datum.keys())), (col.value, list(datum.values()))]
    return [(col.key, list(datum))]
