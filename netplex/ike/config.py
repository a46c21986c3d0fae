"""swanctl.conf (strongSwan's swanctl.conf(5)): the `connections` and `secrets`
sections netplex's IKE daemon runs, read with strongSwan's settings syntax
(`name { ... }` sections, `key = value` lines, `#` comments).

Modelled per connection: `version` (2), `local_addrs`, `remote_addrs`,
`proposals`, `rekey_time`, `dpd_delay`, `send_cert`, `send_certreq`,
`local`/`remote` with `auth` (psk, pubkey, rsa, ecdsa) and `id`, `local.certs`,
`remote.cacerts`; per child: `local_ts`, `remote_ts`, `esp_proposals`, `mode`
(tunnel, transport), `start_action` (none, trap, start), `rekey_time`,
`life_time`; secrets `ike-*` with `id*` and `secret`. Anything else is
refused by name (`ConfigError`), never ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from netplex.errors import NetplexError
from netplex.ike.message import TrafficSelector
from netplex.packet.addr import prefix_to_mask

__all__ = ["ChildConfig", "ConfigError", "IkeConfig", "Secret", "SwanctlConf", "charon_settings", "parse_swanctl"]


class ConfigError(NetplexError):
    """swanctl.conf that netplex cannot load: what, and where."""


@dataclass(slots=True)
class ChildConfig:
    name: str
    local_ts: list[TrafficSelector] = field(default_factory=list)
    remote_ts: list[TrafficSelector] = field(default_factory=list)
    esp_proposals: str = "default"
    mode: str = "tunnel"
    start_action: str = "none"
    rekey_time: int = 3600
    life_time: int = 0           # 0: rekey_time * 1.1, as strongSwan

    def hard_time(self) -> int:
        return self.life_time or self.rekey_time * 11 // 10


@dataclass(slots=True)
class IkeConfig:
    name: str
    local_addrs: list[str] = field(default_factory=lambda: ["%any"])
    remote_addrs: list[str] = field(default_factory=lambda: ["%any"])
    proposals: str = "default"
    version: int = 0
    rekey_time: int = 14400
    dpd_delay: int = 0
    local_auth: str = "pubkey"
    local_id: str = ""
    remote_auth: str = "pubkey"
    remote_id: str = "%any"
    local_certs: list[str] = field(default_factory=list)      # local.certs: file names under x509/
    remote_cacerts: list[str] = field(default_factory=list)   # remote.cacerts: the CAs the peer must chain to
    send_cert: str = "ifasked"
    send_certreq: bool = True
    encap: bool = False           # UDP encapsulation of ESP even without a NAT (strongSwan fakes the NAT-D hash)
    children: dict[str, ChildConfig] = field(default_factory=dict)


@dataclass(slots=True)
class Secret:
    name: str
    ids: list[str]
    secret: bytes


@dataclass(slots=True)
class SwanctlConf:
    connections: dict[str, IkeConfig] = field(default_factory=dict)
    secrets: list[Secret] = field(default_factory=list)


_DUR = re.compile(r"^(\d+)([smhd]?)$")


def duration(v: str) -> int:
    m = _DUR.match(v.strip())
    if m is None:
        raise ConfigError(f"invalid time value '{v}'")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def parse_ts(v: str) -> list[TrafficSelector]:
    """`10.1.0.0/16`, `10.1.0.5`, `dynamic` (left empty: the IKE address) separated by commas."""
    out = []
    for item in (x.strip() for x in v.split(",") if x.strip()):
        if item == "dynamic":
            continue
        addr, _, plen = item.partition("/")
        parts = addr.split(".")
        if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts) \
                or (plen and (not plen.isdigit() or int(plen) > 32)):
            raise ConfigError(f"invalid traffic selector '{item}'")
        a = sum(int(p) << (24 - 8 * i) for i, p in enumerate(parts))
        n = int(plen) if plen else 32
        mask = prefix_to_mask(n)
        out.append(TrafficSelector(a & mask, (a & mask) | (~mask & 0xFFFFFFFF)))
    return out


def _tree(text: str, path: str, skip_include: bool = False) -> dict[str, object]:
    """strongSwan's settings syntax as nested dicts (a key's value is its text)."""
    root: dict[str, object] = {}
    stack = [root]
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        while line:
            if line.startswith("}"):
                if len(stack) == 1:
                    raise ConfigError(f"{path}:{lineno}: unexpected '}}'")
                stack.pop()
                line = line[1:].strip()
                continue
            m = re.match(r"^([\w.\-%]+)\s*\{(.*)$", line)
            if m:
                sec: dict[str, object] = {}
                cur = stack[-1].setdefault(m.group(1), sec)
                if not isinstance(cur, dict):
                    raise ConfigError(f"{path}:{lineno}: '{m.group(1)}' is a value and a section")
                stack.append(cur)
                line = m.group(2).strip()
                continue
            m = re.match(r'^([\w.\-%]+)\s*=\s*("[^"]*"|[^}]*)(.*)$', line)
            if m:
                # a value ends at the line's end or at a `}` (settings_lexer: no braces in a value)
                val = m.group(2).strip()
                if len(val) >= 2 and val[0] == val[-1] == '"':
                    val = val[1:-1]
                stack[-1][m.group(1)] = val
                line = m.group(3).strip()
                continue
            if line.startswith("include"):
                if skip_include:
                    break
                raise ConfigError(f"{path}:{lineno}: netplex: swanctl.conf include is not supported")
            raise ConfigError(f"{path}:{lineno}: syntax error near '{line}'")
    if len(stack) != 1:
        raise ConfigError(f"{path}: missing '}}'")
    return root


_CONN_KEYS = {"local_addrs", "remote_addrs", "proposals", "version", "rekey_time", "dpd_delay", "local", "remote",
              "children", "send_cert", "send_certreq", "encap"}
AUTH_METHODS = ("psk", "pubkey", "rsa", "ecdsa", "rsa/pss", "rsa/pss-sha256", "rsa/pss-sha384", "rsa/pss-sha512")
_YES = {"yes": True, "true": True, "enabled": True, "1": True, "no": False, "false": False, "disabled": False,
        "0": False}
_CHILD_KEYS = {"local_ts", "remote_ts", "esp_proposals", "mode", "start_action", "rekey_time", "life_time"}


def _section(node: object, where: str) -> dict[str, object]:
    if not isinstance(node, dict):
        raise ConfigError(f"{where}: expected a section")
    return node


def parse_swanctl(text: str, path: str = "/etc/swanctl/swanctl.conf") -> SwanctlConf:
    tree = _tree(text, path)
    conf = SwanctlConf()
    for name, node in _section(tree.get("connections", {}), "connections").items():
        sec = _section(node, f"connections.{name}")
        c = IkeConfig(name)
        for k, v in sec.items():
            if k not in _CONN_KEYS:
                raise ConfigError(f"netplex: swanctl.conf connections.{name}.{k} is not supported")
            if k in ("local_addrs", "remote_addrs") and isinstance(v, str):
                setattr(c, k, [x.strip() for x in v.split(",") if x.strip()])
            elif k == "proposals" and isinstance(v, str):
                c.proposals = v
            elif k == "version" and isinstance(v, str):
                if v not in ("0", "2"):
                    raise ConfigError(f"netplex: swanctl.conf version {v} is not supported (IKEv2 only)")
                c.version = int(v)
            elif k in ("rekey_time", "dpd_delay") and isinstance(v, str):
                setattr(c, k, duration(v))
            elif k == "send_cert" and isinstance(v, str):
                if v not in ("always", "ifasked", "never"):
                    raise ConfigError(f"invalid value for: send_cert, config discarded ('{v}')")
                c.send_cert = v
            elif k == "encap" and isinstance(v, str):
                if v not in _YES:
                    raise ConfigError(f"invalid value for: encap, config discarded ('{v}')")
                c.encap = _YES[v]
            elif k == "send_certreq" and isinstance(v, str):
                if v not in _YES:
                    raise ConfigError(f"invalid value for: send_certreq, config discarded ('{v}')")
                c.send_certreq = _YES[v]
        for side in ("local", "remote"):
            if side not in sec:
                continue
            s = _section(sec[side], f"connections.{name}.{side}")
            for k, v in s.items():
                if k == "auth" and isinstance(v, str):
                    if side == "remote" and v.startswith("rsa/pss-"):
                        raise ConfigError(f"netplex: swanctl.conf remote.auth = {v} is not supported (a hash "
                                          "constraint binds the certificates' signatures too; use rsa/pss)")
                    if v not in AUTH_METHODS:
                        raise ConfigError(f"netplex: swanctl.conf {side}.auth = {v} is not supported "
                                          f"({', '.join(AUTH_METHODS)})")
                    setattr(c, f"{side}_auth", v)
                elif k == "id" and isinstance(v, str):
                    setattr(c, f"{side}_id", v)
                elif k == "certs" and side == "local" and isinstance(v, str):
                    c.local_certs = [x.strip() for x in v.split(",") if x.strip()]
                elif k == "cacerts" and side == "remote" and isinstance(v, str):
                    c.remote_cacerts = [x.strip() for x in v.split(",") if x.strip()]
                else:
                    raise ConfigError(f"netplex: swanctl.conf connections.{name}.{side}.{k} is not supported")
        for cname, cnode in _section(sec.get("children", {}), f"connections.{name}.children").items():
            cs = _section(cnode, f"connections.{name}.children.{cname}")
            ch = ChildConfig(cname)
            for k, v in cs.items():
                if k == "ah_proposals":
                    raise ConfigError(f"netplex: swanctl.conf children.{cname}.ah_proposals is not supported "
                                      "(netplex's charon negotiates ESP only; AH SAs can be set by hand: "
                                      "ip xfrm state add ... proto ah)")
                if k not in _CHILD_KEYS or not isinstance(v, str):
                    raise ConfigError(f"netplex: swanctl.conf children.{cname}.{k} is not supported")
                if k in ("local_ts", "remote_ts"):
                    setattr(ch, k, parse_ts(v))
                elif k == "mode":
                    if v not in ("tunnel", "transport"):
                        raise ConfigError(f"netplex: swanctl.conf mode = {v} is not supported")
                    ch.mode = v
                elif k == "start_action":
                    if v not in ("none", "trap", "start"):
                        raise ConfigError(f"netplex: swanctl.conf start_action = {v} is not supported")
                    ch.start_action = v
                elif k in ("rekey_time", "life_time"):
                    setattr(ch, k, duration(v))
                else:
                    ch.esp_proposals = v
            c.children[cname] = ch
        conf.connections[name] = c
    for name, node in _section(tree.get("secrets", {}), "secrets").items():
        s = _section(node, f"secrets.{name}")
        if not name.startswith("ike"):
            raise ConfigError(f"netplex: swanctl.conf secrets.{name} is not supported (ike secrets)")
        secret = s.get("secret")
        if not isinstance(secret, str):
            raise ConfigError(f"secrets.{name}: secret missing")
        raw = bytes.fromhex(secret[2:]) if secret.startswith("0x") else secret.encode()
        conf.secrets.append(Secret(name, [v for k, v in s.items() if k.startswith("id") and isinstance(v, str)],
                                   raw))
    for k in tree:
        if k not in ("connections", "secrets"):
            raise ConfigError(f"netplex: swanctl.conf section {k} is not supported")
    return conf


def charon_settings(text: str, path: str = "/etc/strongswan.conf") -> dict[str, object]:
    """The `charon` section of strongswan.conf(5), read with the same syntax. charon looks its settings up
    by key, so keys it has no use for are no error; `include` lines (Debian's strongswan.d/*.conf) are
    skipped: netplex reads strongswan.conf alone."""
    return _section(_tree(text, path, skip_include=True).get("charon", {}), f"{path}: charon")
