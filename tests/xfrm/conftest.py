from __future__ import annotations

from pathlib import Path

from tests.l2.conftest import pair, run_ok

__all__ = ["pair", "run_ok", "transport_sas"]
ROOT = Path(__file__).resolve().parents[2]
GCM_KEY = "0x0102030405060708090a0b0c0d0e0f1011121314"
CBC_KEY = "0x00112233445566778899aabbccddeeff"
SHA_KEY = "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
CHACHA_KEY = "0x" + "42" * 36


def transport_sas(a, b, enc: str = f"aead 'rfc4106(gcm(aes))' {GCM_KEY} 128", extra: str = "") -> None:
    """ESP transport mode between a (192.168.0.1) and b (.2), both directions, with policies."""
    for n in (a, b):
        run_ok(n,
               f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport {enc} {extra}",
               f"ip xfrm state add src 192.168.0.2 dst 192.168.0.1 proto esp spi 0x200 reqid 2 mode transport {enc} {extra}")
    run_ok(a, "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir out tmpl proto esp reqid 1 mode transport",
           "ip xfrm policy add src 192.168.0.2 dst 192.168.0.1 dir in tmpl proto esp reqid 2 mode transport")
    run_ok(b, "ip xfrm policy add src 192.168.0.2 dst 192.168.0.1 dir out tmpl proto esp reqid 2 mode transport",
           "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir in tmpl proto esp reqid 1 mode transport")
