"""`docker-proxy`: dockerd's userland port proxy, as simulated sockets on the node.

    docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 10080 -container-ip 172.17.0.2 -container-port 80

Listens on host-ip:host-port; each TCP connection accepted there is relayed
to container-ip:container-port over a new connection from the host (so the
container sees the host's address as its peer, as with the real proxy); each
UDP client gets its own upstream socket. The command returns at once and the
proxy keeps running in the background as a process of the machine
(`netplex.apps.docker_proxy`), until the simulation ends or `kill` ends it. Flags are parsed as Go's `flag` package does
(`-name value`, `--name value`, `-name=value`). On the kernel twin the same
command is `netplex/twin/docker_proxy.py`, a real program.
"""
from __future__ import annotations

from netplex.apps.docker_proxy import DockerProxy
from netplex.machine import Machine
from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

FLAGS = {"proto": "tcp", "host-ip": "", "host-port": "-1", "container-ip": "", "container-port": "-1"}
BOOL_FLAGS = {"use-listen-fd"}
USAGE = """Usage of docker-proxy:
  -container-ip string
    \tcontainer ip
  -container-port int
    \tcontainer port (default -1)
  -host-ip string
    \thost ip
  -host-port int
    \thost port (default -1)
  -proto string
    \tproxy protocol (default "tcp")
  -use-listen-fd
    \tuse a supplied listen fd
"""


def parse_flags(args: list[str]) -> tuple[dict[str, str], str | None]:
    """Go's flag.Parse over `args`: the values, or the error line."""
    vals = dict(FLAGS)
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "-":
            break
        if a == "--":
            break
        name = a.lstrip("-")
        value = None
        if "=" in name:
            name, value = name.split("=", 1)
        if name in ("h", "help"):
            return vals, ""
        if name in BOOL_FLAGS:
            continue
        if name not in FLAGS:
            return vals, f"flag provided but not defined: -{name}"
        if value is None:
            if i >= len(args):
                return vals, f"flag needs an argument: -{name}"
            value = args[i]
            i += 1
        if name.endswith("port"):
            try:
                int(value, 0)
            except ValueError:
                return vals, f'invalid value "{value}" for flag -{name}: parse error'
        vals[name] = value
    return vals, None


@command("docker-proxy")
def docker_proxy(ctx: Context, argv: list[str]) -> Result:
    vals, error = parse_flags(argv[1:])
    if error is not None:
        return Result(0 if error == "" else 2, "", (error + "\n" if error else "") + USAGE)
    proto = vals["proto"]
    try:
        host_ip = ip_to_int(vals["host-ip"]) if vals["host-ip"] else 0
        cip = ip_to_int(vals["container-ip"])
    except ValueError:
        return Result(1, "", f"Unsupported protocol {proto}\n" if proto not in ("tcp", "udp") else
                      "invalid container or host address\n")
    hport, cport = int(vals["host-port"], 0), int(vals["container-port"], 0)
    if proto not in ("tcp", "udp"):
        return Result(1, "", f"Unsupported protocol {proto}\n")
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: docker-proxy: this shell runs on no machine\n")
    p = ctx.machine.procs.spawn(argv, ctx.node, DockerProxy(proto, host_ip, hport, cip, cport))  # type: ignore[arg-type]
    if not p.alive:
        return Result(1, "", p.error)
    return Result(0, "", "")
