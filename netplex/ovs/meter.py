"""OpenFlow 1.3 meters as ovs-ofctl writes them and the datapath applies them
(lib/ofp-meter.c: parse_ofp_meter_mod_str, ofputil_format_meter_config/stats;
net/openvswitch/meter.c: a token bucket per band).

`meter=1,kbps,band=type=drop,rate=1000` (pktps instead of kbps; `burst` with a band's
`burst_size`; `stats`). Only `drop` bands exist in OVS's datapaths (meter-features says
so); a packet over the band's rate is dropped where the flow's `meter:N` stands. The
bucket holds `burst_size` (or, without `burst`, one second of the rate) and fills at
the rate, in simulated time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netplex.ovs.flow import FlowError, _parse_int

__all__ = ["Band", "Meter", "format_meter_config", "format_meter_stats", "parse_meter_mod"]

NS = 1_000_000_000


@dataclass
class Band:
    """struct ofputil_meter_band of type drop."""

    rate: int
    burst_size: int = 0
    packets: int = 0
    bytes: int = 0


@dataclass
class Meter:
    """A meter and its datapath twin (meter.c's dp_meter: one bucket per band)."""

    meter_id: int
    kbps: bool
    burst: bool = False
    stats: bool = False
    bands: list[Band] = field(default_factory=list)
    dp_id: int = 0
    created: int = 0
    packets: int = 0
    bytes: int = 0
    tokens: float = -1.0        # the bucket (bits or packets); -1 until the first packet
    last: int = 0

    def capacity(self, band: Band) -> float:
        size = band.burst_size if self.burst and band.burst_size else band.rate
        return float(size * 1000 if self.kbps else size)

    def admit(self, nbytes: int, now: int) -> bool:
        """ovs_meter_execute: refill, then take the packet's bits (or one packet); over the
        band's rate: dropped and counted on the band."""
        self.packets += 1
        self.bytes += nbytes
        if not self.bands:
            return True
        band = self.bands[0]
        cap = self.capacity(band)
        if self.tokens < 0:
            self.tokens = cap
        else:
            rate = band.rate * 1000 if self.kbps else band.rate
            self.tokens = min(cap, self.tokens + rate * (now - self.last) / NS)
        self.last = now
        cost = nbytes * 8 if self.kbps else 1
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        band.packets += 1
        band.bytes += nbytes
        return False


def parse_meter_mod(text: str, command: str) -> Meter:
    """parse_ofp_meter_mod_str: `command` add, modify or delete (`meter=all` too)."""
    meter_id: int | None = None
    kbps: bool | None = None
    flags = {"burst": False, "stats": False}
    bands: list[Band] = []
    head, _sep, band_text = text.partition("band=")
    for raw in head.split(","):
        item = raw.strip()
        if not item:
            continue
        key, _, value = item.partition("=")
        if key == "meter":
            if value == "all":
                meter_id = 0xFFFFFFFF
                continue
            n = _parse_int(value)
            if n is None:
                raise FlowError(f"invalid numeric format {value}")
            meter_id = n
        elif key in ("kbps", "pktps") and not value:
            kbps = key == "kbps"
        elif key in flags and not value:
            flags[key] = True
        else:
            raise FlowError(f"unknown keyword {key}")
    if meter_id is None:
        if command == "delete":
            return Meter(0xFFFFFFFF, True)
        raise FlowError("must specify 'meter'")
    if command == "delete":
        return Meter(meter_id, True)
    if kbps is None:
        raise FlowError("meter must specify either 'kbps' or 'pktps'")
    for chunk in band_text.split("band=") if band_text else []:
        band: dict[str, str] = {}
        for raw in chunk.split(","):
            key, _, value = raw.strip().partition("=")
            if key:
                band[key] = value
        if band.get("type") != "drop":
            raise FlowError(f"field type unknown value {band.get('type', '')}" if band.get("type") != "dscp_remark"
                            else "netplex: ovs-ofctl meter bands of type dscp_remark are not supported")
        if "rate" not in band:
            raise FlowError("band must have 'rate'")
        rate, burst = _parse_int(band["rate"]), _parse_int(band.get("burst_size", "0"))
        if rate is None or burst is None:
            raise FlowError(f"invalid numeric format {band['rate'] if rate is None else band['burst_size']}")
        bands.append(Band(rate, burst))
    if not bands:
        raise FlowError("must specify bands")
    return Meter(meter_id, kbps, flags["burst"], flags["stats"], bands)


def _meter_words(m: Meter) -> str:
    return " ".join(["kbps" if m.kbps else "pktps"] + [w for w, on in (("burst", m.burst), ("stats", m.stats)) if on])


def format_meter_config(m: Meter, command: str = "") -> str:
    """ofputil_format_meter_config: `meter=1 kbps bands=` and a line per band."""
    head = f"{command} " if command else ""
    lines = [f"{head}meter={m.meter_id} {_meter_words(m)} bands="]
    for b in m.bands:
        lines.append(f"type=drop rate={b.rate}" + (f" burst_size={b.burst_size}" if b.burst_size else ""))
    return "\n".join(lines) + "\n"


def format_meter_stats(m: Meter, now: int, flow_count: int) -> str:
    """ofputil_format_meter_stats."""
    d = now - m.created
    lines = [f"meter:{m.meter_id} flow_count:{flow_count} packet_in_count:{m.packets} byte_in_count:{m.bytes} "
             f"duration:{d // NS}.{d % NS // 1_000_000:03d}s bands:"]
    lines += [f"{i}: packet_count:{b.packets} byte_count:{b.bytes}" for i, b in enumerate(m.bands)]
    return "\n".join(lines) + "\n"
