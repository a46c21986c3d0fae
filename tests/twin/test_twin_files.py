"""Each twin node has its own /etc, /run, /var/lib and /tmp (its own mount namespace) and
its own hostname (its own UTS namespace):
a scenario's writes never reach the host, `ip netns add` inside a node makes its
namespaces in the node's own /run/netns, and teardown leaves nothing behind."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare, run_scenario
from netplex.twin import TwinError, cleanup, mountns
from netplex.twin.backend import LinuxBackend

pytestmark = pytest.mark.linux

WATCHED = ("/proc/sys/kernel/hostname", "/etc/hosts", "/etc/passwd", "/run/x", "/etc/netplex-test", "/tmp/netplex-test", "/var/lib/netplex-test")


def digest() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in WATCHED:
        try:
            out[p] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
        except FileNotFoundError:
            out[p] = None
    return out


SCENARIO = """\
nodes:
  h1:
    files:
      /etc/hosts: "10.7.7.7 placed.example\\n"
      /etc/app/app.conf: "key = value\\n"
    setup: |
      echo '10.9.9.9 evil.example' >> /etc/hosts
      echo 'mallory:x:0:0::/root:/bin/sh' >> /etc/passwd
      echo node-run > /run/x
      echo node-etc > /etc/netplex-test
      echo node-tmp > /tmp/netplex-test
      echo node-lib > /var/lib/netplex-test
      ip netns add inner
      ip netns exec inner ip link set lo up
  h2:
    setup: |
      ip netns add inner
      echo renamed-by-h2 > /proc/sys/kernel/hostname
probes:
  - cmd: {node: h1, run: "cat /proc/sys/kernel/hostname"}
    expect_output: "h1"
  - cmd: {node: h2, run: "cat /proc/sys/kernel/hostname"}
    expect_output: "renamed-by-h2"
  - cmd: {node: h1, run: "grep -c evil.example /etc/hosts"}
    expect_output: "1"
  - cmd: {node: h1, run: "cat /etc/hosts /etc/app/app.conf"}
    expect_output: "key = value"
  - cmd: {node: h1, run: "head -1 /etc/hosts"}
    expect_output: "10.7.7.7 placed.example"
  - cmd: {node: h1, run: "cat /run/x /etc/netplex-test /tmp/netplex-test /var/lib/netplex-test"}
    expect_output: "node-lib"
  - cmd: {node: h1, run: "id -un 0 && getent passwd mallory"}
    expect_output: "mallory:x:0:0::/root:/bin/sh"
  - cmd: {node: h1, run: "ip netns list"}
    expect_output: "inner"
  - cmd: {node: h1, run: "ls /run/netns"}
    expect_output: "inner"
  - cmd: {node: h1, run: "ip -n inner -br link show lo"}
    expect_output: "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>"
  - cmd: {node: h2, run: "grep -c evil.example /etc/hosts"}
    expect: fail
  - cmd: {node: h2, run: "ls /sys/class/net"}
    expect_output: "lo"
"""


def test_scenario_writes_stay_on_the_node(netns_list) -> None:
    before = digest()
    be = LinuxBackend()
    result = run_scenario(load_scenario_text(SCENARIO, "files.yaml"), be)
    assert result.exit_status == 0, [p for p in result.probes if not p.passed] or result.error
    assert digest() == before                  # the host's files, byte for byte
    assert "inner" not in netns_list()         # `inner` lived in the nodes' own /run/netns
    assert not [n for n in netns_list() if n.startswith(be.prefix)]
    assert not os.path.isdir(mountns.MNT_DIR) or not [n for n in os.listdir(mountns.MNT_DIR) if n.startswith(be.prefix)]


def test_write_file_lands_in_the_node_only() -> None:
    before = digest()
    with LinuxBackend() as be:
        sc = load_scenario_text("nodes:\n  h1: {}\n  h2: {}\n", "w.yaml")
        assert prepare(sc, be) is None
        be.write_file("h1", "/etc/hosts", b"10.1.2.3 only-h1\n")
        be.write_file("h1", "/run/x", b"run\n")
        be.write_file("h1", "/etc/netplex-test/deep/file.conf", b"deep\n")
        be.write_file("h1", "/etc/localtime", b"not a zone\n")   # a symlink to /usr/share: replaced
        assert be.run("h1", "cat /etc/hosts /run/x /etc/netplex-test/deep/file.conf").output == \
            "10.1.2.3 only-h1\nrun\ndeep\n"
        assert be.run("h1", "cat /etc/localtime").output == "not a zone\n"
        assert "only-h1" not in be.run("h2", "cat /etc/hosts").output
        for bad in ("/usr/local/bin/x", "relative", "/etc/../usr/x", "/etc"):
            with pytest.raises(TwinError):
                be.write_file("h1", bad, b"x")
        assert digest() == before
    assert digest() == before
    assert os.path.realpath("/etc/localtime") != "/etc/localtime"


def test_teardown_kills_processes_in_nested_namespaces() -> None:
    with LinuxBackend() as be:
        sc = load_scenario_text("nodes:\n  h1: {}\n", "n.yaml")
        assert prepare(sc, be) is None
        assert be.run("h1", "ip netns add inner && (ip netns exec inner sleep 300 >/dev/null 2>&1 &)").status == 0
        pids = be.run("h1", "ip netns pids inner").output.split()
        assert len(pids) == 1
        ns = be.namespace("h1")
    assert not os.path.exists(f"/proc/{pids[0]}/cmdline") or b"sleep" not in Path(f"/proc/{pids[0]}/cmdline").read_bytes()
    assert not os.path.exists(mountns.path(ns))
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    assert ns not in res.stdout


KILLED_RUN = """
import json, time
from netplex.scenario.model import Node
from netplex.twin.backend import LinuxBackend
be = LinuxBackend()
be.build({"h1": Node()}, [])
be.run("h1", "ip netns add inner && (ip netns exec inner sleep 300 >/dev/null 2>&1 &)")
pid = be.run("h1", "ip netns pids inner").output.split()[0]
print(json.dumps({"ns": be.namespace("h1"), "pid": int(pid)}), flush=True)
time.sleep(60)
"""


def test_clean_finds_what_a_killed_run_left_in_a_node() -> None:
    """`netplex clean` after a SIGKILL: the process in the node's nested namespace dies too."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN], stdout=subprocess.PIPE, text=True, cwd=root,
                            env=dict(os.environ, PYTHONPATH=str(root)))
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert mountns.exists(info["ns"]) and Path(f"/proc/{info['pid']}").exists()
    cleanup.clean()   # (another session's concurrent clean may be the one that removes it)
    assert not subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.count(info["ns"])
    assert not mountns.exists(info["ns"]) and not os.path.exists(mountns.path(info["ns"]))
    stat = Path(f"/proc/{info['pid']}/stat")
    assert not stat.exists() or ") Z" in stat.read_text()
