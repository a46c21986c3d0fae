"""`python -m netplex.mobile.twin_daemon CONFIG`: one EPC daemon in a real network namespace (the kernel twin).

`python -m netplex.mobile.twin_daemon cli mme show ue` (what netplex/twin/bin/mme runs) asks
the node's daemon for a show command's output: it writes the request to
/tmp/netplex-mobile-show.req, sends SIGUSR2 and prints /tmp/netplex-mobile-show.out.

CONFIG is the JSON `netplex.mobile.twin.plan` writes for the node: its role
(ue, enodeb, mme, hss, sgw, pgw, pcrf), its address, its peers' addresses and
its keys. The daemon is the simulator's own class (`ran`, `mme`, `gateways`,
`diameter_servers`) over `realnet`'s real sockets. It writes its pid to
/tmp/netplex-mobile.pid (the node's private /tmp) once its sockets are bound.
The UE's modem attaches on SIGUSR1 and writes the outcome as JSON to
/tmp/netplex-mobile-attach.json; after a successful attach it gives the radio
the UE's address and default route, as the simulator's UE node does.
SIGTERM ends it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from netplex.apps.process import Process, Program, ProgramExit
from netplex.mobile.commands import answer, no_daemon, request
from netplex.mobile.diameter_servers import Hss, HssSubscriber, Pcrf
from netplex.mobile.gateways import UPF_DEV, Pgw, Sgw
from netplex.mobile.mme import Mme
from netplex.mobile.nodes import ATTACH_TIMEOUT_NS
from netplex.mobile.ran import Enodeb, UeModem
from netplex.mobile.realnet import RealNamespace, RealTun
from netplex.packet.addr import ip_to_int
from netplex.shell.result import Result

PID_FILE = Path("/tmp/netplex-mobile.pid")
ATTACH_FILE = Path("/tmp/netplex-mobile-attach.json")
SHOW_REQ = Path("/tmp/netplex-mobile-show.req")
SHOW_OUT = Path("/tmp/netplex-mobile-show.out")


def _names(c: dict[str, Any]) -> dict[int, str]:
    return {ip_to_int(a): n for a, n in c["names"].items()}


def _cell_changed(old: int, new: int, ip: str | None) -> None:
    """After a handover the address and the default route move to the new radio (UeNode._cell_changed's
    lines, run in this namespace)."""
    olddev, newdev = socket.if_indextoname(old), socket.if_indextoname(new)
    subprocess.run(["ip", "addr", "flush", "dev", olddev], check=False)
    if ip is not None:
        subprocess.run(["ip", "addr", "replace", f"{ip}/32", "dev", newdev], check=False)
        subprocess.run(["ip", "route", "replace", "default", "dev", newdev], check=False)


def make(c: dict[str, Any], ns: RealNamespace) -> Program:
    role = c["role"]
    if role == "ue":
        cells = {socket.if_nametoindex(dev): enb for dev, enb in c.get("cells", {c["radio"]: c["enb"]}).items()}
        return UeModem(c["node"], c["imsi"], bytes.fromhex(c["key"]), bytes.fromhex(c["opc"]), c["apn"],
                       socket.if_nametoindex(c["radio"]), c["enb"], cells, _cell_changed)
    addr, names = ip_to_int(c["addr"]), _names(c)
    if role == "enodeb":
        radios = {socket.if_nametoindex(dev): ue for dev, ue in c["radios"].items()}
        x2 = {ip_to_int(a): n for a, n in c.get("x2", {}).items()}
        return Enodeb(c["node"], addr, names, ip_to_int(c["mme"]), c["plmn"], radios, c.get("inactivity", 0),
                      c.get("tac", 1), x2)
    if role == "mme":
        return Mme(c["node"], addr, names, ip_to_int(c["hss"]), ip_to_int(c["sgw"]), c["plmn"], c.get("t3412", 3240))
    if role == "hss":
        subs = [HssSubscriber(s["imsi"], bytes.fromhex(s["key"]), bytes.fromhex(s["opc"]), s["apn"], s["ambr_ul_kbps"],
                              s["ambr_dl_kbps"], ip_to_int(s["pgw"]), s["roaming"], s["sqn"]) for s in c["subscribers"]]
        return Hss(c["node"], addr, names, subs)
    if role == "sgw":
        return Sgw(c["node"], addr, names)
    if role == "pgw":
        return Pgw(c["node"], addr, names, c["pool"], None if c["pcrf"] is None else ip_to_int(c["pcrf"]),
                   lambda: RealTun(ns, UPF_DEV))
    if role == "pcrf":
        return Pcrf(c["node"], addr, names, [(r[0], r[1]) for r in c["rules"]])
    raise SystemExit(f"twin_daemon: unknown role {role!r}")


def cli(argv: list[str]) -> int:
    """A show command on the twin: the same parsing and output as in the simulator."""
    req = request(argv)
    if isinstance(req, Result):
        sys.stderr.write(req.error)
        return req.status
    try:
        pid, role = PID_FILE.read_text().split()
    except (OSError, ValueError):
        pid, role = "", ""
    if role != argv[0]:
        r = no_daemon(argv[0])
        sys.stderr.write(r.error)
        return r.status
    SHOW_OUT.unlink(missing_ok=True)
    SHOW_REQ.write_text(json.dumps(argv))
    os.kill(int(pid), signal.SIGUSR2)
    for _ in range(100):
        if SHOW_OUT.exists():
            out = json.loads(SHOW_OUT.read_text())
            sys.stdout.write(out["output"])
            sys.stderr.write(out["error"])
            return int(out["status"])
        time.sleep(0.05)
    sys.stderr.write(f"{argv[0]}: the daemon did not answer\n")
    return 1


def main(argv: list[str]) -> int:
    if argv[1:2] == ["cli"]:
        return cli(argv[2:])
    c = json.loads(argv[1])
    ns = RealNamespace(c["node"], int(c["seed"]))
    program = make(c, ns)
    proc = Process(os.getpid(), ["netplex-" + c["role"]], netns=ns, program=program)   # type: ignore[arg-type]
    program.proc = proc
    try:
        program.start()
    except ProgramExit as e:
        sys.stderr.write(e.message)
        return e.status
    stopping: list[int] = []
    pending: list[int] = []
    shows: list[int] = []
    signal.signal(signal.SIGTERM, lambda s, f: stopping.append(s))
    signal.signal(signal.SIGUSR1, lambda s, f: pending.append(s))
    signal.signal(signal.SIGUSR2, lambda s, f: shows.append(s))
    PID_FILE.write_text(f"{os.getpid()} {c['role']}\n")
    started: list[int] = []

    def tick() -> bool:
        if shows:
            shows.clear()
            r = answer(json.loads(SHOW_REQ.read_text()), program)
            SHOW_OUT.write_text(json.dumps({"status": r.status, "output": r.output, "error": r.error}))
        if isinstance(program, UeModem):
            if pending:
                pending.clear()
                ATTACH_FILE.unlink(missing_ok=True)
                program.attach()
                started.append(ns.sched.now)
            if started:
                _ue_outcome(program, c, ns.sched.now - started[0], started)
        return bool(stopping)

    ns.loop(tick)
    return 0


def _ue_outcome(modem: UeModem, c: dict[str, Any], waited: int, started: list[int]) -> None:
    if modem.state == "EMM-REGISTERED-INITIATED" and waited < ATTACH_TIMEOUT_NS:
        return
    started.clear()
    out: dict[str, Any] = {"imsi": modem.imsi}
    if modem.state == "EMM-REGISTERED" and modem.ip:
        subprocess.run(["ip", "addr", "flush", "dev", c["radio"]], check=True)   # a detach left the old PDN's
        subprocess.run(["ip", "addr", "add", f"{modem.ip}/32", "dev", c["radio"]], check=True)
        subprocess.run(["ip", "route", "replace", "default", "dev", c["radio"]], check=True)
        out.update(ok=True, ip=modem.ip)
    elif modem.state == "EMM-REGISTERED-INITIATED":
        modem.state = "EMM-DEREGISTERED"
        out.update(ok=False, error="timed out: no answer to the Attach Request within 15 s (T3410)")
    else:
        out.update(ok=False, error=modem.error)
    ATTACH_FILE.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
