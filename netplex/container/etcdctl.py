"""etcdctl (v3 API, as etcd 3.4's etcdctl prints): put, get, del, lease grant|list|revoke.

    etcdctl [--endpoints=http://IP:2379] put KEY VALUE [--lease=ID]
    etcdctl get KEY [--prefix] [--keys-only] [--print-value-only]
    etcdctl del KEY [--prefix]
    etcdctl lease grant TTL | lease list | lease revoke ID

Each request goes to the endpoint as etcd's JSON gateway takes it (`post`); the
simulator's etcdctl talks so to netplex's etcd node, the kernel twin runs the
real etcdctl against the real etcd-server. `watch`, `txn`, `member`, `-w json`
and the rest are refused (`netplex: etcdctl watch is not supported`).
Standard library only.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from netplex.container.etcd import b64, prefix_end, unb64
from netplex.errors import NetplexError

__all__ = ["EtcdUnreachable", "etcdctl_main", "endpoints_of"]

Post = Callable[[str, str, dict[str, Any]], dict[str, Any]]   # (endpoint, path, body) -> answer


class EtcdUnreachable(NetplexError):
    """No endpoint answered (etcdctl: `Error: context deadline exceeded`)."""

    def __init__(self, endpoints: str) -> None:
        super().__init__("Error: context deadline exceeded")
        self.endpoints = endpoints


def endpoints_of(argv: Sequence[str], env: dict[str, str]) -> tuple[list[str], list[str]]:
    """--endpoints (or ETCDCTL_ENDPOINTS) and the remaining arguments."""
    eps = (env.get("ETCDCTL_ENDPOINTS") or "127.0.0.1:2379").split(",")
    rest: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a.startswith("--endpoints"):
            _, eq, v = a.partition("=")
            if not eq and i < len(args):
                v = args[i]
                i += 1
            eps = v.split(",")
        else:
            rest.append(a)
    return eps, rest


def etcdctl_main(argv: Sequence[str], env: dict[str, str], post: Post) -> tuple[int, str, str]:
    eps, args = endpoints_of(argv[1:], env)
    if env.get("ETCDCTL_API", "3") != "3":
        return 1, "", "netplex: etcdctl with ETCDCTL_API=2 is not supported\n"
    flags = {a for a in args if a.startswith("--")}
    words = [a for a in args if not a.startswith("--")]
    lease = next((a.split("=", 1)[1] for a in flags if a.startswith("--lease=")), "")
    if not words:
        return 1, "", "netplex: etcdctl without a command is not supported\n"
    cmd = words[0]
    known = {"--prefix", "--keys-only", "--print-value-only"}
    bad = [f for f in flags if f not in known and not f.startswith("--lease=")]
    if bad:
        return 1, "", f"netplex: etcdctl {bad[0]} is not supported\n"

    def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
        last: Exception | None = None
        for ep in eps:
            try:
                return post(ep, path, body)
            except EtcdUnreachable as e:
                last = e
        raise EtcdUnreachable(str(last))

    try:
        if cmd == "put":
            if len(words) != 3:
                return 1, "", "Error: put command needs 1 argument and input from stdin or 2 arguments\n"
            body: dict[str, Any] = {"key": b64(words[1]), "value": b64(words[2])}
            if lease:
                body["lease"] = str(int(lease, 16))
            r = call("/v3/kv/put", body)
            if "error" in r:
                return 1, "", f"Error: {r['error']}\n"
            return 0, "OK\n", ""
        if cmd in ("get", "del"):
            if len(words) != 2:
                return 1, "", (f"Error: {cmd} command needs one argument as key and an optional argument as "
                               "range_end\n")
            body = {"key": b64(words[1])}
            if "--prefix" in flags:
                body["range_end"] = prefix_end(words[1])
            if cmd == "del":
                r = call("/v3/kv/deleterange", body)
                return 0, f"{r.get('deleted', '0')}\n", ""
            r = call("/v3/kv/range", body)
            out = ""
            for kv in r.get("kvs") or []:
                k, v = unb64(kv["key"]).decode(), unb64(kv.get("value")).decode()
                if "--keys-only" in flags:
                    out += f"{k}\n\n"
                elif "--print-value-only" in flags:
                    out += f"{v}\n"
                else:
                    out += f"{k}\n{v}\n"
            return 0, out, ""
        if cmd == "lease" and len(words) >= 2:
            sub = words[1]
            if sub == "grant" and len(words) == 3 and words[2].isdigit():
                r = call("/v3/lease/grant", {"TTL": int(words[2])})
                return 0, f"lease {int(r['ID']):016x} granted with TTL({r['TTL']}s)\n", ""
            if sub == "list":
                r = call("/v3/lease/leases", {})
                ids = [f"{int(x['ID']):016x}" for x in r.get("leases") or []]
                return 0, f"found {len(ids)} leases\n" + "".join(i + "\n" for i in ids), ""
            if sub == "revoke" and len(words) == 3:
                r = call("/v3/lease/revoke", {"ID": str(int(words[2], 16))})
                if "error" in r:
                    return 1, "", f"Error: {r['error']}\n"
                return 0, f"lease {words[2]} revoked\n", ""
            return 1, "", f"netplex: etcdctl lease {sub} is not supported\n"
    except EtcdUnreachable:
        return 1, "", "Error: context deadline exceeded\n"
    except ValueError:
        return 1, "", "Error: bad argument\n"
    return 1, "", f"netplex: etcdctl {cmd} is not supported\n"
