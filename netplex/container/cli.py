"""The `docker` and `dockerd` command lines: docker(1)'s options, output and errors.

`docker network create|ls|inspect|connect|disconnect|rm`, `docker
run|create|start|stop|rm|ps|inspect|port|exec|logs` parsed as the docker CLI
(cobra/pflag) parses them, printed as it prints them (Go's tabwriter with
padding 3 for the tables, JSON indented by four for inspect), failing with its
messages and exit statuses (125 for `docker run` errors, 1 for a refused
request). Options netplex does not model are refused in netplex's own words
(`netplex: docker run --volume is not supported`). The daemon's side is
`netplex.container.engine`. Standard library only (the twin runs it as a program).
"""
from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from netplex.container.dns import HOST_GATEWAY, dns_names
from netplex.container.engine import DAEMON_JSON, DETACHABLE, IMAGES, SHELLS, DockerError, Engine, Host, parse_daemon

__all__ = ["docker_main", "dockerd_main"]

Out = tuple[int, str, str]
NOT_RUNNING = ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n")


def tabwriter(rows: list[list[str]], minwidth: int = 10, padding: int = 3) -> str:
    """Go's text/tabwriter as the docker CLI configures it (every column but the last padded)."""
    widths = [max(max(len(r[i]) for r in rows) + padding, minwidth) for i in range(len(rows[0]) - 1)]
    lines = []
    for r in rows:
        cells = [c.ljust(widths[i]) for i, c in enumerate(r[:-1])]
        lines.append(("".join(cells) + r[-1]).rstrip() if not r[-1] else "".join(cells) + r[-1])
    return "\n".join(lines) + "\n"


def human_duration(seconds: float) -> str:
    """go-units HumanDuration."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    return f"{h // (24 * 7)} weeks"


def rfc3339(t: float) -> str:
    whole = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((t - whole) * 1e9):09d}Z"


class Flags:
    """pflag over one subcommand: `spec` maps each flag (long and short names) to (key, takes a value)."""

    def __init__(self, cmd: str, spec: dict[str, tuple[str, bool]], refused: Sequence[str] = (),
                 interspersed: bool = False) -> None:
        self.cmd, self.spec, self.refused, self.interspersed = cmd, spec, set(refused), interspersed

    def parse(self, args: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
        vals: dict[str, list[str]] = {}
        pos: list[str] = []
        i = 0
        args = list(args)
        while i < len(args):
            a = args[i]
            i += 1
            if a == "--":
                pos += args[i:]
                break
            if not a.startswith("-") or a == "-":
                pos.append(a)
                if not self.interspersed:
                    pos += args[i:]
                    break
                continue
            if a.startswith("--"):
                name, eq, value = a[2:].partition("=")
                names = [(name, eq, value)]
            else:      # -dit, -p80:80, -p 80:80
                names = []
                body = a[1:]
                j = 0
                while j < len(body):
                    ch = body[j]
                    key = self.spec.get(ch)
                    if key is not None and key[1]:
                        rest = body[j + 1:]
                        names.append((ch, "=" if rest else "", rest.removeprefix("=")))
                        break
                    names.append((ch, "", ""))
                    j += 1
            for name, eq, value in names:
                if name in self.refused:
                    raise DockerError(f"netplex: docker {self.cmd} --{name} is not supported", 125)
                if name == "help" or name == "h" and "h" not in self.spec:
                    raise DockerError(f"netplex: docker {self.cmd} --help is not supported", 125)
                key = self.spec.get(name)
                if key is None:
                    dash = "--" if len(name) > 1 else "-"
                    shorthand = "unknown shorthand flag: '" + name + "' in -" + a[1:] if dash == "-" else \
                        f"unknown flag: --{name}"
                    raise DockerError(f"{shorthand}\nSee 'docker {self.cmd} --help'.", 125)
                k, takes = key
                if takes:
                    if not eq:
                        if i >= len(args):
                            raise DockerError(f"flag needs an argument: {'--' if len(name) > 1 else '-'}{name}\n"
                                              f"See 'docker {self.cmd} --help'.", 125)
                        value = args[i]
                        i += 1
                    vals.setdefault(k, []).append(value)
                else:
                    vals.setdefault(k, []).append(value if eq else "true")
        return vals, pos


RUN_FLAGS = {"d": ("detach", False), "detach": ("detach", False), "name": ("name", True),
             "network": ("network", True), "net": ("network", True), "ip": ("ip", True),
             "p": ("publish", True), "publish": ("publish", True), "P": ("publish_all", False),
             "publish-all": ("publish_all", False), "cap-add": ("cap_add", True), "rm": ("rm", False),
             "i": ("interactive", False), "interactive": ("interactive", False), "t": ("tty", False),
             "tty": ("tty", False), "hostname": ("hostname", True), "h": ("hostname", True),
             "cgroup-parent": ("cgroup_parent", True), "network-alias": ("network_alias", True),
             "link": ("link", True), "dns": ("dns", True), "dns-search": ("dns_search", True),
             "dns-option": ("dns_option", True), "dns-opt": ("dns_option", True), "add-host": ("add_host", True)}
RUN_REFUSED = ["v", "volume", "e", "env", "mount", "privileged", "ip6",
               "mac-address", "sysctl", "cap-drop", "user", "u", "w", "workdir",
               "entrypoint", "restart", "memory", "m", "cpus", "device", "expose", "env-file", "label", "l"]


def parse_link(spec: str) -> list[str]:
    """--link NAME[:ALIAS] (opts.ParseLink): [name, alias]."""
    name, _, alias = spec.partition(":")
    if not name or ":" in alias:
        raise DockerError(f'invalid argument "{spec}" for "--link" flag: bad format for links: {spec}\n'
                          "See 'docker run --help'.", 125)
    return [name.lstrip("/"), alias or name.lstrip("/")]


DOMAIN = re.compile(r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*"
                    r"[a-zA-Z0-9]))*")
DOMAIN_LINE = re.compile(rf"({DOMAIN.pattern})\.?\s*")


def _go_quote(v: str) -> str:
    """Go's %q for the flag values docker quotes in its errors."""
    return json.dumps(v, ensure_ascii=False)


def go_parse_ip(val: str) -> str | None:
    """net.ParseIP(...).String(): dotted IPv4 (no leading zeros) or IPv6 without a zone; an IPv4-mapped
    address prints as IPv4. None when Go would not parse it."""
    if "%" in val:
        return None
    try:
        a = ipaddress.ip_address(val)
    except ValueError:
        return None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return str(a.ipv4_mapped)
    return str(a)


def _flag_error(cmd: str, flag: str, value: str, why: str) -> DockerError:
    """pflag's error for a value its Set refused, as the docker CLI prints it."""
    return DockerError(f'invalid argument {_go_quote(value)} for "--{flag}" flag: {why}\nSee \'docker {cmd} --help\'.',
                       125)


def parse_dns(cmd: str, val: str) -> str:
    """--dns (opts.ValidateIPAddress): the address in Go's canonical form."""
    ip = go_parse_ip(val.strip())
    if ip is None:
        raise _flag_error(cmd, "dns", val, f"IP address is not correctly formatted: {val}")
    if ":" in ip:
        raise DockerError(f"netplex: docker {cmd} --dns with an IPv6 address is not supported (netplex models "
                          "IPv4)", 125)
    return ip


def parse_dns_search(cmd: str, val: str) -> str:
    """--dns-search (opts.ValidateDNSSearch): "." or a domain, its trailing dot dropped."""
    v = val.strip(" ")
    if v == ".":
        return v
    m = DOMAIN_LINE.fullmatch(v)
    if not re.search(r"[a-zA-Z]", v) or m is None or len(m.group(1)) >= 255:
        raise _flag_error(cmd, "dns-search", val, f"{v} is not a valid domain")
    return m.group(1)


def parse_add_host(cmd: str, val: str) -> list[str]:
    """--add-host NAME:IP, NAME=IP, NAME:[IPv6] or NAME:host-gateway (opts.ValidateExtraHost): [name, ip]."""
    k, sep, v = val.partition("=")
    if not sep:
        k, sep, v = val.partition(":")
    if not sep or not k or ":" in k:
        raise _flag_error(cmd, "add-host", val, f"bad format for add-host: {_go_quote(val)}")
    if v != HOST_GATEWAY:
        if len(v) > 2 and v[0] == "[" and v[-1] == "]":
            v = v[1:-1]
        ip = go_parse_ip(v.strip())
        if ip is None:
            raise _flag_error(cmd, "add-host", val, f"invalid IP address in add-host: {_go_quote(v)}")
        if ":" in ip:
            raise DockerError(f"netplex: docker {cmd} --add-host with an IPv6 address is not supported (netplex "
                              "models IPv4)", 125)
    return [k, v]


def parse_publish(spec: str) -> list[dict[str, Any]]:
    """-p [ip:][hostPort:]containerPort[/proto] (nat.ParsePortSpec)."""
    body, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise DockerError(f"invalid proto: {proto}", 125)
    if proto == "sctp":
        raise DockerError("netplex: docker run -p .../sctp is not supported", 125)
    parts = body.rsplit(":", 2) if body.count(":") <= 2 else [body]
    if len(parts) == 3:
        ip, hp, cp = parts
    elif len(parts) == 2:
        ip, hp, cp = "", parts[0], parts[1]
    else:
        ip, hp, cp = "", "", parts[0]
    if ip:
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            raise DockerError(f"invalid IP address: {ip}" if ":" not in ip else
                              "netplex: docker run -p on an IPv6 host address is not supported", 125) from None
    if "-" in hp or "-" in cp:
        raise DockerError("netplex: docker run -p with a port range is not supported", 125)
    if not cp.isdigit() or not 0 < int(cp) <= 65535:
        raise DockerError(f"invalid containerPort: {cp}", 125)
    if hp and (not hp.isdigit() or not 0 < int(hp) <= 65535):
        raise DockerError(f"invalid hostPort: {hp}", 125)
    return [{"proto": proto, "host_ip": ip, "host_port": int(hp) if hp else 0, "cport": int(cp)}]


def _run_error(cmd: str, e: DockerError) -> Out:
    msg = e.message
    if e.status == 125 and not msg.startswith(("unknown", "flag needs", "netplex:", "docker:", "invalid argument")):
        msg = "docker: " + msg
    if msg.startswith("docker: "):
        msg += f"\n\nRun 'docker {cmd} --help' for more information"
    return e.status, "", msg + "\n"


class DockerCli:
    """One invocation of docker(1) against the host's daemon."""

    def __init__(self, host: Host, name: str,
                 exec_in: Callable[[str | None, list[str], bool], Out]) -> None:
        self.engine = Engine(host, name)
        self.host = host
        self.exec_in = exec_in

    def main(self, argv: Sequence[str]) -> Out:
        args = list(argv[1:])
        if not args:
            return 0, "", "netplex: docker without a command is not supported\n"
        verb, rest = args[0], args[1:]
        if verb == "container" and rest:
            verb, rest = rest[0], rest[1:]
        if verb == "network":
            table = self.NETWORK
            if not rest:
                return 0, "", "netplex: docker network without a command is not supported\n"
            fn = table.get(rest[0])
            if fn is None:
                return 1, "", (f"docker: unknown command: docker network {rest[0]}\n\nRun 'docker network --help' "
                               "for more information\n")
            cmd, rest = f"network {rest[0]}", rest[1:]
        else:
            fn = self.VERBS.get(verb)
            cmd = verb
            if fn is None:
                if verb.startswith("-"):
                    return 125, "", f"netplex: docker {verb} is not supported\n"
                if verb in self.REFUSED:
                    return 1, "", f"netplex: docker {verb} is not supported\n"
                return 1, "", (f"docker: unknown command: docker {verb}\n\nRun 'docker --help' for more "
                               "information\n")
        if not self.engine.running:
            return 1, "", NOT_RUNNING
        try:
            return fn(self, rest)
        except DockerError as e:
            if cmd in ("run", "create"):
                return _run_error(cmd, e)
            return e.status, "", e.message + "\n"

    # -- networks -----------------------------------------------------------------
    def network_create(self, args: list[str]) -> Out:
        flags = Flags("network create", {"subnet": ("subnet", True), "gateway": ("gateway", True),
                                         "ip-range": ("ip_range", True), "internal": ("internal", False),
                                         "o": ("opt", True), "opt": ("opt", True), "d": ("driver", True),
                                         "driver": ("driver", True)},
                      ["ipv6", "attachable", "label", "aux-address", "ipam-driver", "ipam-opt", "config-from",
                       "config-only", "scope", "ingress", "ipv4"])
        vals, pos = flags.parse(args)
        if len(pos) != 1:
            return 1, "", ('"docker network create" requires exactly 1 argument.\nSee \'docker network create '
                           "--help'.\n\nUsage:  docker network create [OPTIONS] NETWORK\n\nCreate a network\n")
        driver = (vals.get("driver") or ["bridge"])[-1]
        if driver != "bridge":
            return 1, "", f"netplex: docker network create --driver {driver} is not supported\n"
        for key in ("subnet", "gateway", "ip_range"):
            if len(vals.get(key, [])) > 1:
                return 1, "", "netplex: docker network create with several --" + key.replace("_", "-") + \
                    " is not supported\n"
        opts: dict[str, Any] = {"options": {}}
        for o in vals.get("opt", []):
            k, _, v = o.partition("=")
            if k not in ("com.docker.network.bridge.name", "com.docker.network.bridge.enable_icc",
                         "com.docker.network.bridge.enable_ip_masquerade", "com.docker.network.host_ipv4",
                         "com.docker.network.bridge.gateway_mode_ipv4", "com.docker.network.driver.mtu"):
                return 1, "", f"netplex: docker network create -o {k} is not supported\n"
            opts["options"][k] = v
        sub = (vals.get("subnet") or [""])[0]
        if (vals.get("gateway") or vals.get("ip_range")) and not sub:
            return 1, "", ("Error response from daemon: invalid config: gateway or ip-range given without "
                           "subnet\n")
        for key in ("subnet", "ip_range"):
            v = (vals.get(key) or [""])[0]
            if v:
                try:
                    net = ipaddress.IPv4Network(v, strict=False)
                except ValueError:
                    return 1, "", f'invalid argument "{v}" for "--{key.replace("_", "-")}" flag: invalid CIDR ' \
                        f"address: {v}\nSee 'docker network create --help'.\n"
                if key == "subnet" and str(net.network_address) != v.split("/")[0]:
                    return 1, "", f"Error response from daemon: invalid subnet {v}: it should be {net}\n"
        opts.update(subnet=sub, gateway=(vals.get("gateway") or [""])[0],
                    ip_range=(vals.get("ip_range") or [""])[0], internal="internal" in vals)
        if opts["ip_range"] and not ipaddress.IPv4Network(opts["ip_range"]).subnet_of(ipaddress.IPv4Network(sub)):
            return 1, "", f"Error response from daemon: invalid ip-range {opts['ip_range']}: it should be " \
                f"within subnet {sub}\n"
        nid = self.engine.create_network(pos[0], opts)
        return 0, nid + "\n", ""

    def network_ls(self, args: list[str]) -> Out:
        vals, pos = Flags("network ls", {"q": ("quiet", False), "quiet": ("quiet", False),
                                         "no-trunc": ("notrunc", False)}, ["f", "filter", "format"]).parse(args)
        if pos:
            return 1, "", ('"docker network ls" accepts no arguments.\nSee \'docker network ls --help\'.\n\n'
                           "Usage:  docker network ls [OPTIONS]\n\nList networks\n")
        nets = sorted(self.engine.state["networks"].values(), key=lambda n: n["name"])
        idlen = 64 if "notrunc" in vals else 12
        if "quiet" in vals:
            return 0, "".join(n["id"][:idlen] + "\n" for n in nets), ""
        rows = [["NETWORK ID", "NAME", "DRIVER", "SCOPE"]]
        rows += [[n["id"][:idlen], n["name"], n["driver"], "local"] for n in nets]
        return 0, tabwriter(rows), ""

    def _network_json(self, n: dict[str, Any]) -> dict[str, Any]:
        containers = {}
        for c in self.engine.state["containers"].values():
            ep = c["networks"].get(n["name"])
            if ep and ep.get("ip"):
                containers[c["id"]] = {"Name": c["name"], "EndpointID": ep["endpoint_id"], "MacAddress": ep["mac"],
                                       "IPv4Address": f"{ep['ip']}/{ep['prefixlen']}", "IPv6Address": ""}
        options = dict(n["options"])
        if n["default"]:
            options = {"com.docker.network.bridge.default_bridge": "true",
                       "com.docker.network.bridge.enable_icc": str(n["icc"]).lower(),
                       "com.docker.network.bridge.enable_ip_masquerade": str(n["masq"]).lower(),
                       "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                       "com.docker.network.bridge.name": n["bridge_name"],
                       "com.docker.network.driver.mtu": str(n["mtu"] or 1500)}
        config = []
        if n["subnet"]:
            cfg = {"Subnet": n["subnet"]}
            if n["ip_range"]:
                cfg["IPRange"] = n["ip_range"]
            cfg["Gateway"] = n["gateway"]
            config.append(cfg)
        return {"Name": n["name"], "Id": n["id"], "Created": rfc3339(n["created"]), "Scope": "local",
                "Driver": n["driver"], "EnableIPv4": True, "EnableIPv6": False,
                "IPAM": {"Driver": "default", "Options": None if not n["subnet"] or n["default"] else {},
                         "Config": config},
                "Internal": n["internal"], "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
                "ConfigOnly": False, "Containers": containers, "Options": options, "Labels": {}}

    def network_inspect(self, args: list[str]) -> Out:
        vals, pos = Flags("network inspect", {"f": ("format", True), "format": ("format", True)},
                          ["v", "verbose"], interspersed=True).parse(args)
        if not pos:
            return 1, "", ('"docker network inspect" requires at least 1 argument.\nSee \'docker network inspect '
                           "--help'.\n\nUsage:  docker network inspect [OPTIONS] NETWORK [NETWORK...]\n\n"
                           "Display detailed information on one or more networks\n")
        return self._inspect([self._network_json(self.engine.network(p)) for p in pos], vals)

    def network_connect(self, args: list[str]) -> Out:
        vals, pos = Flags("network connect", {"ip": ("ip", True), "alias": ("alias", True)},
                          ["ip6", "link", "link-local-ip", "driver-opt"], interspersed=True).parse(args)
        if len(pos) != 2:
            return 1, "", ('"docker network connect" requires exactly 2 arguments.\nSee \'docker network connect '
                           "--help'.\n\nUsage:  docker network connect [OPTIONS] NETWORK CONTAINER\n\n"
                           "Connect a container to a network\n")
        self.engine.connect(pos[0], pos[1], (vals.get("ip") or [""])[-1], vals.get("alias", []))
        return 0, "", ""

    def network_disconnect(self, args: list[str]) -> Out:
        _, pos = Flags("network disconnect", {"f": ("force", False), "force": ("force", False)},
                       interspersed=True).parse(args)
        if len(pos) != 2:
            return 1, "", ('"docker network disconnect" requires exactly 2 arguments.\nSee \'docker network '
                           "disconnect --help'.\n\nUsage:  docker network disconnect [OPTIONS] NETWORK CONTAINER\n"
                           "\nDisconnect a container from a network\n")
        self.engine.disconnect(pos[0], pos[1])
        return 0, "", ""

    def network_rm(self, args: list[str]) -> Out:
        _, pos = Flags("network rm", {"f": ("force", False), "force": ("force", False)},
                       interspersed=True).parse(args)
        if not pos:
            return 1, "", ('"docker network rm" requires at least 1 argument.\nSee \'docker network rm --help\'.'
                           "\n\nUsage:  docker network rm NETWORK [NETWORK...]\n\nRemove one or more networks\n")
        out, err, status = "", "", 0
        for p in pos:
            try:
                out += self.engine.remove_network(p) + "\n"
            except DockerError as e:
                err += e.message + "\n"
                status = 1
        return status, out, err

    NETWORK: dict[str, Callable[[DockerCli, list[str]], Out]] = {
        "create": network_create, "ls": network_ls, "list": network_ls, "inspect": network_inspect,
        "connect": network_connect, "disconnect": network_disconnect, "rm": network_rm, "remove": network_rm}

    # -- containers -------------------------------------------------------------------
    def _create(self, cmd: str, args: list[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        flags = RUN_FLAGS if cmd == "run" else {k: v for k, v in RUN_FLAGS.items() if k not in ("d", "detach",
                                                                                             "rm")}
        vals, pos = Flags(cmd, flags, RUN_REFUSED).parse(args)
        dns = {"servers": [parse_dns(cmd, v) for v in vals.get("dns", [])],
               "search": [parse_dns_search(cmd, v) for v in vals.get("dns_search", [])],
               "options": vals.get("dns_option", [])}
        extra_hosts = [parse_add_host(cmd, v) for v in vals.get("add_host", [])]
        if not pos:
            raise DockerError(f"docker: '{cmd}' requires at least 1 argument\n\nUsage:  docker {cmd} [OPTIONS] "
                              "IMAGE [COMMAND] [ARG...]\n\nSee 'docker " + cmd + " --help' for more information",
                              125)
        image = pos[0].split(":", 1)[0].rsplit("/", 1)[-1]
        if image not in IMAGES:
            raise DockerError(f"netplex: docker {cmd}: image {pos[0]!r} is not modelled (known: "
                              f"{', '.join(sorted(IMAGES))})", 125)
        ports: list[dict[str, Any]] = []
        for p in vals.get("publish", []):
            ports += parse_publish(p)
        if "publish_all" in vals:
            ports += [{"proto": proto, "host_ip": "", "host_port": 0, "cport": port}
                      for proto, port in IMAGES[image][1]
                      if not any(q["cport"] == port and q["proto"] == proto for q in ports)]
        self._pick_host_ports(ports)
        ip = (vals.get("ip") or [""])[-1]
        if ip:
            try:
                ipaddress.IPv4Address(ip)
            except ValueError:
                raise DockerError(f'invalid argument "{ip}" for "--ip" flag: invalid string being converted to IP '
                                  f"address: {ip}\nSee 'docker {cmd} --help'.", 125) from None
        name = (vals.get("name") or [""])[-1]
        if name and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name):
            raise DockerError(f'Error response from daemon: Invalid container name ({name}), only '
                              '[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed', 125)
        netname = (vals.get("network") or ["bridge"])[-1]
        if netname == "default":
            netname = "bridge"
        if netname.startswith("container:"):
            raise DockerError(f"netplex: docker {cmd} --network container:... is not supported", 125)
        if netname == "host" and (extra_hosts or any(dns.values())):
            raise DockerError(f"netplex: docker {cmd} --dns, --dns-search, --dns-option and --add-host with "
                              "--network host are not supported (the container shares the host's files)", 125)
        for c in vals.get("cap_add", []):
            if c.upper().removeprefix("CAP_") not in ("NET_ADMIN", "NET_RAW", "ALL"):
                raise DockerError(f"netplex: docker {cmd} --cap-add {c} is not supported", 125)
        spec = {"name": name, "image": image, "cmd": pos[1:], "network": netname, "ip": ip, "ports": ports,
                "cap_add": vals.get("cap_add", []), "publish_all": "publish_all" in vals,
                "cgroup_parent": (vals.get("cgroup_parent") or [""])[-1], "aliases": vals.get("network_alias", []),
                "links": [parse_link(v) for v in vals.get("link", [])], "dns": dns, "extra_hosts": extra_hosts}
        n = self.engine.network(netname) if netname in self.engine.state["networks"] else None
        if n is None:
            raise DockerError(f"Error response from daemon: network {netname} not found", 125)
        if n["driver"] == "host" and ports:
            spec["ports"] = []      # published ports are discarded with host networking
        return self.engine.create_container(spec), vals

    def _pick_host_ports(self, ports: list[dict[str, Any]]) -> None:
        """An unspecified host port: the first free one of the ephemeral range 32768-60999."""
        used = {(p["proto"], p["host_port"]) for c in self.engine.state["containers"].values()
                if c["status"] == "running" for p in c["ports"]}
        for p in ports:
            if p["host_port"]:
                if (p["proto"], p["host_port"]) in used:
                    raise DockerError(f"Error response from daemon: failed to set up container networking: driver "
                                      f"failed programming external connectivity on endpoint: Bind for "
                                      f"{p['host_ip'] or '0.0.0.0'}:{p['host_port']} failed: port is already "
                                      "allocated", 125)
                used.add((p["proto"], p["host_port"]))
                continue
            hp = 32768
            while (p["proto"], hp) in used:
                hp += 1
            p["host_port"] = hp
            used.add((p["proto"], hp))

    def create(self, args: list[str]) -> Out:
        c, _ = self._create("create", args)
        return 0, c["id"] + "\n", ""

    def run(self, args: list[str]) -> Out:
        c, vals = self._create("run", args)
        detach = "detach" in vals
        if not detach and not c["cmd"] and IMAGES[c["image"]][0][0] not in SHELLS:
            self.engine.remove_container(c["name"], True)
            raise DockerError(f"netplex: docker run without -d runs the command given after the image; {c['image']}'s "
                              "own command runs only with -d", 125)
        if detach and c["cmd"] and c["cmd"][0] not in DETACHABLE and \
                c["cmd"] != IMAGES[c["image"]][0]:
            self.engine.remove_container(c["name"], True)
            raise DockerError(f"netplex: docker run -d {c['image']} {' '.join(c['cmd'])}: only the image's own "
                              "command or sleep runs detached", 125)
        try:
            self.engine.start_container(c["name"])
        except DockerError:
            self.engine.remove_container(c["name"], True)
            raise
        if detach:
            return 0, c["id"] + "\n", ""
        status, out, err = (0, "", "") if not c["cmd"] else self.exec_in(self.engine.netns_of(c), list(c["cmd"]),
                                                                           "interactive" in vals)
        if status == 127 or (status and not out and "not found" in err):
            self.engine.stop_container(c["name"], 127)
            err = (f"docker: Error response from daemon: failed to create task for container: failed to create "
                   f"shim task: OCI runtime create failed: runc create failed: unable to start container process: "
                   f'error during container init: exec: "{c["cmd"][0]}": executable file not found in $PATH: '
                   "unknown\n\nRun 'docker run --help' for more information\n")
            status = 127
        else:
            self.engine.stop_container(c["name"], status)
        st = self.engine.state["containers"][c["name"]]
        st["logs"] = out + err
        self.engine.save()
        if "rm" in vals:
            self.engine.remove_container(c["name"], True)
        return status, out, err

    def start(self, args: list[str]) -> Out:
        _, pos = Flags("start", {"a": ("attach", False), "i": ("i", False)}, interspersed=True).parse(args)
        if not pos:
            return 1, "", ('"docker start" requires at least 1 argument.\nSee \'docker start --help\'.\n\n'
                           "Usage:  docker start [OPTIONS] CONTAINER [CONTAINER...]\n\nStart one or more stopped "
                           "containers\n")
        out, err, failed = "", "", []
        for p in pos:       # startContainersWithoutAttachments: each error printed, the failed ones named at the end
            try:
                self.engine.start_container(p)
            except DockerError as e:
                err += e.message + "\n"
                failed.append(p)
                continue
            out += p + "\n"
        if failed:
            return 1, out, err + f"Error: failed to start containers: {', '.join(failed)}\n"
        return 0, out, ""

    def stop(self, args: list[str]) -> Out:
        _, pos = Flags("stop", {"t": ("time", True), "time": ("time", True), "s": ("signal", True),
                                "signal": ("signal", True)}, interspersed=True).parse(args)
        if not pos:
            return 1, "", ('"docker stop" requires at least 1 argument.\nSee \'docker stop --help\'.\n\nUsage:  '
                           "docker stop [OPTIONS] CONTAINER [CONTAINER...]\n\nStop one or more running "
                           "containers\n")
        out, err, status = "", "", 0
        for p in pos:
            try:
                c = self.engine.container(p)
                self.engine.stop_container(p, 0 if c["status"] != "running" else 137 if
                                           IMAGES[c["image"]][1] == [] else 0)
                out += p + "\n"
            except DockerError as e:
                err, status = err + e.message + "\n", 1
        return status, out, err

    def rm(self, args: list[str]) -> Out:
        vals, pos = Flags("rm", {"f": ("force", False), "force": ("force", False), "v": ("volumes", False),
                                 "volumes": ("volumes", False)}, ["l", "link"], interspersed=True).parse(args)
        if not pos:
            return 1, "", ('"docker rm" requires at least 1 argument.\nSee \'docker rm --help\'.\n\nUsage:  '
                           "docker rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more containers\n")
        out, err, status = "", "", 0
        for p in pos:
            try:
                out += self.engine.remove_container(p, "force" in vals) + "\n"
            except DockerError as e:
                err, status = err + e.message + "\n", 1
        return status, out, err

    def _ports_text(self, c: dict[str, Any]) -> str:
        if c["status"] != "running":
            return ""
        seen = []
        for p in c["ports"]:
            seen.append(f"{p['host_ip'] or '0.0.0.0'}:{p['host_port']}->{p['cport']}/{p['proto']}")
        return ", ".join(seen)

    def ps(self, args: list[str]) -> Out:
        vals, pos = Flags("ps", {"a": ("all", False), "all": ("all", False), "q": ("quiet", False),
                                 "quiet": ("quiet", False), "no-trunc": ("notrunc", False)},
                          ["f", "filter", "format", "n", "last", "l", "latest", "s", "size"]).parse(args)
        if pos:
            return 1, "", ('"docker ps" accepts no arguments.\nSee \'docker ps --help\'.\n\nUsage:  docker ps '
                           "[OPTIONS]\n\nList containers\n")
        now = self.host.now()
        cs = list(reversed(self.engine.state["containers"].values()))
        if "all" not in vals:
            cs = [c for c in cs if c["status"] == "running"]
        notrunc = "notrunc" in vals
        if "quiet" in vals:
            return 0, "".join(c["id"][:64 if notrunc else 12] + "\n" for c in cs), ""
        rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]]
        for c in cs:
            cmd = " ".join(c["cmd"] or IMAGES[c["image"]][0])
            if not notrunc and len(cmd) > 20:
                cmd = cmd[:19] + "…"
            if c["status"] == "running":
                status = "Up " + human_duration(now - c["started"])
            elif c["status"] == "created":
                status = "Created"
            else:
                status = f"Exited ({c['exit_code']}) {human_duration(now - c['finished'])} ago"
            rows.append([c["id"][:64 if notrunc else 12], c["image"], f'"{cmd}"',
                         human_duration(now - c["created"]) + " ago", status, self._ports_text(c), c["name"]])
        return 0, tabwriter(rows), ""

    def _container_json(self, c: dict[str, Any]) -> dict[str, Any]:
        cmd = c["cmd"] or IMAGES[c["image"]][0]
        dns = c.get("dns") or {}
        nets = {}
        for name, ep in c["networks"].items():
            user = not self.engine.network(name)["default"]
            nets[name] = {"IPAMConfig": {"IPv4Address": ep["want_ip"]} if ep.get("want_ip") else None,
                          "Links": None, "Aliases": (ep.get("aliases") or None) if user else None,
                          "MacAddress": ep.get("mac", ""),
                          "DriverOpts": None, "GwPriority": 0, "NetworkID": self.engine.network(name)["id"],
                          "EndpointID": ep.get("endpoint_id", "") if ep.get("ip") else "",
                          "Gateway": ep.get("gateway", "") if ep.get("ip") else "",
                          "IPAddress": ep.get("ip", ""), "IPPrefixLen": ep.get("prefixlen", 0) if ep.get("ip") else 0,
                          "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
                          "DNSNames": dns_names(c, name) if user and ep.get("ip") else None}
        if c["netmode"] in ("host", "none"):
            n = self.engine.network(c["netmode"])
            nets[c["netmode"]] = {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "",
                                  "DriverOpts": None, "GwPriority": 0, "NetworkID": n["id"], "EndpointID": "",
                                  "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                                  "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}
        ports: dict[str, Any] = {}
        bindings: dict[str, Any] = {}
        for p in c["ports"]:
            key = f"{p['cport']}/{p['proto']}"
            bindings.setdefault(key, []).append({"HostIp": p["host_ip"], "HostPort": str(p["host_port"])})
            if c["status"] == "running":
                ports.setdefault(key, []).append({"HostIp": p["host_ip"] or "0.0.0.0",
                                                  "HostPort": str(p["host_port"])})
        for proto, port in IMAGES[c["image"]][1]:
            ports.setdefault(f"{port}/{proto}", None)
        running = c["status"] == "running"
        default = nets.get("bridge", {})
        return {
            "Id": c["id"], "Created": rfc3339(c["created"]), "Path": cmd[0], "Args": cmd[1:],
            "State": {"Status": c["status"], "Running": running, "Paused": False, "Restarting": False,
                      "OOMKilled": False, "Dead": False, "Pid": 0 if not running else c["pid"],
                      "ExitCode": c["exit_code"], "Error": "",
                      "StartedAt": "0001-01-01T00:00:00Z" if c["started"] is None else rfc3339(c["started"]),
                      "FinishedAt": "0001-01-01T00:00:00Z" if c["finished"] is None else rfc3339(c["finished"])},
            "Image": "sha256:" + c["image"], "Name": "/" + c["name"],
            "HostConfig": {"NetworkMode": c["netmode"] if c["netmode"] != "bridge" else "bridge",
                           "PortBindings": bindings, "PublishAllPorts": c["publish_all"],
                           "CapAdd": c["cap_add"] or None, "CgroupParent": c.get("cgroup_parent", ""),
                           "Dns": dns.get("servers", []), "DnsOptions": dns.get("options", []),
                           "DnsSearch": dns.get("search", []),
                           "ExtraHosts": [f"{k}:{v}" for k, v in c.get("extra_hosts", [])] or None},
            "Config": {"Hostname": c["id"][:12], "Image": c["image"], "Cmd": cmd},
            "NetworkSettings": {"SandboxKey": f"/var/run/docker/netns/{c['id'][:12]}" if running else "",
                                "Ports": ports if running else {},
                                "Gateway": default.get("Gateway", ""), "IPAddress": default.get("IPAddress", ""),
                                "IPPrefixLen": default.get("IPPrefixLen", 0),
                                "MacAddress": default.get("MacAddress", ""), "Networks": nets}}

    def inspect(self, args: list[str]) -> Out:
        vals, pos = Flags("inspect", {"f": ("format", True), "format": ("format", True),
                                      "type": ("type", True)}, ["s", "size"], interspersed=True).parse(args)
        if not pos:
            return 1, "", ('"docker inspect" requires at least 1 argument.\nSee \'docker inspect --help\'.\n\n'
                           "Usage:  docker inspect [OPTIONS] NAME|ID [NAME|ID...]\n\nReturn low-level information "
                           "on Docker objects\n")
        objs, errs = [], ""
        kind = (vals.get("type") or [""])[-1]
        for p in pos:
            try:
                if kind in ("", "container"):
                    try:
                        objs.append(self._container_json(self.engine.container(p)))
                        continue
                    except DockerError:
                        if kind:
                            raise
                objs.append(self._network_json(self.engine.network(p)))
            except DockerError:
                errs += f"Error: No such object: {p}\n"
        status, out, err = self._inspect(objs, vals)
        return (1 if errs else status), out, err + errs

    def _inspect(self, objs: list[dict[str, Any]], vals: dict[str, list[str]]) -> Out:
        fmt = (vals.get("format") or [""])[-1]
        if not fmt:
            return 0, json.dumps(objs, indent=4, ensure_ascii=False) + "\n", ""
        try:
            return 0, "".join(go_template(fmt, o) + "\n" for o in objs), ""
        except DockerError as e:
            return 1, "", e.message + "\n"

    def port(self, args: list[str]) -> Out:
        _, pos = Flags("port", {}, interspersed=True).parse(args)
        if not pos or len(pos) > 2:
            return 1, "", ('"docker port" requires at least 1 and at most 2 arguments.\nSee \'docker port '
                           "--help'.\n\nUsage:  docker port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nList port "
                           "mappings or a specific mapping for the container\n")
        c = self.engine.container(pos[0])
        ports = [p for p in c["ports"]] if c["status"] == "running" else []
        if len(pos) == 2:
            want, _, proto = pos[1].partition("/")
            sel = [p for p in ports if str(p["cport"]) == want and p["proto"] == (proto or "tcp")]
            if not sel:
                return 1, "", f"Error: No public port '{want}/{proto or 'tcp'}' published for {pos[0]}\n"
            return 0, "".join(f"{p['host_ip'] or '0.0.0.0'}:{p['host_port']}\n" for p in sel), ""
        ports = sorted(ports, key=lambda p: (p["cport"], p["proto"]))
        return 0, "".join(f"{p['cport']}/{p['proto']} -> {p['host_ip'] or '0.0.0.0'}:{p['host_port']}\n"
                          for p in ports), ""

    def exec(self, args: list[str]) -> Out:
        vals, pos = Flags("exec", {"i": ("i", False), "interactive": ("i", False), "t": ("t", False),
                                   "tty": ("t", False), "d": ("detach", False)},
                          ["e", "env", "u", "user", "w", "workdir", "privileged"]).parse(args)
        if len(pos) < 2:
            return 1, "", ('"docker exec" requires at least 2 arguments.\nSee \'docker exec --help\'.\n\nUsage:  '
                           "docker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nExecute a command in a running "
                           "container\n")
        c = self.engine.container(pos[0])
        if c["status"] != "running":
            return 1, "", f"Error response from daemon: container {c['id']} is not running\n"
        status, out, err = self.exec_in(self.engine.netns_of(c), pos[1:], "i" in vals)
        if status == 127 and "not found" in err:
            return 127, "", (f"OCI runtime exec failed: exec failed: unable to start container process: exec: "
                             f'"{pos[1]}": executable file not found in $PATH: unknown\n')
        return status, out, err

    def logs(self, args: list[str]) -> Out:
        _, pos = Flags("logs", {"f": ("follow", False), "t": ("ts", False)}, ["n", "tail", "since", "until"],
                       interspersed=True).parse(args)
        if len(pos) != 1:
            return 1, "", ('"docker logs" requires exactly 1 argument.\nSee \'docker logs --help\'.\n\nUsage:  '
                           "docker logs [OPTIONS] CONTAINER\n\nFetch the logs of a container\n")
        return 0, self.engine.container(pos[0])["logs"], ""

    VERBS: dict[str, Callable[[DockerCli, list[str]], Out]] = {
        "run": run, "create": create, "start": start, "stop": stop, "rm": rm, "ps": ps, "inspect": inspect,
        "port": port, "exec": exec, "logs": logs}
    REFUSED = {"pull", "build", "images", "volume", "compose", "swarm", "service", "kill", "restart", "cp", "commit",
               "push", "login", "attach", "pause", "unpause", "rename", "top", "stats", "events", "info", "version",
               "system", "image", "update", "wait", "diff", "export", "save", "load", "tag", "rmi", "history"}


def go_template(fmt: str, obj: Any) -> str:
    """The subset of Go's text/template docker's --format takes: `{{.A.B}}`, `{{json .A}}`,
    `{{range .A}}...{{end}}`, `{{index .A "k"}}` and literal text."""
    out: list[str] = []
    pos = 0
    tokens = re.split(r"({{.*?}})", fmt)
    del pos

    def value(expr: str, dot: Any) -> Any:
        expr = expr.strip()
        if expr.startswith("json "):
            return json.dumps(value(expr[5:], dot), ensure_ascii=False, separators=(",", ":"))
        if expr.startswith("index "):
            parts = expr[6:].split()
            v = value(parts[0], dot)
            for key in parts[1:]:
                v = v[json.loads(key)] if isinstance(v, dict) else v[int(key)]
            return v
        if expr == ".":
            return dot
        if not expr.startswith("."):
            raise DockerError(f'template parsing error: template: :1: function "{expr.split()[0]}" not defined')
        v = dot
        for part in expr[1:].split("."):
            if not isinstance(v, dict) or part not in v:
                raise DockerError(f'template: :1:{2}: executing "" at <{expr}>: map has no entry for key "{part}"')
            v = v[part]
        return v

    def text(v: Any) -> str:
        if v is None:
            return "<nil>"
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, dict):
            return "map[" + " ".join(f"{k}:{text(x)}" for k, x in sorted(v.items())) + "]"
        if isinstance(v, list):
            return "[" + " ".join(text(x) for x in v) + "]"
        return str(v)

    def render(toks: list[str], dot: Any) -> int:
        i = 0
        while i < len(toks):
            t = toks[i]
            if t.startswith("{{") and t.endswith("}}"):
                expr = t[2:-2].strip()
                if expr.startswith("range "):
                    body_start = i + 1
                    depth, j = 1, i + 1
                    while j < len(toks):
                        e = toks[j][2:-2].strip() if toks[j].startswith("{{") else None
                        if e is not None and e.startswith("range "):
                            depth += 1
                        elif e == "end":
                            depth -= 1
                            if depth == 0:
                                break
                        j += 1
                    coll = value(expr[6:], dot)
                    items = coll.values() if isinstance(coll, dict) else (coll or [])
                    for item in (coll[k] for k in sorted(coll)) if isinstance(coll, dict) else items:
                        render(toks[body_start:j], item)
                    i = j + 1
                    continue
                if expr == "end":
                    return i
                out.append(text(value(expr, dot)))
            else:
                out.append(t)
            i += 1
        return i

    render(tokens, obj)
    return "".join(out)


def dockerd_main(host: Host, name: str, argv: Sequence[str], spawn_daemon: Callable[[], int]) -> Out:
    """`dockerd [OPTIONS]`: read daemon.json and the options, set up the host, start the daemon process."""
    engine = Engine(host, name)
    if engine.running:
        return 1, "", ("failed to start daemon, ensure docker is not running or delete /var/run/docker.pid: "
                       "process with PID 1 is still running\n")
    try:
        cfg = parse_daemon(argv[1:], host.read(DAEMON_JSON))
        engine.start(cfg)
    except DockerError as e:
        return 1, "", e.message + "\n"
    spawn_daemon()
    return 0, "", ""


def docker_main(host: Host, name: str, argv: Sequence[str],
                exec_in: Callable[[str | None, list[str], bool], Out]) -> Out:
    return DockerCli(host, name, exec_in).main(argv)
