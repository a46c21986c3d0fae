"""ASN.1 aligned PER (ITU-T X.691) for the 3GPP application protocols: S1AP (TS 36.413) and X2AP (TS 36.423).

No ASN.1 compiler: each protocol module encodes its IE types by hand with
these primitives, following X.691's aligned variant:

- constrained whole numbers (§11.5.7): a bit-field for a range below 256, one
  aligned octet for 256, two aligned octets up to 64K, and for larger ranges
  a length (in octets) then the aligned octets (`PerWriter.cint`);
- the unconstrained length determinant (§11.9.3.6-7), aligned (`length`);
- open types (§11.2): the value's encoding preceded by its length (`open_type`).

Both protocols share the PDU's shape (their §9.3 "Elementary Procedure
Definitions" and containers), which `ApProtocol` encodes and decodes from a
protocol's two tables — its messages (procedure code, initiating /
successful / unsuccessful, criticality, IEs) and its IE types:

    PDU ::= CHOICE { initiatingMessage, successfulOutcome, unsuccessfulOutcome, ... }
        each: SEQUENCE { procedureCode (0..255), criticality, value (open type) }
    value: SEQUENCE { protocolIEs ProtocolIE-Container (SIZE(0..65535)), ... }
        each IE: { id (0..65535), criticality, value (open type) }
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as _dc_field
from typing import Any, ClassVar, Self

from netplex.errors import NetplexError

__all__ = ["PerError", "PerWriter", "PerReader", "Enc", "Dec", "enumerated", "field", "read_field", "sub",
           "container_list", "ApProtocol", "ApMessage", "REJECT", "IGNORE", "NOTIFY", "INITIATING", "SUCCESSFUL",
           "UNSUCCESSFUL"]

REJECT, IGNORE, NOTIFY = 0, 1, 2
INITIATING, SUCCESSFUL, UNSUCCESSFUL = 0, 1, 2
_KINDS = ["initiating", "successful", "unsuccessful", "?"]


class PerError(NetplexError, ValueError):
    """Bytes (or values) that aligned PER cannot carry as the type says."""


class PerWriter:
    """An aligned PER bit stream being written."""

    def __init__(self) -> None:
        self.v = 0
        self.n = 0

    def bits(self, value: int, n: int) -> None:
        if not 0 <= value < 1 << n:
            raise PerError(f"value {value} does not fit in {n} bits")
        self.v = self.v << n | value
        self.n += n

    def align(self) -> None:
        self.bits(0, -self.n % 8)

    def octets(self, data: bytes) -> None:
        self.align()
        self.bits(int.from_bytes(data, "big"), 8 * len(data))

    def length(self, n: int) -> None:
        """An unconstrained length determinant (X.691 §11.9.3.6-7), aligned."""
        self.align()
        if n < 128:
            self.bits(n, 8)
        elif n < 16384:
            self.bits(0x8000 | n, 16)
        else:
            raise PerError("length over 16K is not produced")

    def cint(self, value: int, lb: int, ub: int) -> None:
        """A constrained whole number (X.691 §11.5.7, the aligned variant)."""
        if not lb <= value <= ub:
            raise PerError(f"value {value} outside {lb}..{ub}")
        rng, v = ub - lb + 1, value - lb
        if rng == 1:
            return
        if rng <= 255:
            self.bits(v, (rng - 1).bit_length())
        elif rng == 256:
            self.align()
            self.bits(v, 8)
        elif rng <= 65536:
            self.align()
            self.bits(v, 16)
        else:
            octets = max(1, (v.bit_length() + 7) // 8)
            self.cint(octets, 1, ((rng - 1).bit_length() + 7) // 8)
            self.align()
            self.bits(v, 8 * octets)

    def data(self) -> bytes:
        self.align()
        return self.v.to_bytes(self.n // 8, "big")


class PerReader:
    """An aligned PER bit stream being read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.v = int.from_bytes(data, "big")
        self.total = 8 * len(data)
        self.pos = 0

    def bits(self, n: int) -> int:
        if self.pos + n > self.total:
            raise PerError("message truncated")
        self.pos += n
        return (self.v >> (self.total - self.pos)) & ((1 << n) - 1)

    def align(self) -> None:
        self.pos += -self.pos % 8

    def octets(self, n: int) -> bytes:
        self.align()
        if self.pos + 8 * n > self.total:
            raise PerError("message truncated")
        start = self.pos // 8
        self.pos += 8 * n
        return self.data[start:start + n]

    def length(self) -> int:
        self.align()
        b = self.bits(8)
        if b & 0x80 == 0:
            return b
        if b & 0xC0 == 0x80:
            return (b & 0x3F) << 8 | self.bits(8)
        raise PerError("fragmented length determinant")

    def cint(self, lb: int, ub: int) -> int:
        rng = ub - lb + 1
        if rng == 1:
            return lb
        if rng <= 255:
            return lb + self.bits((rng - 1).bit_length())
        if rng == 256:
            self.align()
            return lb + self.bits(8)
        if rng <= 65536:
            self.align()
            return lb + self.bits(16)
        octets = self.cint(1, ((rng - 1).bit_length() + 7) // 8)
        self.align()
        v = lb + self.bits(8 * octets)
        if v > ub:
            raise PerError(f"value {v} above {ub}")
        return v

    def ext(self, what: str) -> None:
        """An extension bit: netplex reads no extension additions."""
        if self.bits(1):
            raise PerError(f"{what}: extension additions are not read")


Enc = Callable[[PerWriter, Any], None]
Dec = Callable[[PerReader], Any]


def enumerated(values: list[str], ext: bool = True) -> tuple[Enc, Dec]:
    """An ENUMERATED of `values` (root values only; `ext`: it has an extension marker)."""
    n = (len(values) - 1).bit_length()

    def enc(w: PerWriter, v: str) -> None:
        if ext:
            w.bits(0, 1)
        w.bits(values.index(v), n)

    def dec(r: PerReader) -> str:
        if ext:
            r.ext("ENUMERATED")
        i = r.bits(n)
        if i >= len(values):
            raise PerError(f"enumeration index {i} out of range")
        return values[i]
    return enc, dec


def open_type(w: PerWriter, enc: Enc, value: Any) -> None:
    inner = PerWriter()
    enc(inner, value)
    data = inner.data() or b"\0"
    w.length(len(data))
    w.octets(data)


def field(w: PerWriter, ie_id: int, crit: int, enc: Enc, value: Any) -> None:
    """One ProtocolIE-Field: id, criticality, the value as an open type."""
    w.cint(ie_id, 0, 65535)
    w.bits(crit, 2)
    open_type(w, enc, value)


def read_field(r: PerReader) -> tuple[int, int, bytes]:
    ie_id = r.cint(0, 65535)
    crit = r.bits(2)
    if crit > NOTIFY:
        raise PerError("criticality out of range")
    return ie_id, crit, r.octets(r.length())


def sub(value: bytes, dec: Dec) -> Any:
    """Decode an open type's octets with `dec`; they must hold nothing more."""
    r = PerReader(value)
    out = dec(r)
    if (r.pos + 7) // 8 != len(value):
        raise PerError("IE value longer than its type")
    return out


def container_list(item_id: int, crit: int, enc: Enc, dec: Dec, ub: int = 256) -> tuple[Enc, Dec]:
    """SEQUENCE (SIZE(1..ub)) OF ProtocolIE-Single-Container: items of one IE type (an E-RAB list)."""

    def e(w: PerWriter, items: list[Any]) -> None:
        w.cint(len(items), 1, ub)
        for it in items:
            field(w, item_id, crit, enc, it)

    def d(r: PerReader) -> list[Any]:
        out = []
        for _ in range(r.cint(1, ub)):
            ie_id, _crit, value = read_field(r)
            if ie_id != item_id:
                raise PerError(f"list item with IE id {ie_id}, not {item_id}")
            out.append(sub(value, dec))
        return out
    return e, d


# a message: (procedure code, PDU kind, criticality, [(IE name, criticality, mandatory)])
MessageSpec = tuple[int, int, int, list[tuple[str, int, bool]]]


class ApProtocol:
    """One application protocol's PDU codec: its IE types (name -> (id, enc, dec)) and its messages."""

    def __init__(self, name: str, ies: dict[str, tuple[int, Enc, Dec]], messages: dict[str, MessageSpec]) -> None:
        self.name = name
        self.ies = ies
        self.messages = messages
        self._ie_name = {v[0]: k for k, v in ies.items()}
        self._by_code = {(v[0], v[1]): k for k, v in messages.items()}

    def encode(self, name: str, ies: dict[str, Any]) -> bytes:
        try:
            code, kind, crit, spec = self.messages[name]
        except KeyError:
            raise PerError(f"{self.name} message {name} is not produced") from None
        body = PerWriter()
        present = [(n, c) for n, c, mand in spec if n in ies or mand]
        body.bits(0, 1)                          # the message SEQUENCE's extension bit
        body.cint(len(present), 0, 65535)
        for ie, c in present:
            if ie not in ies:
                raise PerError(f"{name}: mandatory IE {ie} missing")
            ie_id, enc, _ = self.ies[ie]
            field(body, ie_id, c, enc, ies[ie])
        w = PerWriter()
        w.bits(0, 1)                             # the PDU CHOICE: extension bit, then the alternative
        w.bits(kind, 2)
        w.cint(code, 0, 255)
        w.bits(crit, 2)
        data = body.data()
        w.length(len(data))
        w.octets(data)
        return w.data()

    def decode(self, data: bytes) -> tuple[str, dict[str, Any]]:
        r = PerReader(data)
        r.ext(f"{self.name}-PDU")
        kind = r.bits(2)
        code = r.cint(0, 255)
        r.bits(2)
        body = r.octets(r.length())
        name = self._by_code.get((code, kind))
        if name is None:
            raise PerError(f"{self.name} procedure {code} ({_KINDS[kind]}) is not read")
        b = PerReader(body)
        b.ext(name)
        ies: dict[str, Any] = {}
        for _ in range(b.cint(0, 65535)):
            ie_id, _crit, value = read_field(b)
            ie = self._ie_name.get(ie_id)
            if ie is None:
                continue                         # not understood: ignored, as criticality "ignore" asks
            ies[ie] = sub(value, self.ies[ie][2])
        for ie, _c, mandatory in self.messages[name][3]:
            if mandatory and ie not in ies:
                raise PerError(f"{name}: mandatory IE {ie} missing")
        return name, ies


@dataclass(slots=True)
class ApMessage:
    """One message of a protocol (a subclass names its `protocol` and its `error`): its name and IEs."""

    name: str
    ies: dict[str, Any] = _dc_field(default_factory=dict)
    protocol: ClassVar[ApProtocol]
    error: ClassVar[type[PerError]] = PerError

    def encode(self) -> bytes:
        try:
            return self.protocol.encode(self.name, self.ies)
        except PerError as e:
            raise self.error(str(e)) from None

    @classmethod
    def decode(cls, data: bytes) -> Self:
        try:
            return cls(*cls.protocol.decode(data))
        except PerError as e:
            raise cls.error(str(e)) from None
