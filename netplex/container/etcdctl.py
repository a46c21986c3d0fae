"""etcdctl (v3 API, as etcd 3.4's etcdctl prints): put, get, del, lease grant|list|revoke|timetolive|keep-alive.

    etcdctl [--endpoints=http://IP:2379] put KEY VALUE [--lease=ID]
    etcdctl get KEY [--prefix] [--keys-only] [--print-value-only]
    etcdctl del KEY [--prefix]
    etcdctl lease grant TTL | lease list | lease revoke ID
    etcdctl lease timetolive [--keys] ID | lease keep-alive --once ID
    etcdctl txn < compares, blank line, success ops, blank line, failure ops, blank line
    etcdctl watch KEY [RANGE_END] [--prefix] [--rev=N] [--prev-kv]

Each request goes to the endpoint as etcd's JSON gateway takes it (`post`); the
simulator's etcdctl talks so to netplex's etcd node, the kernel twin runs the
real etcdctl against the real etcd-server. `watch` prints each event as etcdctl's
simple printer does (`PUT`/`DELETE`, then the previous key and value with
`--prev-kv`, then the key and value) until it is stopped: by Ctrl-C on a
terminal, by `timeout` (its deadline), else at netplex's limit (as `ping`
without -c). `txn -i`, `watch -i` and a watch's exec-command, `member`, `-w json`,
`lease keep-alive` without `--once` (it runs until killed) and the rest are refused
(`netplex: etcdctl member is not supported`).
Standard library only.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from netplex.container.etcd import b64, prefix_end, unb64
from netplex.errors import NetplexError

__all__ = ["EtcdUnreachable", "WatchLoop", "etcdctl_main", "endpoints_of"]

Post = Callable[[str, str, dict[str, Any]], dict[str, Any]]   # (endpoint, path, body) -> answer
# the host's loop for `watch`: it calls the poll (the new events' text) until the watch is stopped
WatchLoop = Callable[[Callable[[], str]], tuple[int, str, str]]


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


def etcdctl_main(argv: Sequence[str], env: dict[str, str], post: Post, stdin: str = "",
                 watch_loop: WatchLoop | None = None) -> tuple[int, str, str]:
    eps, args = endpoints_of(argv[1:], env)
    for i, a in enumerate(args[:-1]):    # `--rev N` as `--rev=N` (the other flags take no value)
        if a == "--rev":
            args[i:i + 2] = [f"--rev={args[i + 1]}"]
            break
    if env.get("ETCDCTL_API", "3") != "3":
        return 1, "", "netplex: etcdctl with ETCDCTL_API=2 is not supported\n"
    flags = {a for a in args if a.startswith("--")}
    words = [a for a in args if not a.startswith("--")]
    lease = next((a.split("=", 1)[1] for a in flags if a.startswith("--lease=")), "")
    if not words:
        return 1, "", "netplex: etcdctl without a command is not supported\n"
    cmd = words[0]
    known = {"--prefix", "--keys-only", "--print-value-only", "--keys", "--once", "--prev-kv"}
    bad = [f for f in flags if f not in known and not f.startswith(("--lease=", "--rev="))]
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
        if cmd == "txn":
            if len(words) > 1 or flags:
                return 1, "", f"netplex: etcdctl txn {(words[1:] + sorted(flags))[0]} is not supported\n"
            return _txn(stdin, call)
        if cmd == "lease" and len(words) >= 2:
            return _lease(words[1], words[2:], flags, call)
        if cmd == "watch" and watch_loop is not None:
            return _watch(words[1:], flags, call, watch_loop)
    except EtcdUnreachable:
        return 1, "", "Error: context deadline exceeded\n"
    except ValueError:
        return 1, "", "Error: bad argument\n"
    return 1, "", f"netplex: etcdctl {cmd} is not supported\n"


LEASE_NEEDS = {"grant": "Error: lease grant command needs TTL argument\n",
               "revoke": "Error: lease revoke command needs 1 argument\n",
               "timetolive": "Error: lease timetolive command needs lease ID as argument\n",
               "keep-alive": "Error: lease keep-alive command needs lease ID as argument\n"}
EXIT_BAD_ARGS = 128     # etcdctl's ExitBadArgs
EXIT_BAD_CONNECTION = 2


def _lease(sub: str, args: list[str], flags: set[str],
           call: Callable[[str, dict[str, Any]], dict[str, Any]]) -> tuple[int, str, str]:
    """`etcdctl lease SUB ...` (etcdctl/ctlv3/command/lease_command.go, printer_simple.go)."""
    if sub == "list":
        r = call("/v3/lease/leases", {})
        ids = [f"{int(x['ID']):016x}" for x in r.get("leases") or []]
        return 0, f"found {len(ids)} leases\n" + "".join(i + "\n" for i in ids), ""
    if sub not in LEASE_NEEDS:
        return 1, "", f"netplex: etcdctl lease {sub} is not supported\n"
    if sub == "keep-alive" and "--once" not in flags:
        return 1, "", "netplex: etcdctl lease keep-alive without --once is not supported\n"
    if len(args) != 1:
        return EXIT_BAD_ARGS, "", LEASE_NEEDS[sub]
    if sub == "grant":
        try:
            ttl = int(args[0])
        except ValueError:
            return EXIT_BAD_ARGS, "", (f'Error: bad TTL (strconv.ParseInt: parsing "{args[0]}": '
                                       'invalid syntax)\n')
        r = call("/v3/lease/grant", {"TTL": ttl})
        return 0, f"lease {int(r['ID']):016x} granted with TTL({r['TTL']}s)\n", ""
    try:
        lid = int(args[0], 16)
    except ValueError:
        return EXIT_BAD_ARGS, "", (f'Error: bad lease ID arg (strconv.ParseInt: parsing "{args[0]}": '
                                   'invalid syntax), expecting ID in Hex\n')
    if sub == "revoke":
        r = call("/v3/lease/revoke", {"ID": str(lid)})
        if "error" in r:
            return 1, "", f"Error: failed to revoke lease ({r['error']})\n"
        return 0, f"lease {lid:016x} revoked\n", ""
    if sub == "keep-alive":
        r = call("/v3/lease/keepalive", {"ID": str(lid)})
        if "error" in r:
            return EXIT_BAD_CONNECTION, "", f"Error: {r['error']}\n"
        return 0, f"lease {lid:016x} keepalived with TTL({r['result']['TTL']})\n", ""
    r = call("/v3/lease/timetolive", {"ID": str(lid), "keys": "--keys" in flags})
    if int(r.get("TTL", -1)) == -1 and not int(r.get("grantedTTL", 0)):
        return 0, f"lease {lid:016x} already expired\n", ""
    out = f"lease {lid:016x} granted with TTL({r['grantedTTL']}s), remaining({r['TTL']}s)"
    if "--keys" in flags:
        out += ", attached keys([" + " ".join(unb64(k).decode() for k in r.get("keys") or []) + "])"
    return 0, out + "\n", ""


def _watch(words: list[str], flags: set[str], call: Callable[[str, dict[str, Any]], dict[str, Any]],
           loop: WatchLoop) -> tuple[int, str, str]:
    """`etcdctl watch` (ctlv3/command/watch_command.go; printer_simple.go Watch)."""
    dash = next((w for w in words if w.startswith("-")), None)
    if dash is not None:
        return 1, "", f"netplex: etcdctl watch {dash} is not supported\n"
    if not words or len(words) > 2:
        if len(words) > 2:
            return 1, "", "netplex: etcdctl watch with an exec-command is not supported\n"
        return EXIT_BAD_ARGS, "", "Error: bad number of arguments\n"
    rev_flag = next((f.split("=", 1)[1] for f in flags if f.startswith("--rev=")), "0")
    try:
        rev = int(rev_flag)
    except ValueError:
        return 1, "", (f'Error: invalid argument "{rev_flag}" for "--rev" flag: strconv.ParseInt: parsing '
                       f'"{rev_flag}": invalid syntax\n')
    if "--prefix" in flags and len(words) == 2:
        return EXIT_BAD_ARGS, "", "Error: `range_end` and `--prefix` are mutually exclusive\n"
    req: dict[str, Any] = {"key": b64(words[0])}
    if "--prefix" in flags:
        req["range_end"] = prefix_end(words[0])
    elif len(words) == 2:
        req["range_end"] = b64(words[1])
    prev = "--prev-kv" in flags
    if prev:
        req["prev_kv"] = True
    state = {"rev": rev}

    def poll() -> str:
        r = call("/v3/watch", {"create_request": {**req, "start_revision": str(state["rev"])}})
        res = r.get("result") or {}
        out = ""
        for ev in res.get("events") or []:
            out += ev.get("type", "PUT") + "\n"
            if prev and "prev_kv" in ev:
                out += _kv_text(ev["prev_kv"])
            out += _kv_text(ev.get("kv") or {})
        state["rev"] = int((res.get("header") or {}).get("revision", state["rev"])) + 1
        return out

    return loop(poll)


def _kv_text(kv: dict[str, Any]) -> str:
    return f"{unb64(kv.get('key')).decode()}\n{unb64(kv.get('value')).decode()}\n"


EXIT_INVALID_INPUT = 3
COMPARE = re.compile(r'(value|create|mod|version)\("((?:[^"\\]|\\.)*)"\) (=|!=|<|>) "((?:[^"\\]|\\.)*)"')
RESULTS = {"=": "EQUAL", "!=": "NOT_EQUAL", "<": "LESS", ">": "GREATER"}
TARGET_FIELD = {"create": "create_revision", "mod": "mod_revision", "version": "version"}


def _txn(stdin: str, call: Callable[[str, dict[str, Any]], dict[str, Any]]) -> tuple[int, str, str]:
    """`etcdctl txn` reading its three blank-line-ended sections from stdin (txn_command.go)."""
    lines = stdin.split("\n")
    sections: list[list[str]] = [[]]
    eof = False           # etcdctl reads line by line: a bad line is reported before a missing end
    for line in lines[:-1] if stdin.endswith("\n") else lines:
        if line.strip() == "":
            if len(sections) == 3:
                break
            sections.append([])
        else:
            sections[-1].append(line.strip())
    else:
        eof = True
    sections += [[] for _ in range(3 - len(sections))]
    compares: list[dict[str, Any]] = []
    for line in sections[0]:
        if line.startswith("lease("):
            return 1, "", "netplex: etcdctl txn lease() comparisons are not supported\n"
        m = COMPARE.fullmatch(line)
        if not m:
            return EXIT_INVALID_INPUT, "", f"Error: malformed comparison: {line}\n"
        target, key, op, val = m.groups()
        c: dict[str, Any] = {"key": b64(key), "target": target.upper(), "result": RESULTS[op]}
        if target == "value":
            c["value"] = b64(val)
        else:
            try:
                c[TARGET_FIELD[target]] = str(int(val))
            except ValueError:
                return 1, "", f"netplex: etcdctl txn {line}: not a number\n"
        compares.append(c)
    branches = []
    for section in sections[1:]:
        reqs = []
        for line in section:
            req = _txn_op(line)
            if req is None:
                return EXIT_INVALID_INPUT, "", f"Error: invalid txn request: {line}\n"
            reqs.append(req)
        branches.append(reqs)
    if eof:
        return EXIT_INVALID_INPUT, "", "Error: EOF\n"
    r = call("/v3/kv/txn", {"compare": compares, "success": branches[0], "failure": branches[1]})
    if "error" in r:
        return 1, "", f"Error: {r['error']}\n"
    out = "SUCCESS\n" if r.get("succeeded") else "FAILURE\n"
    for resp in r.get("responses") or []:
        out += "\n"
        if "response_put" in resp:
            out += "OK\n"
        elif "response_delete_range" in resp:
            out += f"{resp['response_delete_range'].get('deleted', '0')}\n"
        else:
            for kv in resp.get("response_range", {}).get("kvs") or []:
                out += f"{unb64(kv['key']).decode()}\n{unb64(kv.get('value')).decode()}\n"
    return 0, out, ""


def _txn_op(line: str) -> dict[str, Any] | None:
    """One operation line of a txn: put KEY VALUE, get KEY [--prefix], del KEY [--prefix]."""
    words = shlex.split(line)
    prefix = "--prefix" in words
    words = [w for w in words if w != "--prefix"]
    if len(words) == 3 and words[0] == "put" and not prefix:
        return {"request_put": {"key": b64(words[1]), "value": b64(words[2])}}
    if len(words) == 2 and words[0] in ("get", "del"):
        body: dict[str, Any] = {"key": b64(words[1])}
        if prefix:
            body["range_end"] = prefix_end(words[1])
        return {"request_range" if words[0] == "get" else "request_delete_range": body}
    return None
