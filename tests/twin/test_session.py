"""One bash session per twin node (netplex.twin.session): state carries, each command's
status, stdout and stderr come back exactly, a timeout kills only the command, and the
bash is listed in the run's state file so teardown and `netplex clean` stop it."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netplex.scenario.loader import load_scenario
from netplex.scenario.model import Node
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.twin import backend as twin_backend
from netplex.twin import state
from netplex.twin.backend import LinuxBackend

pytestmark = pytest.mark.linux


@pytest.fixture
def be() -> Iterator[LinuxBackend]:
    with LinuxBackend() as b:
        b.build({"h1": Node(), "h2": Node()}, [])
        yield b


def test_state_carries_from_command_to_command(be: LinuxBackend) -> None:
    for line in ("X=10.0.0.1", "f() { echo \"f:$1:$X\"; }", "cd /tmp", "export Y=2", "set -o pipefail"):
        assert be.run("h1", line).status == 0
    r = be.run("h1", "f a; pwd; bash -c 'echo $Y'; false | true")
    assert (r.status, r.output, r.error) == (1, "f:a:10.0.0.1\n/tmp\n2\n", "")
    assert be.run("h2", "echo \"[$X]\"; pwd").output.startswith("[]\n")  # one session per node


def test_exit_and_set_e_end_only_the_command(be: LinuxBackend) -> None:
    assert be.run("h1", "A=1; exit 7").status == 7
    assert be.run("h1", "set -e; B=2; false; echo no").status == 1
    r = be.run("h1", "echo $A $B; false; echo yes")  # set -e still on: the command stops
    assert (r.status, r.output) == (1, "1 2\n")
    r = be.run("h1", "set +e; false; echo yes")
    assert (r.status, r.output) == (0, "yes\n")


def test_output_exactly_and_separately(be: LinuxBackend) -> None:
    r = be.run("h1", "printf 'no newline'; printf 'err' >&2; echo '$(x) `y`'")
    assert (r.status, r.output, r.error) == (0, "no newline$(x) `y`\n", "err")
    r = be.run("h1", "cat; read v; echo \"read:$? [$v]\"")  # stdin is /dev/null
    assert (r.status, r.output) == (0, "read:1 []\n")
    r = be.run("h1", "for i in 1 2; do\n  echo $i\ndone\ncat <<'EOF'\nit's $HOME\nEOF")
    assert r.output == "1\n2\nit's $HOME\n"
    r = be.run("h1", "if then")
    assert r.status == 2 and "syntax error" in r.error
    assert be.run("h1", "echo ok").output == "ok\n"


def test_background_job_does_not_hold_the_command(be: LinuxBackend) -> None:
    start = time.monotonic()
    r = be.run("h1", "sleep 3019 & echo started")
    assert (r.status, r.output) == (0, "started\n")
    assert time.monotonic() - start < 5
    assert "sleep 3019" in be.run("h1", "ps -eo args").output


def test_timeout_kills_the_command_and_keeps_the_session(be: LinuxBackend,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert be.run("h1", "KEEP=yes").status == 0
    monkeypatch.setattr(twin_backend, "RUN_TIMEOUT", 1.0)
    start = time.monotonic()
    r = be.run("h1", "echo before; sleep 3017 & sleep 2017")
    assert r.status == 124 and r.error == "netplex: timed out after 1 s"
    assert time.monotonic() - start < 5
    assert "sleep" not in be.run("h1", "ps -eo args | grep -E '^sleep [23]017$' || true").output
    assert be.run("h1", "echo $KEEP").output == "yes\n"


def test_the_shell_is_listed_in_the_state_file_and_stopped(be: LinuxBackend) -> None:
    assert be.run("h1", "true").status == 0
    with open(str(be.state_path)) as f:
        pids = json.load(f)["pids"]
    shells = [p for p in pids if state.process_alive(p, None)]
    assert shells and all(os.readlink(f"/proc/{p}/exe").endswith("bash") for p in shells)
    be.close()
    assert not any(state.process_alive(p, None) for p in shells)


SCRIPT_FAILS = """\
name: setup-fails
nodes:
  a:
    setup: |
      DEV=eth0
      up() {
        ip link set "$1" up
      }
      cat > /tmp/note <<'EOF'
      written
      EOF
      up $DEV
      set -e
      ip link set $DEV mtu 1400; ip link set nosuch up; echo not reached
      echo never
  b: {}
links:
  - ends: [a:eth0, b:eth0]
probes:
  - cmd: {node: a, run: "true"}
"""


def test_a_failing_setup_command_is_reported_with_its_line_on_both_backends(tmp_path: Path) -> None:
    path = tmp_path / "setup-fails.yaml"
    path.write_text(SCRIPT_FAILS)
    errors = [run_scenario(load_scenario(path), b).error for b in (SimBackend(), LinuxBackend())]
    assert errors[0] == errors[1], errors
    assert errors[1] is not None and errors[1]["line"] == 10 and errors[1]["file_line"] == 14
    assert errors[1]["message"] == 'Cannot find device "nosuch"'
