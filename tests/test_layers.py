"""The import layering of ARCHITECTURE.md, checked on every module's source.

Every `import` and `from ... import` (at module level, inside functions, under
`if TYPE_CHECKING:`) may only reach the importer's own layer or one below:

    packet (1) < engine (2) < stack (3) < machine, apps (3.5) < shell (4)
      < scenario, twin, traffic, network, conformance (5) < systems (6) < cli (7)

`netplex.errors` is the exception tree every layer shares (layer 0), as is the units
parser `netplex.units`; the `netplex` package itself is the public facade (its lazy
`Network` is layer 5).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "netplex"

LAYERS: dict[str, float] = {
    "netplex.errors": 0,
    "netplex.units": 0,      # the one units parser (rates, sizes, times), imports nothing
    "netplex.packet": 1,
    "netplex.engine": 2,
    "netplex.stack": 3,
    "netplex.machine": 3.5,
    "netplex.apps": 3.5,
    "netplex.ike": 3.5,      # IKEv2 (messages, exchanges, swanctl.conf): charon in apps and the twin's peer use it
    "netplex.shell": 4,
    "netplex.ovs": 4,
    "netplex.frr": 4,        # FRR (frrinit.sh, zebra, bgpd, vtysh): a tool family with its daemons        # Open vSwitch: a tool family with its daemons (ovs-vsctl, ovs-ofctl, ovs-appctl)
    "netplex.scenario": 5,
    "netplex.twin": 5,
    "netplex.traffic": 5,
    "netplex.network": 5,
    "netplex.conformance": 5,
    "netplex": 5,            # the package's lazy facade (`from netplex import Network`)
    # domain systems (wave 2)
    "netplex.cloud": 6,
    "netplex.container": 6,
    "netplex.sdn": 6,
    "netplex.fabric": 6,
    "netplex.vpn": 6,
    "netplex.mobile": 6,
    "netplex.mininet": 6,
    "netplex.clab": 6,
    "netplex.sweep": 6,    # `netplex sweep`: parameter grids run in a process pool or on a Dask cluster
    "netplex.view": 6,     # the web view: a recorded run and its read-only server     # containerlab topology files read as scenarios  # Mininet's Python API and `mn` over the backend seam
    "netplex.cli": 7,
}


def layer_of(module: str) -> float | None:
    """The layer of a dotted module name: its longest prefix in LAYERS."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement in `source`, wherever it is."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "netplex":   # `from netplex import shell`: the names are modules
                out.extend((node.lineno, f"netplex.{alias.name}") for alias in node.names)
            else:
                out.append((node.lineno, target))
    return out


def violations() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        mine = layer_of(module)
        assert mine is not None, f"{module}: not in a layer of ARCHITECTURE.md (add it to LAYERS)"
        for line, target in imports_in(path.read_text(), module, path.name == "__init__.py"):
            if not target.startswith("netplex"):
                continue
            theirs = layer_of(target)
            if theirs is not None and theirs > mine:
                found.append(f"{path.relative_to(ROOT.parent)}:{line}: {module} (layer {mine:g}) "
                             f"imports {target} (layer {theirs:g})")
    return found


def test_no_module_imports_an_upper_layer() -> None:
    assert violations() == []


@pytest.mark.parametrize("source,bad", [
    ("from netplex.shell.iptables import parse_proto\n", True),
    ("def f():\n    from netplex.network import Network\n", True),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from netplex.scenario.model import Node\n", True),
    ("from netplex.packet.addr import ip_to_int\nfrom ..engine import world\n", False),
])
def test_the_walk_sees_every_kind_of_import(source: str, bad: bool) -> None:
    """A stack module's imports, wherever written, are all seen (the checker checks itself)."""
    found = [t for _, t in imports_in(source, "netplex.stack.probe")]
    assert any((layer_of(t) or 0) > LAYERS["netplex.stack"] for t in found) == bad
