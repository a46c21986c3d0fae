"""etcd's v3 keyspace and its JSON gateway, as netplex's etcd node serves them.

The store keeps etcd's v3 semantics (etcd-io/etcd server/mvcc, lease): one
revision counter for the whole keyspace, per key its create/mod revision and
version, leases with a TTL that delete their keys when they expire, and the
transactions flanneld uses (create the key if it does not exist:
compare CREATE revision = 0; a transaction's writes all take one revision, as
mvcc's txnWrite does), and the history of changes a watch replays (`--rev`;
never compacted here). Requests and answers are those of etcd's gRPC
gateway (`POST /v3/kv/range`, `/v3/kv/put`, `/v3/kv/deleterange`,
`/v3/kv/txn`, `/v3/lease/grant`, `/v3/lease/revoke`, `/v3/lease/leases`,
`/v3/lease/timetolive`, `/v3/lease/keepalive`, and `/v3/watch`, which here
answers at once with the events since `start_revision` (the real gateway streams
them; only the simulator's etcdctl asks it so):
JSON, keys and values base64, int64 as strings), so the same client talks to
this store in the simulator and to the real etcd-server on the kernel twin.
Time is the caller's (simulated seconds, or wall seconds). Standard library only.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EtcdStore", "Event", "HttpRequest", "b64", "handle_http", "prefix_end", "unb64"]


def b64(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def unb64(s: str | None) -> bytes:
    return base64.b64decode(s or "")


def prefix_end(key: str) -> str:
    """The range_end that makes `key` a prefix (etcdctl --prefix), base64."""
    b = bytearray(key.encode())
    b[-1] += 1
    return b64(bytes(b))


@dataclass
class Kv:
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0


@dataclass
class Event:
    """mvccpb.Event: a PUT or DELETE at a revision, with the key's state before it."""

    type: str
    key: bytes
    kv: Kv | None
    prev: Kv | None


@dataclass
class EtcdStore:
    """One member's keyspace: keys (bytes) to Kv, leases to (TTL, expiry, keys)."""

    cluster_id: int = 0x6A2C5F1E3B7D9C41
    member_id: int = 0x8E9E05C52164694D
    revision: int = 1
    kvs: dict[bytes, Kv] = field(default_factory=dict)
    leases: dict[int, tuple[int, float]] = field(default_factory=dict)   # id -> (TTL, expires at)
    next_lease: int = 0x694D77AA9E38260F
    history: list[Event] = field(default_factory=list)
    in_txn: bool = False          # the writes of one transaction share one revision
    txn_wrote: bool = False

    def header(self) -> dict[str, str]:
        return {"cluster_id": str(self.cluster_id), "member_id": str(self.member_id),
                "revision": str(self.revision), "raft_term": "2"}

    def _write_revision(self) -> int:
        """The revision a write takes: the next one, except the second and later writes of a txn."""
        if not (self.in_txn and self.txn_wrote):
            self.revision += 1
        self.txn_wrote = self.in_txn
        return self.revision

    def events_since(self, rev: int, key: bytes, end: bytes = b"") -> list[Event]:
        """The history's events at revision `rev` or later on the key (or range)."""
        out = []
        for ev in self.history:
            at = ev.kv.mod_revision if ev.kv is not None else 0
            if at >= rev and (ev.key == key if not end else key <= ev.key and (end == b"\x00" or ev.key < end)):
                out.append(ev)
        return out

    def expire(self, now: float) -> None:
        for lid, (_, at) in list(self.leases.items()):
            if at <= now:
                self.revoke(lid)

    def revoke(self, lid: int) -> bool:
        if self.leases.pop(lid, None) is None:
            return False
        dead = [k for k, kv in self.kvs.items() if kv.lease == lid]
        if dead:
            rev = self._write_revision()
            for k in sorted(dead):
                self._deleted(k, rev)
        return True

    def _deleted(self, k: bytes, rev: int) -> None:
        old = self.kvs.pop(k)
        self.history.append(Event("DELETE", k, Kv(b"", 0, rev, 0), old))

    def grant(self, ttl: int, now: float, lid: int = 0) -> int:
        if not lid:
            lid = self.next_lease
            self.next_lease += 1
        self.leases[lid] = (ttl, now + ttl)
        return lid

    def keepalive(self, lid: int, now: float) -> int:
        """Renew a lease for its whole TTL again (lessor.Renew); its TTL, or 0 when it is gone."""
        if lid not in self.leases:
            return 0
        ttl = self.leases[lid][0]
        self.leases[lid] = (ttl, now + ttl)
        return ttl

    def _range(self, key: bytes, end: bytes) -> list[bytes]:
        if not end:
            return [key] if key in self.kvs else []
        if end == b"\x00":
            return sorted(k for k in self.kvs if k >= key)
        return sorted(k for k in self.kvs if key <= k < end)

    def get(self, key: bytes, end: bytes = b"") -> list[tuple[bytes, Kv]]:
        return [(k, self.kvs[k]) for k in self._range(key, end)]

    def put(self, key: bytes, value: bytes, lease: int = 0) -> None:
        rev = self._write_revision()
        old = self.kvs.get(key)
        if old is None:
            kv = Kv(value, rev, rev, 1, lease)
        else:
            kv = Kv(value, old.create_revision, rev, old.version + 1, lease)
        self.kvs[key] = kv
        self.history.append(Event("PUT", key, kv, old))

    def delete(self, key: bytes, end: bytes = b"") -> int:
        keys = self._range(key, end)
        if keys:
            rev = self._write_revision()
            for k in keys:
                self._deleted(k, rev)
        return len(keys)


def _kv_json(k: bytes, kv: Kv) -> dict[str, str]:
    out = {"key": b64(k), "create_revision": str(kv.create_revision), "mod_revision": str(kv.mod_revision),
           "version": str(kv.version), "value": b64(kv.value)}
    if kv.lease:
        out["lease"] = str(kv.lease)
    return out


def _event_json(ev: Event, prev_kv: bool) -> dict[str, Any]:
    """An event as the gateway writes it: `type` omitted for PUT (proto3's zero value)."""
    kv = ev.kv or Kv(b"", 0, 0, 0)
    out: dict[str, Any] = {"kv": _kv_json(ev.key, kv) if ev.type == "PUT" else
                           {"key": b64(ev.key), "mod_revision": str(kv.mod_revision)}}
    if ev.type == "DELETE":
        out["type"] = "DELETE"
    if prev_kv and ev.prev is not None:
        out["prev_kv"] = _kv_json(ev.key, ev.prev)
    return out


def _compare(store: EtcdStore, c: dict[str, Any]) -> bool:
    kv = store.kvs.get(unb64(c.get("key")))
    target = c.get("target", "VERSION")
    have: int | bytes
    if target == "VALUE":
        have, want = (kv.value if kv else b""), unb64(c.get("value"))
    else:
        have = {"CREATE": kv.create_revision if kv else 0, "MOD": kv.mod_revision if kv else 0,
                "VERSION": kv.version if kv else 0}[target]
        want = int(c.get({"CREATE": "create_revision", "MOD": "mod_revision"}.get(target, "version"), 0))
    if target == "VALUE" and kv is None:
        return False                      # etcd: a value comparison on a missing key is false
    res = c.get("result", "EQUAL")
    return {"EQUAL": have == want, "NOT_EQUAL": have != want, "GREATER": have > want,  # type: ignore[operator]
            "LESS": have < want}[res]  # type: ignore[operator]


def _check_duplicates(reqs: list[dict[str, Any]]) -> None:
    """etcd refuses a branch that writes one key twice (v3rpc checkIntervals)."""
    puts: set[bytes] = set()
    dels: list[tuple[bytes, bytes]] = []
    for req in reqs:
        if "request_put" in req:
            k = unb64(req["request_put"].get("key"))
            if k in puts:
                raise ValueError("etcdserver: duplicate key given in txn request")
            puts.add(k)
        elif "request_delete_range" in req:
            d = req["request_delete_range"]
            dels.append((unb64(d.get("key")), unb64(d.get("range_end"))))
    for k in puts:
        for lo, hi in dels:
            if k == lo or (hi and (hi == b"\x00" or lo <= k < hi) and k >= lo):
                raise ValueError("etcdserver: duplicate key given in txn request")


def _op(store: EtcdStore, path: str, body: dict[str, Any], now: float) -> dict[str, Any]:
    if path == "/v3/kv/range":
        hits = store.get(unb64(body.get("key")), unb64(body.get("range_end")))
        out: dict[str, Any] = {"header": store.header()}
        if hits:
            out["kvs"] = [_kv_json(k, kv) for k, kv in hits]
            out["count"] = str(len(hits))
        return out
    if path == "/v3/kv/put":
        lease = int(body.get("lease", 0) or 0)
        if lease and lease not in store.leases:
            raise KeyError("etcdserver: requested lease not found")
        store.put(unb64(body.get("key")), unb64(body.get("value")), lease)
        return {"header": store.header()}
    if path == "/v3/kv/deleterange":
        n = store.delete(unb64(body.get("key")), unb64(body.get("range_end")))
        out = {"header": store.header()}
        if n:
            out["deleted"] = str(n)
        return out
    if path == "/v3/kv/txn":
        ok = all(_compare(store, c) for c in body.get("compare", []))
        _check_duplicates(body.get("success", []))
        _check_duplicates(body.get("failure", []))
        branch = body.get("success" if ok else "failure", [])
        responses = []
        store.in_txn, store.txn_wrote = True, False
        try:
            for req in branch:
                for kind, sub in req.items():
                    name = {"request_range": "range", "request_put": "put",
                            "request_delete_range": "deleterange"}[kind]
                    r = _op(store, "/v3/kv/" + name, sub, now)
                    r.pop("header", None)
                    responses.append({kind.replace("request_", "response_"): r})
        finally:
            store.in_txn = store.txn_wrote = False
        out = {"header": store.header(), "responses": responses}
        if ok:
            out["succeeded"] = True
        return out
    if path == "/v3/watch":
        req = body.get("create_request") or {}
        start = int(req.get("start_revision", 0) or 0) or store.revision + 1
        evs = store.events_since(start, unb64(req.get("key")), unb64(req.get("range_end")))
        return {"result": {"header": store.header(), "events": [_event_json(e, bool(req.get("prev_kv")))
                                                                for e in evs]}}
    if path == "/v3/lease/grant":
        ttl = int(body.get("TTL", 0))
        lid = store.grant(ttl, now, int(body.get("ID", 0) or 0))
        return {"header": store.header(), "ID": str(lid), "TTL": str(ttl)}
    if path == "/v3/lease/revoke":
        if not store.revoke(int(body.get("ID", 0))):
            raise KeyError("etcdserver: requested lease not found")
        return {"header": store.header()}
    if path == "/v3/lease/timetolive":
        lid = int(body.get("ID", 0))
        if lid not in store.leases:          # etcd answers an unknown lease with TTL -1, not an error
            return {"header": store.header(), "ID": str(lid), "TTL": "-1"}
        ttl, at = store.leases[lid]
        out = {"header": store.header(), "ID": str(lid), "TTL": str(max(int(at - now), 0)),
               "grantedTTL": str(ttl)}
        if body.get("keys"):
            out["keys"] = [b64(k) for k, kv in sorted(store.kvs.items()) if kv.lease == lid]
        return out
    if path == "/v3/lease/keepalive":       # the gateway's stream, one message per request
        lid = int(body.get("ID", 0))
        if not store.keepalive(lid, now):
            raise KeyError("etcdserver: requested lease not found")
        return {"result": {"header": store.header(), "ID": str(lid), "TTL": str(store.leases[lid][0])}}
    if path == "/v3/lease/leases":
        return {"header": store.header(), "leases": [{"ID": str(lid)} for lid in sorted(store.leases)]}
    raise LookupError(path)


@dataclass
class HttpRequest:
    method: str
    path: str
    body: bytes


def parse_request(buf: bytes) -> tuple[HttpRequest | None, bytes]:
    """One HTTP/1.1 request from the front of `buf` (None while incomplete), and what follows it."""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        return None, buf
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ") + ["", "", ""])[:3]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip() or 0)
    if len(rest) < length:
        return None, buf
    return HttpRequest(method, path, rest[:length]), rest[length:]


def handle_http(store: EtcdStore, req: HttpRequest, now: float) -> bytes:
    """The gateway's answer to one request, as an HTTP/1.1 response."""
    store.expire(now)
    status, reason = 200, "OK"
    try:
        body = json.loads(req.body or b"{}")
        if req.method != "POST":
            raise LookupError(req.path)
        out = _op(store, req.path.replace("/v3beta/", "/v3/"), body, now)
    except KeyError as e:         # before LookupError, its base class
        status, reason, out = 404, "Not Found", {"error": str(e.args[0]), "message": str(e.args[0]), "code": 5}
    except LookupError:
        status, reason, out = 404, "Not Found", {"error": "Not Found", "code": 5}
    except (ValueError, TypeError) as e:
        status, reason, out = 400, "Bad Request", {"error": str(e), "code": 3}
    data = json.dumps(out).encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n").encode() + data
