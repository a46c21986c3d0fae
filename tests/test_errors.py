"""The one error tree (netplex/errors.py): every public error class of netplex derives from
NetplexError and carries the real tool's message, an errno and an exit status."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import netplex
from netplex.errors import NetplexError, ScenarioError
from netplex.shell.iproute_fmt import IpError
from netplex.stack.netfilter.core import XtError
from netplex.twin.netlink import NetlinkError


def _public_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(netplex.__path__, "netplex."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and not name.startswith("_")
                    and obj.__module__ == info.name):
                found[f"{info.name}.{name}"] = obj
    return found


def test_every_public_error_derives_from_netplex_error() -> None:
    errors = _public_exceptions()
    assert "netplex.shell.iproute_fmt.IpError" in errors
    outside = sorted(name for name, cls in errors.items() if not issubclass(cls, NetplexError))
    assert outside == [], "not in the tree drawn in netplex/errors.py"


def test_every_error_is_drawn_in_the_tree() -> None:
    tree = netplex.errors.__doc__ or ""
    missing = sorted(name for name in _public_exceptions() if name.rsplit(".", 1)[1] not in tree)
    assert missing == []


def test_message_errno_and_status() -> None:
    e = IpError('Cannot find device "eth9"', 1)
    assert (e.message, e.errno, e.status, str(e)) == ('Cannot find device "eth9"\n', 0, 1, 'Cannot find device "eth9"\n')
    x = XtError("Bad argument `foo'")
    assert isinstance(x, NetplexError) and x.status == 2
    s = ScenarioError("a.yaml", 3, "links[0].rate", 'invalid rate "x"')
    assert (s.errno, s.status) == (22, 2)
    n = NetlinkError(17, "veth a peer b")
    assert (n.errno, n.strerror, n.request) == (17, "File exists", "veth a peer b")
    assert str(n) == "veth a peer b: File exists"
