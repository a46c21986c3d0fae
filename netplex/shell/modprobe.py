"""`modprobe` (kmod 30) for the kernel modules netplex models as loadable.

The simulated kernel is one for the whole World: a module loaded from any node
is loaded for every namespace (`World.kmods`).  Modelled: mpls_router (the
net.mpls sysctls, AF_MPLS routes, label switching) and mpls_iptunnel (`encap
mpls`; it depends on mpls_router, which it loads).  Loading a loaded module
succeeds silently, as modprobe does.  Any other module, `-r`, and other options
are refused in netplex's words.
"""
from __future__ import annotations

from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["MODULES", "modprobe"]

# module -> the modules it needs (modules.dep), loaded first
MODULES: dict[str, tuple[str, ...]] = {
    "mpls_router": (),
    "mpls_iptunnel": ("mpls_router",),
}


@command("modprobe")
def modprobe(ctx: Context, argv: list[str]) -> Result:
    names: list[str] = []
    load_all = False
    for a in argv[1:]:
        if a in ("-q", "--quiet", "-v", "--verbose"):
            continue
        if a in ("-a", "--all"):
            load_all = True
        elif a.startswith("-"):
            return Result(1, "", f"netplex: modprobe {a} is not supported\n")
        else:
            names.append(a.replace("-", "_"))
    if not names:
        return Result(1, "", "modprobe: ERROR: missing parameters. See -h.\n")
    if not load_all and len(names) > 1:     # modprobe MODULE [PARAM=VALUE...]
        return Result(1, "", "netplex: modprobe module parameters are not supported\n")
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        return Result(1, "", f"netplex: modprobe {unknown[0]}: only {', '.join(MODULES)} are modelled\n")
    ns = ctx.node
    world = ns.world  # type: ignore[attr-defined]  # a node's shell runs in a Namespace
    for n in names:
        for dep in (*MODULES[n], n):
            world.kmods.add(dep)
    ns.config_changed()  # type: ignore[attr-defined]
    return Result(0)
