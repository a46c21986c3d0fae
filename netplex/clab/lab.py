"""A containerlab lab's life on netplex: `netplex clab deploy|inspect|destroy|exec`.

containerlab (cmd/deploy.go, inspect.go, destroy.go, exec.go at commit 39ff2b7) keeps a
deployed lab as containers that outlive the command; netplex keeps it as one **keeper**
process per lab, started by `deploy` in a session of its own, which builds the lab on the
chosen backend (the simulator, or real namespaces on the kernel twin), runs its `exec`
lines, and then holds it, answering on a Unix socket in the lab's folder
(`/run/netplex/clab/NAME/`, or `/tmp/netplex-clab-UID/NAME/` when /run is not writable;
`$NETPLEX_CLAB_DIR/NAME/` when that is set):
`inspect` reads the folder's `lab.json`, `exec` runs a command on a node through the
socket, `destroy` asks the keeper to close its backend (which removes the twin's
namespaces and daemons) and waits for it to end.

Output as containerlab prints it: the `inspect` table in go-pretty's rounded style with
the columns Name, Kind/Image, State, IPv4/6 Address (containers are `clab-LAB-NODE`, only
kind linux nodes are containers; a node has no management address here: `N/A`), `--format
json|csv` as containerlab groups and names the fields, log lines as charmbracelet/log
writes them on stderr (`15:04:05 INFO Destroying lab name=frr01`), errors as `Error: ...`
with exit status 1 (containerlab's messages: "the 'frr01' lab has already been deployed.
Destroy the lab before deploying a lab with the same name"). A lab that is not deployed
destroys silently with status 0, and `inspect` says `no containers found` (status 0).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from netplex.clab.topology import ClabLab
from netplex.errors import NetplexError
from netplex.scenario.backend import Backend
from netplex.scenario.runner import prepare
from netplex.twin.state import pid_start_time, process_alive

__all__ = ["ClabError", "LabRecord", "deployed_labs", "destroy_lab", "exec_on_lab", "find_lab", "inspect_csv",
           "inspect_json", "inspect_table", "keep_lab", "lab_dir", "log_line", "new_record"]

LAB_ROOTS = ("/run/netplex/clab", f"/tmp/netplex-clab-{os.getuid()}")
NOT_APPLICABLE = "N/A"          # containerlab's constants.NotApplicable
CONTAINER_KINDS = ("linux",)     # the kinds that are containers (a bridge is a host device)
_MAX_MSG = 16 << 20
_QUOTE = ' ="'     # a log value holding one of these is quoted (charmbracelet/log's needsQuoting)


class ClabError(NetplexError):
    """What containerlab prints after `Error: ` (exit status 1)."""


@dataclass
class LabRecord:
    """`lab.json`: a deployed lab as `inspect` shows it."""

    name: str
    topology: str                  # absolute path of the topology file
    backend: str
    pid: int
    pid_start: int | None
    nodes: list[dict[str, str]] = field(default_factory=list)   # name, node, kind, image, group
    folder: str = ""

    @property
    def socket_path(self) -> str:
        return os.path.join(self.folder, "sock")


def _alive(rec: LabRecord) -> bool:
    return process_alive(rec.pid, rec.pid_start)


def _roots() -> tuple[str, ...]:
    """$NETPLEX_CLAB_DIR, when set, is the one folder of deployed labs (tests keep theirs apart)."""
    own = os.environ.get("NETPLEX_CLAB_DIR")
    return (own,) if own else LAB_ROOTS


def _root() -> str:
    for d in _roots():
        try:
            os.makedirs(d, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if os.access(d, os.W_OK):
            return d
    raise ClabError(f"no writable folder for the lab's state ({', '.join(_roots())})")


def lab_dir(name: str) -> str:
    return os.path.join(_root(), name)


def log_line(level: str, message: str, **kv: str) -> str:
    """One charmbracelet/log line (time format 15:04:05, as containerlab sets it)."""
    parts = [time.strftime("%H:%M:%S"), level, message]
    multi: list[str] = []
    for k, v in kv.items():
        if "\n" in v.rstrip("\n"):
            multi.append(f"  {k}=\n" + "".join(f"  │ {x}\n" for x in v.rstrip("\n").split("\n")))
        else:
            v = v.rstrip("\n")
            quoted = not v or any(c in v for c in _QUOTE)
            parts.append(f"{k}={json.dumps(v) if quoted else v}")
    return " ".join(parts) + "\n" + "".join(multi)


def _read_record(folder: str) -> LabRecord | None:
    try:
        with open(os.path.join(folder, "lab.json"), encoding="utf-8") as f:
            data = json.load(f)
        rec = LabRecord(**data)
    except (OSError, ValueError, TypeError):
        return None
    rec.folder = folder
    return rec


def _remove_folder(folder: str) -> None:
    for entry in ("sock", "lab.json", "keeper.log"):
        try:
            os.unlink(os.path.join(folder, entry))
        except OSError:
            pass
    try:
        os.rmdir(folder)
    except OSError:
        pass


def _folders() -> Iterator[str]:
    for root in _roots():
        try:
            names = sorted(os.listdir(root))
        except OSError:
            continue
        for n in names:
            yield os.path.join(root, n)


def deployed_labs() -> list[LabRecord]:
    """The labs whose keeper is alive; a dead keeper's folder is removed (its lab is gone)."""
    out: list[LabRecord] = []
    for folder in _folders():
        rec = _read_record(folder)
        if rec is None:
            continue
        if _alive(rec):
            out.append(rec)
        else:
            _remove_folder(folder)
    return out


def find_lab(name: str) -> LabRecord | None:
    return next((r for r in deployed_labs() if r.name == name), None)


def spawn_keeper(argv: list[str], env: dict[str, str], log_path: str) -> dict[str, Any]:
    """Start the keeper detached (fork, setsid, fork again: init is its parent, so it outlives the
    deploying process and is never its zombie) and return its one report line."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:    # pragma: no cover - the child execs at once
        try:
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            os.close(r)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(w, 1)
            os.dup2(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), 2)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        first = f.readline()
    if not first:
        return {"ok": False, "error": "the lab's keeper ended before it reported (see " + log_path + ")"}
    try:
        report = json.loads(first)
    except ValueError:
        return {"ok": False, "error": first.decode(errors="replace").strip()}
    return report if isinstance(report, dict) else {"ok": False, "error": "a bad report from the keeper"}


def new_record(lab: ClabLab, backend: str, folder: str) -> LabRecord:
    nodes = [{"name": f"clab-{lab.name}-{n.name}", "node": n.netplex, "kind": n.kind, "image": n.image}
             for n in lab.nodes.values() if n.kind in CONTAINER_KINDS]
    return LabRecord(lab.name, str(Path(lab.file).resolve()), backend, os.getpid(), pid_start_time(os.getpid()),
                     nodes, folder)


# --- the keeper ------------------------------------------------------------------------------


def keep_lab(lab: ClabLab, backend_name: str, make_backend: Callable[[], Backend], report: Callable[[dict[str, Any]], None]) -> int:
    """The keeper's body: build the lab, report {ok, error?} once, then serve until destroyed.

    Requests on the socket are one JSON object per connection: {"op": "exec", "node", "cmd"}
    answered {"status", "output", "error"}; {"op": "destroy"} closes the backend and ends.
    """
    folder = lab_dir(lab.name)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        be = make_backend()
    except Exception as e:   # noqa: BLE001 - reported to deploy, which prints it
        report({"ok": False, "error": str(e)})
        return 1
    stop = False

    def on_term(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        failure = prepare(lab.scenario, be)
    except Exception as e:   # noqa: BLE001
        be.close()
        report({"ok": False, "error": str(e)})
        return 1
    if failure is not None:
        be.close()
        report({"ok": False, "failure": failure})
        return 1
    rec = new_record(lab, backend_name, folder)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(rec.socket_path)
    except OSError:
        pass
    srv.bind(rec.socket_path)
    srv.listen(8)
    srv.settimeout(0.5)
    tmp = os.path.join(folder, "lab.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in asdict(rec).items() if k != "folder"}, f)
    os.replace(tmp, os.path.join(folder, "lab.json"))
    report({"ok": True})
    try:
        while not stop:
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            except OSError:
                if stop:
                    break
                continue
            with conn:
                req = _recv(conn)
                if req.get("op") == "destroy":
                    stop = True
                    be.close()
                    _remove_folder(folder)
                    _send(conn, {"ok": True})
                    return 0
                if req.get("op") == "exec":
                    node = str(req.get("node", ""))
                    try:
                        r = be.run(node, str(req.get("cmd", "")))
                        _send(conn, {"status": r.status, "output": r.output, "error": r.error})
                    except Exception as e:   # noqa: BLE001 - a node the lab lacks, a backend error
                        _send(conn, {"status": 1, "output": "", "error": str(e)})
                else:
                    _send(conn, {"error": "unknown request"})
    finally:
        srv.close()
    be.close()
    _remove_folder(folder)
    return 0


def _send(conn: socket.socket, obj: dict[str, Any]) -> None:
    data = json.dumps(obj).encode()
    conn.sendall(len(data).to_bytes(4, "big") + data)


def _recv(conn: socket.socket) -> dict[str, Any]:
    head = _recv_exact(conn, 4)
    n = int.from_bytes(head, "big")
    if n > _MAX_MSG:
        return {}
    try:
        obj = json.loads(_recv_exact(conn, n))
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def _ask(rec: LabRecord, req: dict[str, Any], timeout: float) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(rec.socket_path)
            _send(s, req)
            return _recv(s)
        except OSError as e:
            raise ClabError(f"lab {rec.name}: its netplex keeper (pid {rec.pid}) does not answer: {e}") from None


def exec_on_lab(rec: LabRecord, node: str, cmd: str, timeout: float = 300.0) -> dict[str, Any]:
    return _ask(rec, {"op": "exec", "node": node, "cmd": cmd}, timeout)


def destroy_lab(rec: LabRecord, timeout: float = 60.0) -> None:
    """Ask the keeper to close the lab and wait for it to end (SIGTERM if it does not answer)."""
    try:
        _ask(rec, {"op": "destroy"}, timeout)
    except ClabError:
        if _alive(rec):
            os.kill(rec.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(rec) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(rec):
        raise ClabError(f"lab {rec.name}: its netplex keeper (pid {rec.pid}) did not end")
    _remove_folder(rec.folder)


# --- inspect's output ---------------------------------------------------------------------


def _details(recs: list[LabRecord], cwd: str) -> list[dict[str, str]]:
    rows = []
    for rec in recs:
        rel = os.path.relpath(rec.topology, cwd)
        for n in rec.nodes:
            rows.append({"lab_name": rec.name, "labPath": rel if len(rel) < len(rec.topology) else rec.topology,
                         "absLabPath": rec.topology, "name": n["name"], "container_id": "", "image": n["image"],
                         "kind": n["kind"], "state": "running", "status": "", "ipv4_address": NOT_APPLICABLE,
                         "ipv6_address": NOT_APPLICABLE, "owner": ""})
    rows.sort(key=lambda d: (d["lab_name"], d["name"]))
    return rows


def inspect_json(recs: list[LabRecord], cwd: str) -> str:
    """containerlab's printContainerInspectJSON: details grouped by lab, empty fields left out."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for d in _details(recs, cwd):
        grouped.setdefault(d["lab_name"], []).append({k: v for k, v in d.items() if v})
    return json.dumps(grouped, indent=2) + "\n"


def inspect_csv(recs: list[LabRecord], cwd: str) -> str:
    keys = ("lab_name", "labPath", "absLabPath", "name", "container_id", "image", "kind", "state", "status",
            "ipv4_address", "ipv6_address", "owner")
    return ",".join(keys) + "\n" + "".join(",".join(d[k] for k in keys) + "\n" for d in _details(recs, cwd))


def inspect_table(recs: list[LabRecord], cwd: str, all_labs: bool = False, wide: bool = False) -> str:
    """go-pretty's StyleRounded table with SeparateRows, as printContainerInspectTable renders it."""
    header = ["Name", "Kind/Image", "State", "IPv4/6 Address"]
    if wide:
        header.insert(0, "Owner")
    if all_labs:
        header = ["Topology", "Lab Name", *header]
    rows: list[list[str]] = []
    for d in _details(recs, cwd):
        row = [d["labPath"], d["lab_name"]] if all_labs else []
        if wide:
            row.append(d["owner"])
            row += [d["name"], f"{d['kind']} {d['image']}", f"{d['state']} ", f"{NOT_APPLICABLE} {NOT_APPLICABLE}"]
        else:
            row += [d["name"], f"{d['kind']}\n{d['image']}", f"{d['state']}\n", f"{NOT_APPLICABLE}\n{NOT_APPLICABLE}"]
        rows.append(row)
    merged = 2 if all_labs and not wide else (1 if not wide else 0)
    return _render(header, rows, merged)


def _render(header: list[str], rows: list[list[str]], auto_merge: int) -> str:
    """Render rows; the first `auto_merge` columns merge equal neighbours (go-pretty's AutoMerge)."""
    cells = [[c.split("\n") for c in r] for r in rows]
    widths = [len(h) for h in header]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], *(len(x) for x in c))

    def line(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right + "\n"

    def center(text: str, w: int) -> str:
        pad = w - len(text)
        return " " * (pad // 2) + text + " " * (pad - pad // 2)

    out = line("╭", "┬", "╮")
    out += "│" + "│".join(f" {center(h, w)} " for h, w in zip(header, widths)) + "│\n"
    out += line("├", "┼", "┤")
    for ri, r in enumerate(cells):
        height = max(len(c) for c in r)
        for k in range(height):
            parts = []
            for i, c in enumerate(r):
                merged_up = i < auto_merge and ri > 0 and rows[ri - 1][:i + 1] == rows[ri][:i + 1]
                text = c[k] if k < len(c) and not merged_up else ""
                parts.append(f" {text.ljust(widths[i])} ")
            out += "│" + "│".join(parts) + "│\n"
        if ri + 1 < len(cells):
            out += line("├", "┼", "┤")
    out += line("╰", "┴", "╯")
    return out
