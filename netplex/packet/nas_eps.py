"""EPS NAS messages (TS 24.301): EMM and ESM as bytes, for the messages of an attach and a detach.

    EMM (§9.1-9.3): security header type (4 bits) | protocol discriminator 7 | message type | IEs
    ESM: EPS bearer identity (4) | protocol discriminator 2 | procedure transaction id | message type | IEs

A message is a name (`EMM_TYPES`, `ESM_TYPES`) and its IEs with the names of
§8 (`EPS mobile identity`, `ESM message container`, `TAI list`, ...) as
Python values; a nested ESM message is `{"name": ..., "ies": {...}}`. The
mandatory IEs are V/LV/LV-E in §8's order; optional IEs are TLV/TV by IEI and
one that is not known is skipped by the §11.2.4 format rules (IEIs with bit 8
set are one octet). A message that cannot be read raises NasError with the
TS 24.301 §7 / Annex A cause (#96 invalid mandatory information, #97 message
type non-existent, #111 protocol error). Security protection (§9.1: the
protected header, MAC, sequence number) is `netplex.packet.nas_security`'s.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from netplex.errors import NetplexError
from netplex.packet.gtpv2c import apn_encode, plmn_digits, plmn_id

__all__ = ["NasError", "Nas", "EMM_TYPES", "ESM_TYPES", "PD_EMM", "PD_ESM", "plmn_digits_nas", "gprs_timer",
           "apn_ambr", "read_apn_ambr"]

PD_ESM, PD_EMM = 2, 7
EMM_TYPES = {
    "Attach Request": 0x41, "Attach Accept": 0x42, "Attach Complete": 0x43, "Attach Reject": 0x44,
    "Detach Request": 0x45, "Detach Accept": 0x46, "Authentication Request": 0x52, "Authentication Response": 0x53,
    "Authentication Reject": 0x54, "Authentication Failure": 0x5C, "Security Mode Command": 0x5D,
    "Security Mode Complete": 0x5E, "Security Mode Reject": 0x5F, "EMM Status": 0x60, "Service Request": 0x4D,
    "Tracking Area Update Request": 0x48, "Tracking Area Update Accept": 0x49, "Tracking Area Update Complete": 0x4A,
    "Tracking Area Update Reject": 0x4B,
}
ESM_TYPES = {
    "Activate Default EPS Bearer Context Request": 0xC1, "Activate Default EPS Bearer Context Accept": 0xC2,
    "PDN Connectivity Request": 0xD0, "ESM Status": 0xE8,
}
_EMM_NAME = {v: k for k, v in EMM_TYPES.items()}
_ESM_NAME = {v: k for k, v in ESM_TYPES.items()}
CAUSE_INVALID_MANDATORY = 96
CAUSE_TYPE_NONEXISTENT = 97
CAUSE_PROTOCOL_ERROR = 111
ATTACH_TYPES = {1: "EPS attach", 2: "combined EPS/IMSI attach", 6: "EPS emergency attach"}
DETACH_TYPES = {1: "re-attach required", 2: "re-attach not required", 3: "IMSI detach"}
# §9.9.3.14 EPS update type, §9.9.3.13 EPS update result
UPDATE_TYPES = {0: "TA updating", 1: "combined TA/LA updating", 2: "combined TA/LA updating with IMSI attach",
                3: "periodic updating"}
UPDATE_RESULTS = {0: "TA updated", 1: "combined TA/LA updated"}
ALGS = {"EEA0": 0, "EEA1": 1, "EEA2": 2, "EEA3": 3}
IALGS = {"EIA0": 0, "EIA1": 1, "EIA2": 2, "EIA3": 3}
PDN_TYPES = {1: "IPv4", 2: "IPv6", 3: "IPv4v6"}


class NasError(NetplexError, ValueError):
    """A NAS message that cannot be read; `cause` is the EMM/ESM cause the receiver answers with."""

    def __init__(self, message: str, cause: int = CAUSE_INVALID_MANDATORY) -> None:
        super().__init__(message)
        self.cause = cause


def plmn_digits_nas(octets: bytes) -> str:
    try:
        return plmn_digits(octets)
    except ValueError as e:
        raise NasError(str(e)) from None


def _plmn(p: str) -> bytes:
    return plmn_id(p[:3], p[3:])


def _apn_decode(data: bytes) -> str:
    labels, pos = [], 0
    while pos < len(data):
        n = data[pos]
        if pos + 1 + n > len(data):
            raise NasError("APN label runs past the IE")
        labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels)


# -- IE values ------------------------------------------------------------------------------
def _identity(v: dict[str, Any]) -> bytes:
    """§9.9.3.12 EPS mobile identity: an IMSI or a GUTI."""
    if "IMSI" in v:
        d = v["IMSI"]
        if not d.isdigit() or not 6 <= len(d) <= 15:
            raise NasError("IMSI is not 6-15 digits")
        first = int(d[0]) << 4 | (len(d) % 2) << 3 | 1
        rest = d[1:] + ("f" if len(d) % 2 == 0 else "")
        return bytes((first,)) + bytes(int(rest[i + 1], 16) << 4 | int(rest[i]) for i in range(0, len(rest), 2))
    group: int = v["MME group ID"]
    return bytes((0xF6,)) + _plmn(v["PLMN"]) + group.to_bytes(2, "big") + bytes((v["MME code"],)) \
        + int(v["M-TMSI"], 16).to_bytes(4, "big")


def _read_identity(b: bytes) -> dict[str, Any]:
    if not b:
        raise NasError("EPS mobile identity is empty")
    kind = b[0] & 7
    if kind == 1:
        digits = [b[0] >> 4] + [n for x in b[1:] for n in (x & 15, x >> 4)]
        if not b[0] & 8:
            if digits[-1] != 15:
                raise NasError("IMSI of an even number of digits without the filler")
            digits = digits[:-1]
        if any(d > 9 for d in digits):
            raise NasError("IMSI is not digits")
        return {"IMSI": "".join(map(str, digits))}
    if kind == 6 and len(b) == 11:
        return {"PLMN": plmn_digits_nas(b[1:4]), "MME group ID": int.from_bytes(b[4:6], "big"), "MME code": b[6],
                "M-TMSI": f"0x{int.from_bytes(b[7:11], 'big'):08x}"}
    raise NasError(f"EPS mobile identity of type {kind} is not read")


def gprs_timer(seconds: int) -> int:
    """§9.9.3.16 GPRS timer: unit (2 s, 1 min, 6 min) in bits 8-6, value in bits 5-1."""
    for unit, step in ((0, 2), (1, 60), (2, 360)):
        if seconds % step == 0 and seconds // step <= 31:
            return unit << 5 | seconds // step
    raise NasError(f"{seconds} s is not a GPRS timer value")


def _read_timer(b: int) -> int:
    unit = b >> 5
    if unit == 7:
        return 0
    return (b & 31) * {0: 2, 1: 60, 2: 360}.get(unit, 60)


def _ambr_octets(kbps: int) -> tuple[int, int]:
    """§9.9.4.2: the 8-bit value and its extension octet for `kbps`."""
    if kbps <= 0:
        return 0xFF, 0
    if kbps <= 63:
        return kbps, 0
    if kbps <= 568:
        return 64 + (kbps - 64) // 8, 0
    if kbps <= 8640:
        return 128 + (kbps - 576) // 64, 0
    if kbps <= 16000:
        return 0xFE, (kbps - 8600) // 100
    if kbps <= 128000:
        return 0xFE, 74 + (kbps - 16000) // 1000
    return 0xFE, min(250, 186 + (kbps - 128000) // 2000)


def _ambr_kbps(base: int, ext: int) -> int:
    if ext:
        return 8600 + ext * 100 if ext <= 74 else 16000 + (ext - 74) * 1000 if ext <= 186 else 128000 + (ext - 186) * 2000
    if base == 0xFF:
        return 0
    return base if base <= 63 else 64 + (base - 64) * 8 if base <= 127 else 576 + (base - 128) * 64


def apn_ambr(ul_kbps: int, dl_kbps: int) -> bytes:
    dl, dlx = _ambr_octets(dl_kbps)
    ul, ulx = _ambr_octets(ul_kbps)
    return bytes((dl, ul, dlx, ulx))


def read_apn_ambr(b: bytes) -> dict[str, int]:
    if len(b) < 2:
        raise NasError("APN-AMBR shorter than two octets")
    x = b + bytes(4 - min(4, len(b)))
    return {"UL kbps": _ambr_kbps(x[1], x[3]), "DL kbps": _ambr_kbps(x[0], x[2])}


def _tai_list(tais: list[dict[str, Any]]) -> bytes:
    """§9.9.3.33, type of list 00: TACs of one PLMN."""
    plmn = tais[0]["PLMN"]
    return bytes((len(tais) - 1,)) + _plmn(plmn) + b"".join(t["TAC"].to_bytes(2, "big") for t in tais)


def _read_tai_list(b: bytes) -> list[dict[str, Any]]:
    if len(b) < 6 or (b[0] >> 5) & 3 != 0:
        raise NasError("TAI list is not a list of TACs of one PLMN")
    n = (b[0] & 31) + 1
    if len(b) < 4 + 2 * n:
        raise NasError("TAI list shorter than its count")
    plmn = plmn_digits_nas(b[1:4])
    return [{"PLMN": plmn, "TAC": int.from_bytes(b[4 + 2 * i:6 + 2 * i], "big")} for i in range(n)]


# -- the message reader -------------------------------------------------------------------------
class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def v(self, n: int = 1) -> bytes:
        if self.pos + n > len(self.data):
            raise NasError("NAS message truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def byte(self) -> int:
        return self.v()[0]

    def lv(self) -> bytes:
        return self.v(self.byte())

    def lve(self) -> bytes:
        return self.v(int.from_bytes(self.v(2), "big"))

    def optional(self, formats: dict[int, str]) -> dict[int, bytes]:
        """The optional IEs (§11.2.4): IEI -> value; `formats` says TLV or TLV-E; half-octet TV (bit 8
        set) and one-octet IEs take one octet."""
        out: dict[int, bytes] = {}
        while self.pos < len(self.data):
            iei = self.byte()
            if iei & 0x80:
                out[iei & 0xF0] = bytes((iei & 0x0F,))
                continue
            fmt = formats.get(iei, "TLV")
            out[iei] = self.lve() if fmt == "TLV-E" else self.v(1) if fmt == "TV" else self.v(5) if fmt == "TV6" \
                else self.lv()
        return out


def _esm(name: str, ies: dict[str, Any]) -> bytes:
    ebi = ies.get("EPS bearer identity", 0)
    head = bytes((ebi << 4 | PD_ESM, ies.get("PTI", 0), ESM_TYPES[name]))
    if name == "PDN Connectivity Request":
        pdn = {v: k for k, v in PDN_TYPES.items()}[ies.get("PDN type", "IPv4")]
        body = bytes((pdn << 4 | 1,))
        if ies.get("Access point name"):
            a = apn_encode(ies["Access point name"])
            body += bytes((0x28, len(a))) + a
        return head + body
    if name == "Activate Default EPS Bearer Context Request":
        a = apn_encode(ies["Access point name"])
        addr = ipaddress.IPv4Address(ies["PDN address"]).packed
        body = bytes((1, ies.get("EPS QoS", {}).get("QCI", 9))) + bytes((len(a),)) + a + bytes((5, 1)) + addr
        if "APN-AMBR" in ies:
            body += bytes((0x5E, 4)) + apn_ambr(ies["APN-AMBR"]["UL kbps"], ies["APN-AMBR"]["DL kbps"])
        return head + body
    if name == "ESM Status":
        return head + bytes((ies["ESM cause"],))
    return head


def _read_esm(data: bytes) -> tuple[str, dict[str, Any]]:
    if len(data) < 3 or data[0] & 0x0F != PD_ESM:
        raise NasError("not an ESM message")
    name = _ESM_NAME.get(data[2])
    if name is None:
        raise NasError(f"ESM message type {data[2]:#x}", CAUSE_TYPE_NONEXISTENT)
    ies: dict[str, Any] = {"EPS bearer identity": data[0] >> 4, "PTI": data[1]}
    r = _Reader(data, 3)
    if name == "PDN Connectivity Request":
        b = r.byte()
        ies["PDN type"] = PDN_TYPES.get(b >> 4 & 7, "IPv4")
        ies["Request type"] = b & 7
        opt = r.optional({})
        if 0x28 in opt:
            ies["Access point name"] = _apn_decode(opt[0x28])
    elif name == "Activate Default EPS Bearer Context Request":
        qos = r.lv()
        if not qos:
            raise NasError("EPS QoS is empty")
        ies["EPS QoS"] = {"QCI": qos[0]}
        ies["Access point name"] = _apn_decode(r.lv())
        pdn = r.lv()
        if len(pdn) != 5 or pdn[0] & 7 != 1:
            raise NasError("PDN address is not an IPv4 address")
        ies["PDN address"] = str(ipaddress.IPv4Address(pdn[1:]))
        opt = r.optional({})
        if 0x5E in opt:
            ies["APN-AMBR"] = read_apn_ambr(opt[0x5E])
    elif name == "ESM Status":
        ies["ESM cause"] = r.byte()
    return name, ies


def _container(v: dict[str, Any]) -> bytes:
    return _esm(v["name"], v.get("ies", {}))


def _read_container(b: bytes) -> dict[str, Any]:
    name, ies = _read_esm(b)
    return {"name": name, "ies": ies}


@dataclass(slots=True)
class Nas:
    """One plain EPS NAS message: its name and IEs."""

    name: str
    ies: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        try:
            return self._encode()
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise NasError(f"{self.name}: cannot encode: {e}", CAUSE_PROTOCOL_ERROR) from None

    def _encode(self) -> bytes:
        n, ies = self.name, self.ies
        if n in ESM_TYPES:
            return _esm(n, ies)
        head = bytes((PD_EMM, EMM_TYPES[n]))
        if n == "Attach Request":
            at = {v: k for k, v in ATTACH_TYPES.items()}[ies.get("EPS attach type", "EPS attach")]
            ident = _identity(ies["EPS mobile identity"])
            cap = bytes.fromhex(ies.get("UE network capability", "e0e0"))
            esm = _container(ies["ESM message container"])
            return head + bytes((ies.get("NAS key set identifier", 7) << 4 | at, len(ident))) + ident \
                + bytes((len(cap),)) + cap + len(esm).to_bytes(2, "big") + esm
        if n == "Attach Accept":
            esm = _container(ies["ESM message container"])
            tai = _tai_list(ies["TAI list"])
            body = bytes((1 if ies.get("EPS attach result", "EPS only") == "EPS only" else 2,
                          gprs_timer(ies.get("T3412 value", 3240)), len(tai))) + tai \
                + len(esm).to_bytes(2, "big") + esm
            if "GUTI" in ies:
                g = _identity(ies["GUTI"])
                body += bytes((0x50, len(g))) + g
            return head + body
        if n == "Attach Complete":
            esm = _container(ies["ESM message container"])
            return head + len(esm).to_bytes(2, "big") + esm
        if n in ("Attach Reject", "EMM Status"):
            return head + bytes((ies["EMM cause"],))
        if n == "Authentication Request":
            autn = bytes.fromhex(ies["AUTN"])
            return head + bytes((ies.get("NAS key set identifier", 0) & 7,)) + bytes.fromhex(ies["RAND"]) \
                + bytes((len(autn),)) + autn
        if n == "Authentication Response":
            res = bytes.fromhex(ies["RES"])
            return head + bytes((len(res),)) + res
        if n == "Authentication Failure":
            body = bytes((ies["EMM cause"],))
            if "Authentication failure parameter" in ies:
                auts = bytes.fromhex(ies["Authentication failure parameter"])
                body += bytes((0x30, len(auts))) + auts
            return head + body
        if n == "Security Mode Command":
            alg = ies["Selected NAS security algorithms"]
            caps = bytes.fromhex(ies.get("Replayed UE security capabilities", "e0e0"))
            return head + bytes((ALGS[alg["ciphering"]] << 4 | IALGS[alg["integrity"]],
                                 ies.get("NAS key set identifier", 0) & 7, len(caps))) + caps
        if n == "Detach Request":
            dt = {v: k for k, v in DETACH_TYPES.items()}[ies.get("Detach type", "re-attach not required")]
            body = bytes((dt,))
            if "EMM cause" in ies:
                body += bytes((0x53, ies["EMM cause"]))
            return head + body
        if n == "Tracking Area Update Request":
            # §8.2.29: NAS key set identifier and EPS update type (with the "active" flag), the old GUTI,
            # the last visited registered TAI (IEI 0x52)
            ut = {v: k for k, v in UPDATE_TYPES.items()}[ies.get("EPS update type", "TA updating")]
            ut |= 8 if ies.get("Active flag") else 0
            guti = _identity(ies["Old GUTI"])
            body = bytes((ies.get("NAS key set identifier", 0) << 4 | ut, len(guti))) + guti
            if "Last visited registered TAI" in ies:
                tai = ies["Last visited registered TAI"]
                body += bytes((0x52,)) + _plmn(tai["PLMN"]) + tai["TAC"].to_bytes(2, "big")
            return head + body
        if n == "Tracking Area Update Accept":
            # §8.2.26: EPS update result; T3412 (0x5A), GUTI (0x50), TAI list (0x54), in this order
            result = {v: k for k, v in UPDATE_RESULTS.items()}[ies.get("EPS update result", "TA updated")]
            body = bytes((result,))
            if "T3412 value" in ies:
                body += bytes((0x5A, gprs_timer(ies["T3412 value"])))
            if "GUTI" in ies:
                g = _identity(ies["GUTI"])
                body += bytes((0x50, len(g))) + g
            if "TAI list" in ies:
                tai = _tai_list(ies["TAI list"])
                body += bytes((0x54, len(tai))) + tai
            return head + body
        if n == "Tracking Area Update Reject":
            return head + bytes((ies["EMM cause"],))
        if n in ("Authentication Reject", "Security Mode Complete", "Detach Accept", "Tracking Area Update Complete"):
            return head
        raise NasError(f"{n} is not produced", CAUSE_TYPE_NONEXISTENT)

    @classmethod
    def decode(cls, data: bytes) -> Nas:
        """A plain NAS message; NasError (with its §7 cause) when it cannot be read."""
        if len(data) < 2:
            raise NasError("NAS message shorter than its header")
        if data[0] & 0x0F == PD_ESM:
            return cls(*_read_esm(data))
        if data[0] & 0x0F != PD_EMM:
            raise NasError(f"protocol discriminator {data[0] & 0x0F}", CAUSE_PROTOCOL_ERROR)
        if data[0] >> 4:
            raise NasError("a security protected message where a plain one was expected", CAUSE_PROTOCOL_ERROR)
        name = _EMM_NAME.get(data[1])
        if name is None:
            raise NasError(f"EMM message type {data[1]:#x}", CAUSE_TYPE_NONEXISTENT)
        r = _Reader(data, 2)
        ies: dict[str, Any] = {}
        try:
            cls._read(name, r, ies)
        except NasError:
            raise
        except (ValueError, KeyError) as e:
            raise NasError(f"{name}: {e}") from None
        return cls(name, ies)

    @staticmethod
    def _read(name: str, r: _Reader, ies: dict[str, Any]) -> None:
        if name == "Attach Request":
            b = r.byte()
            if b & 7 not in ATTACH_TYPES:
                raise NasError(f"EPS attach type {b & 7}")
            ies["EPS attach type"], ies["NAS key set identifier"] = ATTACH_TYPES[b & 7], b >> 4 & 7
            ies["EPS mobile identity"] = _read_identity(r.lv())
            ies["UE network capability"] = r.lv().hex()
            ies["ESM message container"] = _read_container(r.lve())
        elif name == "Attach Accept":
            b = r.byte()
            ies["EPS attach result"] = "EPS only" if b & 7 == 1 else "combined EPS/IMSI attach"
            ies["T3412 value"] = _read_timer(r.byte())
            ies["TAI list"] = _read_tai_list(r.lv())
            ies["ESM message container"] = _read_container(r.lve())
            opt = r.optional({0x78: "TLV-E"})
            if 0x50 in opt:
                ies["GUTI"] = _read_identity(opt[0x50])
        elif name == "Attach Complete":
            ies["ESM message container"] = _read_container(r.lve())
        elif name in ("Attach Reject", "EMM Status"):
            ies["EMM cause"] = r.byte()
        elif name == "Authentication Request":
            ies["NAS key set identifier"] = r.byte() & 7
            ies["RAND"] = r.v(16).hex()
            autn = r.lv()
            if len(autn) != 16:
                raise NasError("AUTN is not 16 octets")
            ies["AUTN"] = autn.hex()
        elif name == "Authentication Response":
            res = r.lv()
            if not 4 <= len(res) <= 16:
                raise NasError("RES is not 4-16 octets")
            ies["RES"] = res.hex()
        elif name == "Authentication Failure":
            ies["EMM cause"] = r.byte()
            opt = r.optional({})
            if 0x30 in opt:
                ies["Authentication failure parameter"] = opt[0x30].hex()
        elif name == "Security Mode Command":
            b = r.byte()
            enc = {v: k for k, v in ALGS.items()}.get(b >> 4 & 7)
            integ = {v: k for k, v in IALGS.items()}.get(b & 7)
            if enc is None or integ is None:
                raise NasError("selected NAS security algorithm not known")
            ies["Selected NAS security algorithms"] = {"ciphering": enc, "integrity": integ}
            ies["NAS key set identifier"] = r.byte() & 7
            ies["Replayed UE security capabilities"] = r.lv().hex()
        elif name == "Tracking Area Update Request":
            b = r.byte()
            ies["EPS update type"] = UPDATE_TYPES.get(b & 7, "TA updating")
            ies["Active flag"] = bool(b & 8)
            ies["NAS key set identifier"] = b >> 4 & 7
            ies["Old GUTI"] = _read_identity(r.lv())
            opt = r.optional({0x52: "TV6", 0x5C: "TV", 0x5D: "TV", 0x55: "TV"})
            if 0x52 in opt:
                t = opt[0x52]
                ies["Last visited registered TAI"] = {"PLMN": plmn_digits_nas(t[:3]), "TAC": int.from_bytes(t[3:5], "big")}
        elif name == "Tracking Area Update Accept":
            ies["EPS update result"] = UPDATE_RESULTS.get(r.byte() & 7, "TA updated")
            opt = r.optional({0x5A: "TV", 0x5E: "TV", 0x5F: "TV", 0x78: "TLV-E"})
            if 0x5A in opt:
                ies["T3412 value"] = _read_timer(opt[0x5A][0])
            if 0x50 in opt:
                ies["GUTI"] = _read_identity(opt[0x50])
            if 0x54 in opt:
                ies["TAI list"] = _read_tai_list(opt[0x54])
        elif name == "Tracking Area Update Reject":
            ies["EMM cause"] = r.byte()
        elif name == "Detach Request":
            b = r.byte()
            ies["Detach type"] = DETACH_TYPES.get(b & 7, "re-attach not required")
            opt = r.optional({0x53: "TV"})
            if 0x53 in opt:
                ies["EMM cause"] = opt[0x53][0]
