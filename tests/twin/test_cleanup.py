"""Ownership and cleanup: a killed run's namespaces are found and removed; nothing else is."""
from __future__ import annotations

import glob
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from netplex.scenario.model import Node
from netplex.twin import cleanup, mountns, netns, state
from netplex.twin.backend import LinuxBackend

pytestmark = pytest.mark.linux

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = """
import json, sys, time
from netplex.scenario.model import Link, Node
from netplex.twin.backend import LinuxBackend
be = LinuxBackend()
be.build({n: Node() for n in ("h1", "h2", "vm", "h3")}, [
    Link.model_validate({"ends": ["h1:eth0", "h2:eth0"], "kind": "veth"}),
    Link.model_validate({"ends": ["h1:tap0", "vm:eth0"], "kind": "tap"}),
    Link.model_validate({"ends": ["h1:eth1", "h3:eth0"], "kind": "veth", "rate": 1000000}),
])
be.run("h2", "ip link set eth0 up")
be.start_services("h2", [("tcp", 80)])
print(json.dumps({"namespaces": be.namespaces, "state": be.state_path}), flush=True)
time.sleep(60)
"""


def start_child() -> tuple[subprocess.Popen[str], dict[str, object]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the child run did not start"
    return proc, json.loads(line)


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode(errors="replace")


def _running(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its parent."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return b") Z" not in f.read(64)
    except OSError:
        return False


def test_clean_removes_a_killed_run() -> None:
    proc, info = start_child()
    names = info["namespaces"]
    assert isinstance(names, list) and len(names) == 5  # four nodes and the rated link's wire
    assert any(n.endswith("-w2") for n in names)
    with open(str(info["state"])) as f:
        pids = json.load(f)["pids"]
    shells = [p for p in pids if "netplex/twin/session.py" in _cmdline(p)]
    assert len(shells) == 1  # h2's shell session, listed in the state file
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()  # type: ignore[union-attr]
    assert all(netns.exists(n) for n in names)  # left behind, with their processes
    removed = cleanup.clean()
    assert sorted(f"netns {n}" for n in names) == sorted(r for r in removed if r.startswith("netns "))
    assert f"state {info['state']}" in removed
    assert not os.path.exists(str(info["state"]))
    assert not any(_running(p) for p in shells)
    if not any(glob.glob(os.path.join(d, "npx-*.json")) for d in state.state_dirs()):
        # no other run is alive: the private bind mount that kept the nodes' namespaces goes too
        with open("/proc/self/mountinfo") as f:
            assert mountns.MNT_DIR not in (line.split()[4] for line in f)
        assert not os.path.exists(mountns.MNT_DIR)
    assert cleanup.clean() == []


def test_sigterm_tears_down() -> None:
    proc, info = start_child()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == -signal.SIGTERM
    proc.stdout.close()  # type: ignore[union-attr]
    assert not any(netns.exists(n) for n in info["namespaces"])  # type: ignore[union-attr]
    assert not os.path.exists(str(info["state"]))


def test_clean_leaves_foreign_and_live_namespaces_alone(netns_list: Callable[[], list[str]]) -> None:
    # Other sessions may run the twin on this host at the same time: look at our own names only.
    other = f"other-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", other], check=True)
    try:
        with LinuxBackend() as live:
            live.build({"h1": Node()}, [])
            removed = cleanup.clean()
            assert not [r for r in removed if other in r or live.prefix in r]
            assert netns.exists(other) and netns.exists(live.namespace("h1"))
            ours = live.namespace("h1")
        assert other in netns_list() and ours not in netns_list()
    finally:
        subprocess.run(["ip", "netns", "delete", other], check=True)
    assert other not in netns_list()


def test_a_run_ending_never_takes_the_mount_point_from_one_starting() -> None:
    """release() (a run's end, `netplex clean`) and create() (a run's start) hold the same lock:
    however they interleave, every node created keeps its mount namespace, and the private
    mount point goes only once it holds none."""
    names = [f"npx-lock{secrets.token_hex(3)}-n{i}" for i in range(12)]
    stop = threading.Event()
    released = []

    def ender() -> None:
        while not stop.is_set():
            released.append(mountns.release())

    t = threading.Thread(target=ender)
    t.start()
    try:
        for name in names:
            netns.create([name])
            try:
                mountns.create([name])
                assert mountns.exists(name), name
            finally:
                cleanup.teardown([name])
    finally:
        stop.set()
        t.join()
    live = any(glob.glob(os.path.join(d, "npx-*.json")) for d in state.state_dirs())
    if not live and not os.path.isdir(mountns.MNT_DIR):
        assert any(released)


def test_clean_never_kills_a_process_that_reused_a_dead_runs_pid() -> None:
    """pids are few (pid_max is often 32768): by the time a dead run is cleaned, a pid its
    state file lists may belong to another run's program. Only a pid whose start time is the
    one recorded is the dead run's."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "netplex/twin/other-run"])
    gone = subprocess.Popen(["true"])
    gone.wait()
    run = state.RunState(state.new_prefix(), pid=gone.pid)
    run.pid_start = 1   # an owner that is dead
    run.pids = [other.pid]
    run.pid_starts = {other.pid: (state.pid_start_time(other.pid) or 0) - 1}   # the pid's earlier owner
    run.save()
    try:
        assert f"state {run.path}" in cleanup.clean()
        assert other.poll() is None, "a live process that reused a dead run's pid was killed"
        start = state.pid_start_time(other.pid)
        run.pid_starts = {other.pid: start}   # now it is the run's own
        run.save()
        cleanup.clean()   # which also reaps it, as its parent would
        assert not state.process_alive(other.pid, start)
    finally:
        other.kill()
        other.wait()
        run.remove()
