"""The controller applications netplex ships, and how `netplex-controller` finds an application
by name or loads one from a file (os-ken's app_manager.load_app, which imports a module by
name or a file path and takes the RyuApp classes it defines).

A built-in application is named by its module (`simple_switch_13`, `netplex.ovs.ofapps.simple_switch_13`,
or os-ken's and Ryu's spelling `os_ken.app.simple_switch_13`, `ryu.app.ofctl_rest`) and always runs.
A Python file (a scenario's `files:`) is code from the scenario: it runs only when the user allowed
it (`netplex run --allow-apps`, which sets NETPLEX_ALLOW_APPS=1), and is otherwise refused naming the flag.
"""
from __future__ import annotations

import os
import traceback
from collections.abc import Callable

from netplex.errors import NetplexError
from netplex.ovs.ofapp import App
from netplex.ovs.ofapps.ofctl_rest import RestStatsApi
from netplex.ovs.ofapps.simple_hub import SimpleHub
from netplex.ovs.ofapps.simple_switch_13 import SimpleSwitch13

__all__ = ["ALLOW_ENV", "BUILTIN", "AppLoadError", "apps_allowed", "builtin_app", "load_apps", "load_file_app",
           "refused_file"]

BUILTIN: dict[str, type[App]] = {"simple_switch_13": SimpleSwitch13, "simple_hub": SimpleHub,
                                 "ofctl_rest": RestStatsApi}
_PREFIXES = ("netplex.ovs.ofapps.", "os_ken.app.", "ryu.app.")
ALLOW_ENV = "NETPLEX_ALLOW_APPS"


class AppLoadError(NetplexError):
    """An application that cannot be loaded; the message says why."""


def apps_allowed() -> bool:
    """The user allowed the scenario's Python files to run (`netplex run --allow-apps`)."""
    return os.environ.get(ALLOW_ENV, "") not in ("", "0")


def refused_file(tool: str, path: str) -> str:
    """The refusal of a file app the user did not allow."""
    return (f"{tool}: {path}: an application file from the scenario runs only when allowed "
            f"(netplex run --allow-apps)\n")


def builtin_app(name: str) -> type[App] | None:
    """The built-in application a module name names, or None."""
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return BUILTIN.get(name)


def load_file_app(path: str, source: bytes) -> list[type[App]]:
    """The App classes a Python file defines (executed in a module of its own); AppLoadError with
    the exception's last line when it does not run or defines none."""
    name = path.rsplit("/", 1)[-1].removesuffix(".py")
    module: dict[str, object] = {"__name__": name, "__file__": path}
    try:
        exec(compile(source, path, "exec"), module)     # noqa: S102 - the user allowed it (apps_allowed)
    except Exception as e:      # any error of the user's code: reported, never a traceback
        where = traceback.extract_tb(e.__traceback__)
        line = e.lineno if isinstance(e, SyntaxError) else next(
            (f.lineno for f in reversed(where) if f.filename == path), None)
        at = f" line {line}:" if line is not None else ""
        raise AppLoadError(f"{path}:{at} {type(e).__name__}: {e}") from None
    apps = [v for v in module.values() if isinstance(v, type) and issubclass(v, App) and v.__module__ == name]
    if not apps:
        raise AppLoadError(f"{path}: defines no application (a subclass of netplex.ovs.ofapp.App)")
    return apps


def load_apps(tool: str, specs: list[str], read: Callable[[str], tuple[str, bytes] | None]) -> list[type[App]] | str:
    """The classes of the APPs a launcher was given, or the error it prints (status 1): a built-in
    by name, else a file `read(spec)` finds (its full path and bytes), allowed and loadable."""
    classes: list[type[App]] = []
    for spec in specs:
        builtin = builtin_app(spec)
        if builtin is not None:
            classes.append(builtin)
            continue
        found = read(spec)
        if found is None:
            return (f"{tool}: no application {spec} (built-in: {', '.join(BUILTIN)}; or a Python file on the "
                    "node)\n")
        if not apps_allowed():
            return refused_file(tool, spec)
        try:
            classes += load_file_app(*found)
        except AppLoadError as e:
            return f"{tool}: {e}\n"
    return classes
