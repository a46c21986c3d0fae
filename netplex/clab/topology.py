"""Read a containerlab topology file (`*.clab.yml`) into a netplex Scenario.

containerlab's model (containerlab.dev/manual/topo-def-file, nodes, kinds, network):
a node's settings come from `topology.defaults`, then `kinds.<kind>`, then
`groups.<group>`, then the node itself. Here:

- kind `linux`: a netplex Linux node. Its link interfaces are brought up (containerlab
  creates them up), `sysctls` become `sysctl -w` lines, `env` becomes `export` lines,
  then its `exec` commands run in order as its setup.
- kind `bridge`: a node holding a Linux bridge of that name with every link end on it
  enslaved (containerlab's bridge lives in the host; netplex never touches the host).
- kind `ovs-bridge`: the same with `ovs-vsctl add-br` / `add-port`.
- `binds` of files beside the lab (`router1/frr.conf:/etc/frr/frr.conf[:ro]`) are placed
  on the node's own filesystem; a bind of a path outside the lab's folder (the host's
  `/var/run/docker.sock`), or of a directory, is refused.
- links: `endpoints: ["n1:eth1", "n2:eth1"]` (and the extended `type: veth` form with
  `mac`), `mtu`; `type: dummy` makes a dummy interface on the node.
- `mgmt`, `mgmt-ipv4/6`, `image`, `cmd`, `ports`, `cpu`, `memory`, `healthcheck`, ... are
  noted, not modelled: netplex runs its own Linux tools, not the image's programs, and has
  no management network.

Anything else (another kind, a `host:`/`mgmt-net:` endpoint, a `macvlan`/`vxlan` link)
is refused with one message naming the file, its line and the field, as a bad
scenario file is (`ScenarioError`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode

from netplex.errors import ScenarioError
from netplex.scenario.loader import read_file_text
from netplex.scenario.model import Scenario, SetupLine, check_ifname, check_node_name

__all__ = ["ClabLab", "KINDS", "is_clab_file", "load_clab"]

KINDS = ("linux", "bridge", "ovs-bridge")
NOT_MODELLED = {
    "image", "image-pull-policy", "cmd", "entrypoint", "ports", "publish", "mgmt-ipv4", "mgmt-ipv6", "cpu",
    "cpu-set", "memory", "shm-size", "healthcheck", "dns", "aliases", "labels", "restart-policy", "auto-remove",
    "user", "cap-add", "devices", "runtime", "startup-delay", "wait-for", "stages", "certificate", "extras",
    "license", "env-files", "network-mode", "group", "kind",
}
NODE_KEYS = NOT_MODELLED | {"exec", "binds", "env", "sysctls", "startup-config", "enforce-startup-config",
                            "suppress-startup-config"}
_SOURCE_RE = re.compile(r"^[^:]+:[^:]+(:(ro|rw|z|Z|ro,z|ro,Z))?$")


def is_clab_file(path: str | Path) -> bool:
    """containerlab's naming: `*.clab.yml` or `*.clab.yaml`."""
    return str(path).endswith((".clab.yml", ".clab.yaml"))


# FRR's container image (quay.io/frrouting/frr, frrouting/frr): its entrypoint starts FRR's daemons
FRR_IMAGE = re.compile(r"(^|/)frrouting/frr(:|@|$)")
FRR_START = "/usr/lib/frr/frrinit.sh start"


@dataclass
class ClabNode:
    name: str          # containerlab's name
    netplex: str       # the netplex node's name
    kind: str
    line: int
    image: str = ""


@dataclass
class ClabLab:
    """A lab read from its file: the scenario to run, containerlab's names, and the notes."""

    name: str
    file: str
    scenario: Scenario
    nodes: dict[str, ClabNode]
    notes: list[str] = field(default_factory=list)


class _Doc:
    """The composed YAML (for line numbers) beside its values."""

    def __init__(self, file: str, root: YamlNode) -> None:
        self.file = file
        self.root = root

    def node_at(self, path: tuple[Any, ...]) -> YamlNode | None:
        node: YamlNode | None = self.root
        for key in path:
            if isinstance(node, MappingNode):
                node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == str(key)), None)
            elif isinstance(node, SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
            else:
                return None
        return node

    def line(self, path: tuple[Any, ...]) -> int:
        """The line of `path`, or of its nearest parent that exists."""
        for n in range(len(path), -1, -1):
            node = self.node_at(path[:n])
            if node is not None:
                return node.start_mark.line + 1
        return 1

    def error(self, path: tuple[Any, ...], message: str) -> ScenarioError:
        return ScenarioError(self.file, self.line(path), ".".join(str(p) for p in path), message)


def load_clab(path: str | Path) -> ClabLab:
    """Read and check a containerlab topology file; raises ScenarioError naming file, line, field."""
    file = str(path)
    text = read_file_text(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ScenarioError(file, mark.line + 1 if mark else 0, "yaml", str(getattr(e, "problem", e))) from None
    if root is None or not isinstance(data, dict):
        raise ScenarioError(file, 1, "topology", "expected a containerlab topology: name and topology.nodes")
    return _Reader(file, _Doc(file, root), data, Path(path).resolve().parent).read()


def _mapping(doc: _Doc, value: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise doc.error(path, "expected a mapping")
    return value


class _Reader:
    def __init__(self, file: str, doc: _Doc, data: dict[str, Any], folder: Path) -> None:
        self.file, self.doc, self.data, self.folder = file, doc, data, folder
        self.notes: list[str] = []
        self.nodes: dict[str, ClabNode] = {}
        self.lines: dict[str, list[SetupLine]] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.bridge_ports: dict[str, list[tuple[str, int]]] = {}
        self.ifaces: dict[str, list[tuple[str, int]]] = {}
        self.links: list[dict[str, Any]] = []
        self.not_modelled: set[str] = set()
        self.node_specs: dict[str, dict[str, Any]] = {}
        self.macs: dict[tuple[str, str], tuple[str, int]] = {}
        self.dummies: dict[str, list[tuple[str, int]]] = {}
        self.images: dict[str, list[str]] = {}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def read(self) -> ClabLab:
        doc, data = self.doc, self.data
        for key in data:
            if key not in ("name", "prefix", "mgmt", "topology", "settings", "debug"):
                raise doc.error((key,), f'unknown key "{key}" (a containerlab file has name, prefix, mgmt, topology)')
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise doc.error(("name",), "the lab needs a name")
        if data.get("mgmt") is not None:
            self.note(f"mgmt (line {doc.line(('mgmt',))}): netplex has no management network; nodes have no eth0 "
                      "and reach each other only over the lab's links")
        topo = _mapping(doc, data.get("topology"), ("topology",))
        for key in topo:
            if key not in ("defaults", "kinds", "groups", "nodes", "links"):
                raise doc.error(("topology", key), f'unknown key "{key}"')
        nodes = _mapping(doc, topo.get("nodes"), ("topology", "nodes"))
        if not nodes:
            raise doc.error(("topology", "nodes"), "a lab needs at least one node")
        for cname, spec in nodes.items():
            self.read_node(str(cname), _mapping(doc, spec, ("topology", "nodes", cname)), topo)
        links = topo.get("links") or []
        if not isinstance(links, list):
            raise doc.error(("topology", "links"), "expected a list of links")
        for i, link in enumerate(links):
            self.read_link(i, link)
        self.finish_nodes()
        for image, users in self.images.items():
            if FRR_IMAGE.search(image):
                self.note(f"image {image} ({', '.join(users)}): FRR's image; netplex starts FRR as its entrypoint "
                          f"does ({FRR_START}, reading the node's /etc/frr), with netplex's zebra, bgpd and ospfd")
                continue
            self.note(f"image {image} ({', '.join(users)}): netplex runs its own Linux tools on the node, not this "
                      "image's programs")
        if self.not_modelled:
            self.note("not modelled: " + ", ".join(sorted(self.not_modelled)))
        spec = {"name": name, "description": f"containerlab topology {self.file}",
                "nodes": {n.netplex: {"kind": "linux"} for n in self.nodes.values() if n.kind != "host"},
                "links": self.links}
        try:
            scenario = Scenario.model_validate(spec)
        except ValidationError as e:  # names were checked above; what is left is the model's own words
            err = e.errors()[0]
            raise ScenarioError(self.file, 1, ".".join(str(x) for x in err["loc"]),
                                str(err["msg"]).removeprefix("Value error, ")) from None
        scenario.set_file(self.file)
        for n in self.nodes.values():
            if n.kind != "host":
                scenario.nodes[n.netplex].set_lines_and_files(self.lines[n.name], self.files[n.name])
        return ClabLab(name, self.file, scenario, self.nodes, self.notes)

    # -- nodes ------------------------------------------------------------------------
    def read_node(self, cname: str, spec: dict[str, Any], topo: dict[str, Any]) -> None:
        doc = self.doc
        path = ("topology", "nodes", cname)
        defaults = _mapping(doc, topo.get("defaults"), ("topology", "defaults"))
        groups = _mapping(doc, topo.get("groups"), ("topology", "groups"))
        group = spec.get("group", defaults.get("group"))
        gspec = {}
        if group is not None:
            if group not in groups:
                raise doc.error(path + ("group",), f'group "{group}" is not defined in topology.groups')
            gspec = _mapping(doc, groups[group], ("topology", "groups", group))
        kind = spec.get("kind", gspec.get("kind", defaults.get("kind")))
        kind_path = path + ("kind",) if "kind" in spec else (("topology", "groups", group, "kind") if "kind" in gspec
                                                              else ("topology", "defaults", "kind"))
        if kind is None:
            raise doc.error(path, "the node has no kind (set kind: linux, here, in its group or in defaults)")
        if kind == "host":
            self.note(f"node {cname} (kind host) is this machine: netplex never touches it; the node is left out")
            self.nodes[cname] = ClabNode(cname, cname, "host", doc.line(path))
            return
        if kind not in KINDS:
            raise doc.error(kind_path, f'kind "{kind}" is not supported: netplex runs containerlab nodes of kind '
                            f'{", ".join(KINDS)} (a router image such as {kind} runs its own network OS)')
        kinds = _mapping(doc, topo.get("kinds"), ("topology", "kinds"))
        merged: dict[str, Any] = {}
        for layer in (defaults, _mapping(doc, kinds.get(kind), ("topology", "kinds", kind)), gspec, spec):
            for key, value in layer.items():
                if key in ("env", "sysctls", "labels") and isinstance(value, dict):
                    merged[key] = {**merged.get(key, {}), **value}
                elif key == "binds" and isinstance(value, list):
                    merged[key] = [*merged.get(key, []), *value]
                else:
                    merged[key] = value
        for key in spec:
            if key not in NODE_KEYS:
                raise doc.error(path + (key,), f'unknown node key "{key}"')
        netplex_name = cname.lower() if re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", cname) else cname
        if kind != "linux" and len(netplex_name) > 12:   # a bridge is no one's shell: a shorter node name
            netplex_name = netplex_name[:12].rstrip("-")
        try:
            check_node_name(netplex_name)
        except ValueError as e:
            raise doc.error(path, str(e)) from None
        if any(n.netplex == netplex_name for n in self.nodes.values()):
            raise doc.error(path, f'node "{cname}" and another node are both "{netplex_name}" in netplex')
        if netplex_name != cname:
            self.note(f"node {cname} is {netplex_name} in netplex (node names: lower case, at most 12 characters)")
        self.nodes[cname] = ClabNode(cname, netplex_name, kind, doc.line(path), str(merged.get("image", "")))
        self.not_modelled.update(k for k in merged if k in NOT_MODELLED and k not in ("group", "kind", "image"))
        if merged.get("image"):
            self.images.setdefault(str(merged["image"]), []).append(cname)
        for key in ("startup-config",):
            if key in merged:
                raise doc.error(path + (key,), f"{key} is for network OS images; netplex's linux nodes use exec")
        self.lines[cname] = []
        self.files[cname] = self.read_binds(cname, merged.get("binds") or [], path + ("binds",))
        self.ifaces[cname] = []
        self.bridge_ports[cname] = []
        self.node_specs[cname] = merged

    def read_binds(self, cname: str, binds: Any, path: tuple[Any, ...]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        if not isinstance(binds, list):
            raise self.doc.error(path, "expected a list of SOURCE:TARGET[:MODE]")
        for i, bind in enumerate(binds):
            if not isinstance(bind, str) or not _SOURCE_RE.match(bind):
                raise self.doc.error(path + (i,), f'invalid bind "{bind}": write SOURCE:TARGET[:ro]')
            source, target = bind.split(":")[:2]
            src = (self.folder / source).resolve()
            if source.startswith("/") or not src.is_relative_to(self.folder):
                raise self.doc.error(path + (i,), f'bind "{bind}": {source} is outside the lab\'s folder; netplex '
                                     "places only files that come with the lab on a node")
            if src.is_dir():
                raise self.doc.error(path + (i,), f'bind "{bind}": {source} is a directory; bind its files one by one')
            try:
                out[target] = src.read_bytes()
            except OSError as e:
                raise self.doc.error(path + (i,), f'bind "{bind}": {source}: {e.strerror}') from None
        return out

    # -- links ------------------------------------------------------------------------
    def end(self, value: Any, path: tuple[Any, ...]) -> tuple[str, str, str | None]:
        """(node, interface, mac) of one endpoint, brief ("n1:eth1") or extended ({node:, interface:})."""
        if isinstance(value, str):
            node, sep, iface = value.partition(":")
            mac = None
            if not sep:
                raise self.doc.error(path, f'invalid endpoint "{value}": write NODE:INTERFACE')
        elif isinstance(value, dict):
            node, iface, mac = str(value.get("node", "")), str(value.get("interface", "")), value.get("mac")
        else:
            raise self.doc.error(path, "an endpoint is NODE:INTERFACE or {node: N, interface: I}")
        if node in ("host", "mgmt-net", "macvlan"):
            raise self.doc.error(path, f'endpoint "{node}:{iface}" is on this machine ({node}); netplex never '
                                 "touches the host's interfaces")
        if node not in self.nodes:
            raise self.doc.error(path, f'node "{node}" is not defined in topology.nodes')
        if self.nodes[node].kind == "host":
            raise self.doc.error(path, f'node "{node}" is of kind host (this machine); netplex never touches it')
        try:
            check_ifname(iface)
        except ValueError as e:
            raise self.doc.error(path, str(e)) from None
        if (node, iface) in self.macs:
            raise self.doc.error(path, f'{node}:{iface} is already an endpoint of another link')
        self.macs[(node, iface)] = (str(mac) if mac else "", self.doc.line(path))
        return node, iface, mac

    def read_link(self, i: int, link: Any) -> None:
        path = ("topology", "links", i)
        if not isinstance(link, dict):
            raise self.doc.error(path, "a link is a mapping with endpoints")
        kind = link.get("type", "veth")
        if kind == "dummy":
            node, iface, _ = self.end(link.get("endpoint"), path + ("endpoint",))
            self.dummies.setdefault(node, []).append((iface, self.doc.line(path)))
            return
        if kind != "veth":
            raise self.doc.error(path + ("type",), f'link type "{kind}" is not supported (netplex runs veth and dummy '
                                 "links; host, mgmt-net, macvlan and vxlan links reach this machine)")
        for key in link:
            if key not in ("type", "endpoints", "mtu", "vars", "labels", "ipv4", "ipv6"):
                raise self.doc.error(path + (key,), f'unknown link key "{key}"')
        for key in ("ipv4", "ipv6", "vars"):
            if key in link:
                self.not_modelled.add(f"link {key}")
        ends = link.get("endpoints")
        if not isinstance(ends, list) or len(ends) != 2:
            raise self.doc.error(path + ("endpoints",), "a link has exactly two endpoints")
        pair = [self.end(e, path + ("endpoints", j)) for j, e in enumerate(ends)]
        spec: dict[str, Any] = {"ends": [f"{self.nodes[n].netplex}:{f}" for n, f, _ in pair]}
        if link.get("mtu") is not None:
            spec["mtu"] = link["mtu"]
        self.links.append(spec)
        line = self.doc.line(path)
        for node, iface, _ in pair:
            (self.ifaces if self.nodes[node].kind == "linux" else self.bridge_ports)[node].append((iface, line))

    # -- setup lines --------------------------------------------------------------------
    def finish_nodes(self) -> None:
        for cname, node in self.nodes.items():
            if node.kind == "host":
                continue
            spec = self.node_specs[cname]
            out: list[tuple[int, str]] = []
            for iface, line in self.dummies.get(cname, []):
                out += [(line, f"ip link add {iface} type dummy"), (line, f"ip link set {iface} up")]
            if node.kind == "linux":
                # docker's namespaces inherit the host's net.ipv4 settings (devconf_inherit_init_net 0), and
                # dockerd turns forwarding on in the host: a container forwards
                out.append((node.line, "sysctl -qw net.ipv4.ip_forward=1"))
                for iface, line in self.ifaces[cname]:
                    mac, mline = self.macs[(cname, iface)]
                    if mac:
                        out.append((mline, f"ip link set dev {iface} address {mac}"))
                    out.append((line, f"ip link set {iface} up"))
                base = ("topology", "nodes", cname)
                for key, value in _mapping(self.doc, spec.get("sysctls"), base + ("sysctls",)).items():
                    out.append((self.doc.line(base + ("sysctls", key)), f"sysctl -w {key}={value}"))
                for key, value in _mapping(self.doc, spec.get("env"), base + ("env",)).items():
                    quoted = str(value).replace("'", "'\\''")
                    out.append((self.doc.line(base + ("env", key)), f"export {key}='{quoted}'"))
                if FRR_IMAGE.search(node.image) and not spec.get("cmd") and not spec.get("entrypoint"):
                    out.append((node.line, FRR_START))     # the image's entrypoint (docker-start)
                execs = spec.get("exec") or []
                if not isinstance(execs, list):
                    raise self.doc.error(base + ("exec",), "expected a list of commands")
                exec_path = base + ("exec",) if "exec" in self.data["topology"]["nodes"][cname] else base
                for j, command in enumerate(execs):
                    out.append((self.doc.line(exec_path + ((j,) if exec_path[-1] == "exec" else ())), str(command)))
            else:
                try:
                    check_ifname(cname)
                except ValueError as e:
                    raise self.doc.error(("topology", "nodes", cname), f"{node.kind} name: {e}") from None
                line = node.line
                if node.kind == "bridge":
                    out.append((line, f"ip link add name {cname} type bridge"))
                    for iface, pline in self.bridge_ports[cname]:
                        out += [(pline, f"ip link set {iface} master {cname}"), (pline, f"ip link set {iface} up")]
                else:
                    out.append((line, f"ovs-vsctl add-br {cname}"))
                    for iface, pline in self.bridge_ports[cname]:
                        out += [(pline, f"ovs-vsctl add-port {cname} {iface}"), (pline, f"ip link set {iface} up")]
                out.append((line, f"ip link set {cname} up"))
                if spec.get("exec"):
                    self.note(f"node {cname}: exec is not run on a {node.kind} (as in containerlab)")
            self.lines[cname] = [SetupLine(line=k + 1, file_line=fl, command=c) for k, (fl, c) in enumerate(out)]
