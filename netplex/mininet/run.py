"""Run a Mininet script, or the `mn` command, on netplex (`netplex mininet`, `netplex mn`).

`run_script` compiles the script, puts this package's modules in `sys.modules` as
`mininet.*` for the run (and takes them out after), and runs it as `__main__` with
its own `sys.argv`, inside a `Session` whose backend factory builds every network
the script makes. The script is the user's Python program, run as `python script.py`
would run it (Mininet runs it as root; netplex needs no privilege): only the
`mininet` modules are netplex's. What netplex refuses (`MininetUnsupported`), a
Mininet module netplex lacks, a syntax error, or an exception in the script is one
line `FILE:LINE: what: message` and exit status 2 (1 for the script's own error).

`run_mn` is bin/mn's common forms: `--topo single|linear|tree|reversed|minimal|
torus[,args]`, `--switch`, `--host`, `--controller`, `--link tc,bw=10,delay=5ms`,
`--mac`, `--arp`, `--ipbase`, `--test pingall|pingpair|iperf|iperfudp|all|none|build`,
`--custom FILE` (a file defining `topos = {...}`), `-v LEVEL`, `-c`; then the CLI on
standard input unless a test was given.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from netplex.errors import NetplexError
from netplex.mininet import clean, cli, link, log, moduledeps, net, node, nodelib, topo, topolib, util
from netplex.mininet.session import MininetUnsupported, Session, activate, deactivate
from netplex.scenario.backend import Backend

__all__ = ["MODULES", "run_mn", "run_script"]

MODULES: dict[str, ModuleType] = {
    "mininet.net": net, "mininet.topo": topo, "mininet.topolib": topolib, "mininet.node": node,
    "mininet.link": link, "mininet.cli": cli, "mininet.log": log, "mininet.util": util,
    "mininet.clean": clean, "mininet.nodelib": nodelib, "mininet.moduledeps": moduledeps,
}


@contextmanager
def mininet_modules(session: Session, examples: Path | None = None) -> Iterator[None]:
    """This package as `mininet` while the block runs; the session as the current one.
    `examples`: the folder `mininet.examples.NAME` is imported from (the script's own, as
    Mininet's examples import each other)."""
    package = importlib.import_module("netplex.mininet")
    names = ["mininet", *MODULES, "mininet.examples"]
    saved = {name: sys.modules.get(name) for name in names}
    before = set(sys.modules)
    sys.modules["mininet"] = package
    sys.modules.update(MODULES)
    if examples is not None:
        folder = ModuleType("mininet.examples", "the example scripts beside the one being run")
        folder.__path__ = [str(examples)]
        sys.modules["mininet.examples"] = folder
    token = activate(session)
    log.lg.setLogLevel(None)
    try:
        yield
    finally:
        deactivate(token)
        session.close()
        for name in set(sys.modules) - before:
            if name.startswith("mininet.examples."):
                del sys.modules[name]
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod


def _script_line(tb: TracebackType | None, file: str) -> int:
    """The line of the script the error came from (its deepest frame in the script)."""
    line = 0
    for frame in traceback.extract_tb(tb):
        if frame.filename == file:
            line = frame.lineno or 0
    return line


def _report(file: str, line: int, what: str, message: str) -> None:
    print(f"{file}:{line}: {what}: {message}", file=sys.stderr)


def run_script(path: str | Path, args: list[str], make_backend: Callable[[], Backend]) -> int:
    """Run the Mininet script at `path` with `args` as its arguments; the exit status."""
    file = str(path)
    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        _report(file, 0, "file", e.strerror or str(e))
        return 2
    except UnicodeDecodeError as e:
        _report(file, 0, "file", f"not UTF-8 text ({e.reason})")
        return 2
    try:
        code = compile(source, file, "exec")
    except SyntaxError as e:
        _report(file, e.lineno or 0, "syntax", e.msg)
        return 2
    saved_argv = sys.argv
    sys.argv = [file, *args]
    try:
        with mininet_modules(Session(make_backend), Path(path).resolve().parent):
            exec(code, {"__name__": "__main__", "__file__": file, "__builtins__": __builtins__})
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except MininetUnsupported as e:
        _report(file, _script_line(e.__traceback__, file), e.what, e.message)
        return 2
    except ModuleNotFoundError as e:
        name = e.name or ""
        if name == "mininet" or (name.startswith("mininet.") and not name.startswith("mininet.examples.")):
            _report(file, _script_line(e.__traceback__, file), "import",
                    f"netplex: {name} is not supported (netplex provides {', '.join(sorted(MODULES))})")
            return 2
        _report(file, _script_line(e.__traceback__, file), type(e).__name__, str(e))
        return 1
    except NetplexError as e:
        _report(file, _script_line(e.__traceback__, file), type(e).__name__, e.message)
        return 2
    except Exception as e:  # the script's own error: one line with its place, as a bad file gets
        _report(file, _script_line(e.__traceback__, file), type(e).__name__, str(e))
        return 1
    finally:
        sys.argv = saved_argv
    return 0


TOPOS = {"minimal": topo.MinimalTopo, "linear": topo.LinearTopo, "reversed": topo.SingleSwitchReversedTopo,
         "single": topo.SingleSwitchTopo, "tree": topolib.TreeTopo, "torus": topolib.TorusTopo}
SWITCHES = {"user": node.UserSwitch, "ovs": node.OVSSwitch, "ovsbr": node.OVSBridge, "ovsk": node.OVSSwitch,
            "ivs": node.IVSSwitch, "lxbr": node.LinuxBridge, "default": node.OVSSwitch}
HOSTS = {"proc": node.Host, "rt": node.CPULimitedHost, "cfs": node.CPULimitedHost}
CONTROLLERS = {"ref": node.Controller, "ovsc": node.OVSController, "nox": node.NOX,
               "remote": node.RemoteController, "ryu": node.Ryu, "default": node.DefaultController,
               "none": node.NullController}
LINKS = {"default": link.Link, "tc": link.TCLink, "tcu": link.TCULink, "ovs": link.OVSLink}
TESTS = ("pingall", "pingpair", "iperf", "iperfudp", "all", "none", "build")


def _mn_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mn", add_help=True,
                                description="Mininet's mn on netplex's simulator (no root).")
    p.add_argument("--topo", default="minimal")
    p.add_argument("--switch", default="default")
    p.add_argument("--host", default="proc")
    p.add_argument("--controller", action="append", default=[])
    p.add_argument("--link", default="default")
    p.add_argument("--test", action="append", default=[])
    p.add_argument("--custom", action="append", default=[])
    p.add_argument("--ipbase", "-i", default="10.0.0.0/8")
    p.add_argument("--mac", action="store_true")
    p.add_argument("--arp", action="store_true")
    p.add_argument("--verbosity", "-v", default="info", choices=sorted(log.LEVELS))
    p.add_argument("--clean", "-c", action="store_true")
    p.add_argument("--wait", "-w", action="store_true")
    for refused in ("--xterms", "-x", "--innamespace", "--pin", "--nat"):
        p.add_argument(refused, action="store_true", dest="refused_" + refused.strip("-"))
    p.add_argument("--cluster")
    p.add_argument("--pre")
    p.add_argument("--post")
    return p


def _load_custom(file: str, into: dict[str, dict[str, Any]]) -> None:
    """`--custom FILE`: run it (as Mininet does) and take its `topos`, `switches`, ... dictionaries."""
    source = Path(file).read_text(encoding="utf-8")
    scope: dict[str, Any] = {"__name__": "__custom__", "__file__": file, "__builtins__": __builtins__}
    exec(compile(source, file, "exec"), scope)
    for key in ("topos", "switches", "hosts", "controllers", "links", "tests"):
        if isinstance(scope.get(key), dict):
            into[key].update(scope[key])


def run_mn(argv: list[str], make_backend: Callable[[], Backend], stdin: Any = None) -> int:
    """bin/mn: build the topology, run the tests (or the CLI), stop; the exit status."""
    parser = _mn_parser()
    try:
        opts = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    for name, value in vars(opts).items():
        if name.startswith("refused_") and value:
            print(f"mn: netplex: --{name.removeprefix('refused_')} is not supported", file=sys.stderr)
            return 2
    if opts.cluster:
        print("mn: netplex: --cluster is not supported", file=sys.stderr)
        return 2
    tables: dict[str, dict[str, Any]] = {"topos": dict(TOPOS), "switches": dict(SWITCHES), "hosts": dict(HOSTS),
                                         "controllers": dict(CONTROLLERS), "links": dict(LINKS), "tests": {}}
    started = time.monotonic()
    try:
        with mininet_modules(Session(make_backend)):
            log.setLogLevel(opts.verbosity)
            if opts.clean:
                clean.cleanup()
                return 0
            for file in opts.custom:
                _load_custom(file, tables)
            t = util.buildTopo(tables["topos"], opts.topo)
            controllers = [util.customClass(tables["controllers"], c) for c in opts.controller or ["default"]]
            mn = net.Mininet(topo=t, switch=util.customClass(tables["switches"], opts.switch),
                             host=util.customClass(tables["hosts"], opts.host),
                             controller=controllers, link=util.customClass(tables["links"], opts.link),
                             ipBase=opts.ipbase, autoSetMacs=opts.mac, autoStaticArp=opts.arp,
                             waitConnected=opts.wait or bool(opts.test and opts.test != ["none"]))
            if opts.pre:
                cli.CLI(mn, script=opts.pre)
            mn.start()
            if opts.test:
                _run_tests(mn, opts.test, tables["tests"])
            else:
                cli.CLI(mn, stdin=stdin)
            if opts.post:
                cli.CLI(mn, script=opts.post)
            mn.stop()
            log.info("completed in %0.3f seconds\n" % (time.monotonic() - started))
    except MininetUnsupported as e:
        print(f"mn: {e.what}: {e.message}", file=sys.stderr)
        return 2
    except NetplexError as e:
        print(f"mn: {e.message}", file=sys.stderr)
        return 2
    return 0


def _run_tests(mn: net.Mininet, tests: list[str], custom: dict[str, Any]) -> None:
    for option in tests:
        for test in option.split("+"):
            name, args, kwargs = util.splitArgs(test)
            key = name.lower()
            if name in custom:
                custom[name](mn, *args, **kwargs)
            elif key in ("pingall",):
                mn.pingAll(*args, **kwargs)
            elif key == "pingpair":
                mn.pingPair()
            elif key == "iperf":
                mn.iperf(*args, **kwargs)
            elif key == "iperfudp":
                mn.iperfUdp(*args, **kwargs)
            elif key == "all":
                mn.ping()
                mn.iperf()
            elif key in ("none", "build"):
                pass
            else:
                raise MininetUnsupported("test", f"Test {name} is unknown - please specify one of "
                                         f"{', '.join(TESTS + tuple(custom))}")
