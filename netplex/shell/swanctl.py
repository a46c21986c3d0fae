"""`swanctl` (strongSwan 5.9, swanctl(8)) and starting `charon` in the simulator.

`charon` (also `/usr/lib/ipsec/charon`, `charon-systemd`) starts the daemon
(`netplex/apps/charon.py`) in the shell's namespace; run it with `&`.
`swanctl` talks to it through its vici socket /run/charon.vici:
`--load-all` (`--load-conns`, `--load-creds`; `--file PATH`, default
/etc/swanctl/swanctl.conf), `--initiate --child NAME [--ike NAME] [--timeout S]`
(simulated time runs until the CHILD SA is up or failed),
`--terminate --ike NAME | --child NAME`, `--rekey --child NAME`,
`--list-sas`, `--list-conns`, with swanctl's output. Other commands are refused.
"""
from __future__ import annotations

from typing import Any

from netplex.apps.charon import Charon, find_charon
from netplex.ike.config import ConfigError, parse_swanctl
from netplex.ike.proposal import ProposalError, parse_proposals
from netplex.ike.x509 import load_swanctl_creds
from netplex.machine import Machine
from netplex.machine.fs import FsError
from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported

__all__ = ["charon", "swanctl"]

NSEC = 1_000_000_000
CONF = "/etc/swanctl/swanctl.conf"
NO_DAEMON = ("connecting to 'unix:///var/run/charon.vici' failed: No such file or directory\n"
             "Error: connecting to 'default' URI failed: No such file or directory\n")
COMMANDS = {"--load-all": "load-all", "-q": "load-all", "--load-conns": "load-conns", "-c": "load-conns",
            "--load-creds": "load-creds", "-s": "load-creds", "--initiate": "initiate", "-i": "initiate",
            "--terminate": "terminate", "-t": "terminate", "--rekey": "rekey", "-R": "rekey",
            "--list-sas": "list-sas", "-l": "list-sas", "--list-conns": "list-conns", "-L": "list-conns"}
USAGE = """strongSwan 5.9.8 swanctl
usage:
  swanctl --initiate         (-i)  initiate a connection
  swanctl --terminate        (-t)  terminate a connection
  swanctl --rekey            (-R)  rekey an SA
  swanctl --list-sas         (-l)  list currently active IKE_SAs
  swanctl --list-conns       (-L)  list loaded configurations
  swanctl --load-all         (-q)  load credentials, authorities, pools and connections
  swanctl --load-conns       (-c)  (re-)load connection configuration
  swanctl --load-creds       (-s)  (re-)load credentials
"""


@command("charon", "/usr/lib/ipsec/charon", "charon-systemd")
def charon(ctx: Context, argv: list[str]) -> Result:
    if len(argv) > 1:
        return unsupported(f"{argv[0]} {argv[1]}")
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: charon: this shell runs on no machine\n")
    p = ctx.machine.procs.spawn(argv, ctx.node, Charon())
    if not p.alive:
        return Result(1, "", p.error)
    return Result(0)


def _run_until(d: Charon, done: Any, timeout_s: int) -> bool:
    world = d.ns.world
    return bool(world.run_until(done, timeout_s * NSEC))


@command("swanctl")
def swanctl(ctx: Context, argv: list[str]) -> Result:
    cmd = None
    opts: dict[str, str] = {}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in COMMANDS:
            if cmd is not None:
                return Result(1, "", USAGE)
            cmd = COMMANDS[a]
        elif a in ("--child", "-c", "--ike", "-i", "--file", "--timeout", "-t", "--ike-id"):
            if i + 1 >= len(argv):
                return Result(1, "", f"swanctl: option '{a}' requires an argument\n")
            key = {"-c": "--child", "-i": "--ike", "-t": "--timeout"}.get(a, a)
            if cmd is None and a in ("-c", "-i", "-t"):
                cmd = COMMANDS[a]
                i += 1
                continue
            opts[key] = argv[i + 1]
            i += 1
        elif a in ("--help", "-h"):
            return Result(0, USAGE)
        elif a.startswith("-"):
            return unsupported(f"swanctl {a}")
        else:
            return Result(1, "", USAGE)
        i += 1
    if cmd is None:
        return Result(1, "", USAGE)
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", NO_DAEMON)
    d = find_charon(ctx.machine.procs)
    if d is None:
        return Result(1, "", NO_DAEMON)
    if cmd in ("load-all", "load-conns", "load-creds"):
        return _load(ctx, d, opts.get("--file", CONF), cmd)
    if cmd == "list-sas":
        return Result(0, d.list_sas())
    if cmd == "list-conns":
        return Result(0, d.list_conns())
    if cmd == "initiate":
        return _initiate(d, opts)
    if cmd == "terminate":
        return _terminate(d, opts)
    return _rekey(d, opts)


def _load(ctx: Context, d: Charon, path: str, cmd: str) -> Result:
    try:
        text = ctx.fs.read(path).decode()
    except Exception:   # noqa: BLE001 - any unreadable file is swanctl's "loading failed"
        return Result(1, "", f"loading '{path}' failed: No such file or directory\n")
    try:
        conf = parse_swanctl(text, path)
        for cfg in conf.connections.values():
            parse_proposals(cfg.proposals, 1)
            for ch in cfg.children.values():
                parse_proposals(ch.esp_proposals, 3)
    except ConfigError as e:
        return Result(1, "", e.message + "\n")
    except ProposalError as e:
        return Result(1, "", f"invalid value for: proposals, config discarded\nnetplex: proposal keyword '{e}' "
                             "is not supported\n")
    out: list[str] = []
    err: list[str] = []
    if cmd in ("load-all", "load-creds"):
        fs = ctx.fs

        def listdir(path: str) -> list[str] | None:
            try:
                return [n for n in fs.listdir(path) if fs.is_file(f"{path}/{n}")]
            except FsError:
                return None
        base = path.rsplit("/", 1)[0] or "/"
        d.creds, out, err = load_swanctl_creds(base, listdir, fs.read)
        for s in conf.secrets:
            out.append(f"loaded ike secret '{s.name}'")
        if cmd == "load-all":
            out.append("no authorities found, 0 unloaded")
            out.append("no pools found, 0 unloaded")
    if cmd in ("load-all", "load-conns"):
        before = len(d.conf.connections)
        for name in conf.connections:
            out.append(f"loaded connection '{name}'")
        unloaded = len([n for n in d.conf.connections if n not in conf.connections]) if before else 0
        out.append(f"successfully loaded {len(conf.connections)} connections, {unloaded} unloaded")
        d.load(conf)
    else:
        d.conf.secrets = conf.secrets
    return Result(0, "".join(line + "\n" for line in out), "".join(line + "\n" for line in err))


def _initiate(d: Charon, opts: dict[str, str]) -> Result:
    name = opts.get("--child")
    if name is None:
        return Result(1, "", "initiate failed: missing configuration name\n") if "--ike" not in opts \
            else unsupported("swanctl --initiate --ike without --child")
    found = d.find_child_cfg(name, opts.get("--ike", ""))
    if found is None:
        return Result(1, f"[CFG] no config named '{name}'\n", f"initiate failed: CHILD_SA config '{name}' not found\n")
    cfg, child = found
    mark = len(d.log)
    sa = d.initiate(cfg, child)
    timeout = int(opts.get("--timeout", "30") or 30)

    def done() -> bool:
        return sa is None or sa.state == "DESTROYED" or any(c.cfg is child for c in sa.children) \
            or (sa.state == "ESTABLISHED" and sa.outstanding is None)
    ok = _run_until(d, done, timeout) if sa is not None else False
    log = "".join(line + "\n" for line in d.log[mark:])
    if sa is not None and any(c.cfg is child for c in sa.children):
        return Result(0, log + "initiate completed successfully\n")
    if not ok:
        return Result(1, log, "initiate failed: timeout\n")
    return Result(1, log, f"initiate failed: establishing CHILD_SA '{name}' failed\n")


def _terminate(d: Charon, opts: dict[str, str]) -> Result:
    mark = len(d.log)
    if "--ike" in opts:
        sas = [s for s in d.ike_sas if s.cfg.name == opts["--ike"]]
        if not sas:
            return Result(1, "", "terminate failed: no matching SAs to terminate found\n")
        for sa in sas:
            d.terminate_ike(sa)
    elif "--child" in opts:
        pairs = [(sa, c) for sa in d.ike_sas for c in sa.children if c.cfg.name == opts["--child"]]
        if not pairs:
            return Result(1, "", "terminate failed: no matching SAs to terminate found\n")
        for sa, c in pairs:
            d.terminate_child(sa, c)
    else:
        return Result(1, "", "terminate failed: please specify an SA to terminate\n")
    d.ns.world.run_for(NSEC // 10)
    log = "".join(line + "\n" for line in d.log[mark:])
    return Result(0, log + "terminate completed successfully\n")


def _rekey(d: Charon, opts: dict[str, str]) -> Result:
    name = opts.get("--child")
    if name is None and "--ike" in opts:
        sas = [sa for sa in d.ike_sas if sa.cfg.name == opts["--ike"] and sa.state == "ESTABLISHED"]
        if not sas:
            return Result(1, "", "rekey failed: no matching SAs to rekey found\n")
        if not d.rekey_ike(sas[0]):
            return Result(1, "", "rekey failed: an exchange is under way\n")
        d.ns.world.run_for(NSEC)
        return Result(0, "rekey completed successfully\n")
    if name is None:
        return Result(1, "", "rekey failed: please specify an SA to rekey\n")
    pairs = [(sa, c) for sa in d.ike_sas for c in sa.children if c.cfg.name == name]
    if not pairs:
        return Result(1, "", "rekey failed: no matching SAs to rekey found\n")
    sa, c = pairs[0]
    if not d.rekey(sa, c):
        return Result(1, "", "rekey failed: an exchange is under way\n")
    d.ns.world.run_for(NSEC)
    return Result(0, "rekey completed successfully\n")

