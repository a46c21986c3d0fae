"""The metadata service a VM reaches at http://169.254.169.254/ through its router, as Neutron
and Nova serve it (neutron/agent/metadata/driver.py, neutron/agent/metadata/agent.py,
nova/api/metadata/base.py and handler.py).

On a real cloud the L3 agent redirects the VMs' `169.254.169.254:80` to port 9697 of the
`qrouter-` namespace (iptables, `agent.l3_rules`), where a proxy (haproxy, formerly
`neutron-ns-metadata-proxy`) adds the router's id and hands the request to the metadata agent,
which finds the instance by the request's source address among the ports of the router's
networks and asks Nova's metadata API for it. netplex's `neutron-ns-metadata-proxy` is those
three in one daemon, with the old proxy's command line:

    neutron-ns-metadata-proxy --router_id=ID [--state_path=/var/lib/neutron]
        [--metadata_port=9697] [--pid_file=PATH]

It answers from `STATE_PATH/metadata/<router_id>.json` (`instances_json`: what Nova knows of
each instance behind the router, by fixed IP), written by the agent beside the router. The
answers are Nova's: the EC2 tree (`/`, `/latest/meta-data/...`: instance-id `i-%08x` from
the instance's database id, hostname `<name>.novalocal`, local-ipv4, public-ipv4 its
floating IP, security-groups, placement/availability-zone, ...) and the OpenStack tree
(`/openstack/`, `/openstack/latest/meta_data.json` with uuid, hostname, name, launch_index,
availability_zone, random_seed, project_id; `network_data.json`, `vendor_data.json`,
`vendor_data2.json`, `password`); anything else, or a source that is no instance, is webob's
404 page. `answer` is a pure function both the simulator's daemon (`MetadataProxy`, a
`Program`) and the kernel twin's (`main`, on real sockets, netplex/twin/bin) serve, so a VM's
`curl` gets the same bytes on both.
"""
from __future__ import annotations

import base64
import json
import os
import random
import socket
import sys
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.cloud.controller import Controller, Router
from netplex.machine import Machine
from netplex.packet.addr import int_to_ip
from netplex.shell.registry import Context, command
from netplex.shell.result import UNSUPPORTED_STATUS, Result
from netplex.stack.tcp import TcpSocket

__all__ = ["METADATA_IP", "METADATA_PORT", "MetadataProxy", "answer", "data_path", "instances_json", "main"]

METADATA_IP = "169.254.169.254"
METADATA_PORT = 9697                 # the L3 agent's metadata_port
STATE_PATH = "/var/lib/neutron"
DHCP_DOMAIN = "novalocal"            # nova's [api] dhcp_domain
EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
                "2008-09-01", "2009-04-04")
OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06",
                      "2017-02-22", "2018-08-27", "2020-10-14")
NOT_FOUND = ("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n"
             "  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>")   # webob's HTTPNotFound
MAX_REQUEST = 8192


def data_path(router_id: str, state_path: str = STATE_PATH) -> str:
    return f"{state_path}/metadata/{router_id}.json"


def instances_json(ctl: Controller, r: Router) -> str:
    """What Nova and Neutron know of each instance on the router's networks, by fixed IP: the
    data the proxy answers from (the metadata agent's port lookup and Nova's instance record)."""
    nets = {ctl.ports[pid].network_id for pid in r.interfaces}
    fips = {f.fixed_port_id: str(f.address) for f in ctl.floating_ips.values() if f.fixed_port_id is not None}
    out: dict[str, Any] = {}
    for p in ctl.ports.values():
        if p.network_id not in nets or not p.device_owner.startswith("compute:") or p.device_id not in ctl.servers:
            continue
        s = ctl.servers[p.device_id]
        seed = random.Random(s.id)
        out[str(p.ip)] = {
            "uuid": s.id, "name": s.name, "db_id": s.db_id, "project_id": s.project_id, "flavor": s.flavor,
            "availability_zone": "nova", "local_ipv4": str(ctl.ports[s.ports[0]].ip),
            "public_ipv4": fips.get(s.ports[0], ""),
            "security_groups": [ctl.groups[g].name for g in dict.fromkeys(ctl.ports[s.ports[0]].security_groups)],
            "random_seed": base64.b64encode(seed.randbytes(512)).decode(),
            "reservation_id": "r-" + "".join(seed.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8)),
            "links": [{"port": ctl.ports[pid].id, "mac": ctl.ports[pid].mac, "network_id": ctl.ports[pid].network_id,
                       "mtu": 1450 if ctl.networks[ctl.ports[pid].network_id].network_type == "vxlan" else 1500,
                       "dhcp": ctl.subnets[ctl.ports[pid].subnet_id].enable_dhcp} for pid in s.ports],
        }
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def _ec2(inst: dict[str, Any]) -> dict[str, Any]:
    """Nova's get_ec2_metadata()['meta-data'] for the instance (a dict is a folder)."""
    hostname = f"{inst['name']}.{DHCP_DOMAIN}"
    return {"ami-id": "ami-00000001", "ami-launch-index": 0, "ami-manifest-path": "FIXME",
            "block-device-mapping": {"ami": "vda", "root": "/dev/vda"}, "hostname": hostname,
            "instance-action": "none", "instance-id": f"i-{inst['db_id']:08x}", "instance-type": inst["flavor"],
            "local-hostname": hostname, "local-ipv4": inst["local_ipv4"],
            "placement": {"availability-zone": inst["availability_zone"]}, "public-hostname": hostname,
            "public-ipv4": inst["public_ipv4"], "reservation-id": inst["reservation_id"],
            "security-groups": inst["security_groups"]}


def _meta_data(inst: dict[str, Any]) -> str:
    """meta_data.json as InstanceMetadata._metadata_as_json builds it for `latest`."""
    md = {"uuid": inst["uuid"], "meta": {}, "hostname": f"{inst['name']}.{DHCP_DOMAIN}", "name": inst["name"],
          "launch_index": 0, "availability_zone": inst["availability_zone"], "random_seed": inst["random_seed"],
          "project_id": inst["project_id"], "devices": [], "dedicated_cpus": []}
    return json.dumps(md)


def _network_data(inst: dict[str, Any]) -> str:
    """network_data.json (nova/virt/netutils.get_network_metadata) for DHCP-configured ports."""
    links, networks = [], []
    for i, link in enumerate(inst["links"]):
        name = "tap" + link["port"][:11]
        links.append({"id": name, "vif_id": link["port"], "type": "bridge", "mtu": link["mtu"],
                      "ethernet_mac_address": link["mac"]})
        networks.append({"id": f"network{i}", "type": "ipv4_dhcp" if link["dhcp"] else "ipv4", "link": name,
                         "network_id": link["network_id"]})
    return json.dumps({"links": links, "networks": networks, "services": []})


def _listing(tree: dict[str, Any]) -> str:
    return "\n".join(k + "/" if isinstance(v, dict) else k for k, v in sorted(tree.items()))


def answer(instances: dict[str, Any], source: str, path: str) -> tuple[int, str, str]:
    """(HTTP status, Content-Type, body) for GET `path` from `source` (the instance's fixed IP)."""
    inst = instances.get(source)
    path = path.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    text = "text/plain; charset=UTF-8"
    if inst is None:
        return 404, "text/html; charset=UTF-8", NOT_FOUND
    if not parts:
        return 200, text, "\n".join((*EC2_VERSIONS, "latest"))
    if parts[0] == "openstack":
        if len(parts) == 1:
            return 200, text, "\n".join((*OPENSTACK_VERSIONS, "latest"))
        if parts[1] not in (*OPENSTACK_VERSIONS, "latest"):
            return 404, "text/html; charset=UTF-8", NOT_FOUND
        files = {"meta_data.json": _meta_data(inst), "password": "", "vendor_data.json": "{}",
                 "network_data.json": _network_data(inst), "vendor_data2.json": "{}"}
        if len(parts) == 2:
            return 200, text, "\n".join(files)
        if len(parts) == 3 and parts[2] in files:
            return 200, "application/json" if parts[2].endswith(".json") else text, files[parts[2]]
        return 404, "text/html; charset=UTF-8", NOT_FOUND
    if parts[0] not in (*EC2_VERSIONS, "latest"):
        return 404, "text/html; charset=UTF-8", NOT_FOUND
    if len(parts) == 1:
        return 200, text, "meta-data/"
    node: Any = {"meta-data": _ec2(inst)}
    for part in parts[1:]:
        if not isinstance(node, dict) or part not in node:
            return 404, "text/html; charset=UTF-8", NOT_FOUND
        node = node[part]
    if isinstance(node, dict):
        return 200, text, _listing(node)
    return 200, text, "\n".join(node) if isinstance(node, list) else str(node)


REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


def response(instances: dict[str, Any], source: str, request: bytes) -> bytes:
    """The whole HTTP/1.1 response to one request (a GET; others 405, garbage 400); the
    connection closes after it."""
    line = request.split(b"\r\n", 1)[0].decode("latin-1")
    words = line.split()
    if len(words) != 3 or not words[2].startswith("HTTP/"):
        status, ctype, body = 400, "text/html; charset=UTF-8", ""
    elif words[0] not in ("GET", "HEAD"):
        status, ctype, body = 405, "text/html; charset=UTF-8", ""
    else:
        status, ctype, body = answer(instances, source, words[1])
    data = body.encode()
    head = (f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: {ctype}\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n").encode()
    return head + (b"" if words[:1] == ["HEAD"] else data)


def _args(argv: list[str]) -> dict[str, str]:
    """The proxy's options (--name=value or --name value); raises ValueError naming a bad one."""
    known = ("--router_id", "--state_path", "--metadata_port", "--pid_file")
    opts = {"--state_path": STATE_PATH, "--metadata_port": str(METADATA_PORT)}
    i = 0
    while i < len(argv):
        name, eq, val = argv[i].partition("=")
        if name not in known:
            raise ValueError(f"netplex: neutron-ns-metadata-proxy {name} is not supported")
        if not eq:
            i += 1
            if i == len(argv):
                raise ValueError(f"neutron-ns-metadata-proxy: error: argument {name}: expected one argument")
            val = argv[i]
        opts[name] = val
        i += 1
    if "--router_id" not in opts:
        raise ValueError("neutron-ns-metadata-proxy: error: --router_id is required (netplex serves routers' "
                         "namespaces only)")
    if not opts["--metadata_port"].isdigit() or not 0 < int(opts["--metadata_port"]) < 65536:
        raise ValueError(f"neutron-ns-metadata-proxy: error: invalid --metadata_port {opts['--metadata_port']}")
    return opts


class MetadataProxy(Program):
    """The simulator's daemon: one HTTP/1.1 request per connection on the metadata port."""

    comm = "neutron-ns-meta"

    def __init__(self, port: int, instances: dict[str, Any]) -> None:
        super().__init__()
        self.port, self.instances = port, instances
        self.buf: dict[TcpSocket, bytes] = {}

    def start(self) -> None:
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(self.port):
            raise ProgramExit(1, f"neutron-ns-metadata-proxy: cannot bind port {self.port}: Address already in use")
        lst.on_accept = self._accept

    def _accept(self, sk: TcpSocket) -> None:
        self.buf[sk] = b""
        sk.on_data = self._data
        sk.on_close = lambda s: self.buf.pop(s, None)

    def _data(self, sk: TcpSocket, data: bytes) -> None:
        if sk not in self.buf:
            return
        self.buf[sk] += data
        if b"\r\n\r\n" in self.buf[sk] or len(self.buf[sk]) > MAX_REQUEST:
            request = self.buf.pop(sk)
            sk.send(response(self.instances, int_to_ip(sk.raddr), request))
            sk.close()


@command("neutron-ns-metadata-proxy")
def metadata_proxy_command(ctx: Context, argv: list[str]) -> Result:
    """Start the proxy in the namespace the line runs in (it daemonizes, as the real one)."""
    try:
        opts = _args(argv[1:])
    except ValueError as e:
        return Result(UNSUPPORTED_STATUS if str(e).startswith("netplex:") else 2, "", f"{e}\n")
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: neutron-ns-metadata-proxy: this shell runs on no machine\n")
    path = data_path(opts["--router_id"], opts["--state_path"])
    data = ctx.fs.read(path)
    try:
        instances = json.loads(data) if data is not None else None
    except ValueError:
        instances = None
    if not isinstance(instances, dict):
        return Result(1, "", f"neutron-ns-metadata-proxy: {path}: no instance data\n")
    p = ctx.machine.procs.spawn(argv, ctx.node, MetadataProxy(int(opts["--metadata_port"]), instances))  # type: ignore[arg-type]
    if not p.alive:
        return Result(p.exit_status or 1, "", p.error + "\n")
    if "--pid_file" in opts:
        ctx.fs.write(opts["--pid_file"], f"{p.pid}\n".encode())
    return Result(0)


def main(argv: list[str] | None = None) -> None:
    """The kernel twin's daemon (netplex/twin/bin/neutron-ns-metadata-proxy): the same answers on
    a real socket of the namespace it starts in; it forks into the background once listening."""
    args = sys.argv[1:] if argv is None else argv
    try:
        opts = _args(args)
        path = data_path(opts["--router_id"], opts["--state_path"])
        with open(path) as f:
            instances = json.load(f)
    except (ValueError, OSError) as e:
        sys.stderr.write(f"{e}\n")
        raise SystemExit(1) from None
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        lst.bind(("0.0.0.0", int(opts["--metadata_port"])))
    except OSError:
        sys.stderr.write(f"neutron-ns-metadata-proxy: cannot bind port {opts['--metadata_port']}: Address already in use\n")
        raise SystemExit(1) from None
    lst.listen(16)
    if os.fork():
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if "--pid_file" in opts:
        with open(opts["--pid_file"], "w") as f:
            f.write(f"{os.getpid()}\n")
    while True:
        conn, (source, _) = lst.accept()
        with conn:
            conn.settimeout(5)
            request = b""
            try:
                while b"\r\n\r\n" not in request and len(request) <= MAX_REQUEST:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                conn.sendall(response(instances, source, request))
            except OSError:
                continue

