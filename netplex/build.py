"""The optional compiled build: the hot modules compiled in place with mypyc (issue 11).

`python -m netplex.build` (or `make fast`) compiles FAST_MODULES with mypyc
into C extensions beside their sources (`netplex/engine/scheduler.*.so`, ...,
and the shared `netplex_fast__mypyc.*.so` at the tree's root); Python then
imports the extension instead of the .py. `python -m netplex.build --clean`
(`make unfast`) removes them and netplex is pure Python again. Results are
the same either way, byte for byte (tests/engine/test_compiled.py checks it
with NETPLEX_MYPYC_TEST=1, `make test-fast`); BENCHMARKS.md has the speed.

The chosen modules are those mypyc makes faster, measured: the event loop,
the whole qdisc path (classify, enqueue, HTB's token buckets and DRR), and
the per-hop group of a forwarded packet — the flow fast path, the cable,
the world, the tracer, the devices, the neighbour table and the Ethernet and
IPv4 headers — compiled together so that the fast path reads their fields as
native classes (alone, the fast path came out slower compiled: its code is
attribute reads, and reads of interpreted objects are faster under CPython
3.11's specialising interpreter). NetDevice allows interpreted subclasses
(the device kinds of other modules); the namespace stays interpreted.
`qdisc/api.py` stays interpreted: it is the control plane, and it reads
`kind` through class objects.

The namespace's IPv4 path (`stack/ipv4.py`: ip_rcv, ip_local_fast, ip_local_out and
_output_fast, udp_rcv, icmp_rcv, ...) is compiled too, since it is the main reader of those
native classes' fields: read from interpreted code, a native class's field is a getset
descriptor that CPython 3.11 does not specialise (~25-40 ns a read against ~2 ns for an
interpreted object's), and the host path reads some 50 a datagram. Its classes stay
non-native (`mypyc_attr(native_class=False)`): Ipv4Path is a mixin of the interpreted
Namespace (its methods take `self: NsSelf`, since mypyc tests a non-native class's `self`
by exact class), and OutRoute's slots are read by the interpreted sockets and TCP.

A manifest (`netplex/.fast-build.json`) records each compiled source's
SHA-256: a compiled module whose source has since changed is stale (Python
would keep running the old code) and `stale()` names it; the default test
suite fails on a stale build.

Needs mypy (which provides mypyc), setuptools and a C compiler with the
Python headers; none of it is needed by the pure-Python install.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST_MODULES = (
    "netplex/engine/scheduler.py",
    # the per-hop group (P1): the event, the cable, the flow fast path and every object it reads
    # but the namespace, all native classes, so that one reads the other's fields directly
    "netplex/engine/link.py",
    "netplex/engine/trace.py",
    "netplex/engine/world.py",
    "netplex/packet/ethernet.py",
    "netplex/packet/ipv4.py",
    "netplex/stack/device.py",
    "netplex/stack/fastpath.py",
    # the host's IPv4 path, the interpreted reader of the group's fields (Q1, P2, S1): its classes non-native
    "netplex/stack/ipv4.py",
    "netplex/stack/neigh.py",
    "netplex/stack/qdisc/core.py",
    "netplex/stack/qdisc/fifo.py",
    "netplex/stack/qdisc/htb.py",
    "netplex/stack/qdisc/cls.py",
    "netplex/stack/qdisc/act.py",
    "netplex/stack/qdisc/sfq.py",
    "netplex/stack/qdisc/tbf.py",
    "netplex/stack/qdisc/netem.py",
    "netplex/stack/qdisc/ingress.py",
)
GROUP = "netplex_fast"          # mypyc's shared library: netplex_fast__mypyc.*.so at the root
MANIFEST = ROOT / "netplex" / ".fast-build.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compiled_files() -> list[Path]:
    """Every extension file the compiled build put in the tree."""
    found = [p for m in FAST_MODULES for p in (ROOT / m).parent.glob((ROOT / m).stem + ".*.so")]
    return found + sorted(ROOT.glob(GROUP + "__mypyc.*.so"))


def compiled_modules() -> list[str]:
    """The FAST_MODULES that have an extension beside them (Python imports it instead of the .py)."""
    return [m for m in FAST_MODULES if any((ROOT / m).parent.glob((ROOT / m).stem + ".*.so"))]


def stale() -> list[str]:
    """Compiled modules whose source changed since they were compiled (or with no manifest entry)."""
    try:
        recorded = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        recorded = {}
    return [m for m in compiled_modules() if recorded.get(m) != _sha256(ROOT / m)]


def clean() -> list[Path]:
    """Remove the compiled build: netplex is pure Python again. Returns the files removed."""
    gone = compiled_files()
    for p in gone:
        p.unlink()
    MANIFEST.unlink(missing_ok=True)
    return gone


def build(opt_level: str = "3") -> list[Path]:
    """Compile FAST_MODULES in place with mypyc; returns the extension files made."""
    # mypyc and setuptools only here: the pure-Python install imports this module (stale, clean)
    # without either being installed
    from mypyc.build import mypycify
    from setuptools import Distribution

    clean()
    cwd = os.getcwd()
    os.chdir(ROOT)          # mypyc names modules by their paths from the tree's root
    try:
        with tempfile.TemporaryDirectory(prefix="netplex-mypyc-") as tmp:
            exts = mypycify(list(FAST_MODULES), opt_level=opt_level, group_name=GROUP, target_dir=tmp)
            # a bare Distribution: setup() would read pyproject.toml, which older setuptools reject
            dist = Distribution({"name": "netplex-fast", "ext_modules": exts})
            cmd = dist.get_command_obj("build_ext")
            cmd.inplace = True
            cmd.build_temp = cmd.build_lib = tmp   # nothing left behind but the extensions
            dist.run_command("build_ext")
    finally:
        os.chdir(cwd)
    MANIFEST.write_text(json.dumps({m: _sha256(ROOT / m) for m in FAST_MODULES}, indent=1, sort_keys=True) + "\n")
    return compiled_files()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m netplex.build",
                                 description="Compile netplex's hot modules with mypyc, in place (optional).")
    ap.add_argument("--clean", action="store_true", help="remove the compiled modules (pure Python again)")
    ap.add_argument("--status", action="store_true", help="list the modules and whether each is compiled")
    args = ap.parse_args(argv)
    if args.clean:
        for p in clean():
            print(f"removed {p.relative_to(ROOT)}")
        return 0
    if args.status:
        old = set(stale())
        done = set(compiled_modules())
        for m in FAST_MODULES:
            print(f"{m}: {'STALE (source changed: make fast again)' if m in old else 'compiled' if m in done else 'pure'}")
        return 1 if old else 0
    try:
        made = build()
    except ImportError as e:
        print(f"netplex: the compiled build needs mypyc (pip install mypy): {e}", file=sys.stderr)
        return 1
    print(f"compiled {len(FAST_MODULES)} modules with mypyc: {len(made)} extension files "
          f"(`python -m netplex.build --clean` removes them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
