"""`netplex clab deploy|inspect|destroy|exec` as a user types them: the lab outlives deploy (a
command's effect is still there at the next exec), containerlab's table, messages and exit
statuses, and on the kernel twin the lab's namespaces gone after destroy."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex.cli import app
from netplex.twin.state import state_dirs

DATA = Path(__file__).resolve().parent.parent / "data" / "containerlab"

TABLE = """\
╭──────────────┬────────────┬─────────┬────────────────╮
│     Name     │ Kind/Image │  State  │ IPv4/6 Address │
├──────────────┼────────────┼─────────┼────────────────┤
│ clab-lans-h1 │ linux      │ running │ N/A            │
│              │ alpine:3   │         │ N/A            │
├──────────────┼────────────┼─────────┼────────────────┤
│ clab-lans-h2 │ linux      │ running │ N/A            │
│              │ alpine:3   │         │ N/A            │
├──────────────┼────────────┼─────────┼────────────────┤
│ clab-lans-h3 │ linux      │ running │ N/A            │
│              │ alpine:3   │         │ N/A            │
├──────────────┼────────────┼─────────┼────────────────┤
│ clab-lans-r1 │ linux      │ running │ N/A            │
│              │ alpine:3   │         │ N/A            │
╰──────────────┴────────────┴─────────┴────────────────╯
"""


class _Done:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _clab(tmp_path: Path, *args: str) -> _Done:
    """The command in this process (deploy's keeper is a process of its own, as it is for a user)."""
    r = CliRunner().invoke(app, ["clab", *args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return _Done(r.exit_code, r.stdout, r.stderr)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "lans.clab.yml").write_text((DATA / "lans.clab.yml").read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETPLEX_CLAB_DIR", str(tmp_path / "labs"))
    yield tmp_path
    _clab(tmp_path, "destroy", "--all")


def test_deploy_inspect_exec_destroy_on_the_simulator(lab: Path) -> None:
    r = _clab(lab, "deploy")      # the one *.clab.yml of the folder, as containerlab finds it
    assert r.returncode == 0, r.stderr
    assert r.stdout == TABLE
    assert "INFO Parsing & checking topology file=lans.clab.yml" in r.stderr
    again = _clab(lab, "deploy", "-t", "lans.clab.yml")
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.endswith("Error: the 'lans' lab has already been deployed. Destroy the lab before "
                                 "deploying a lab with the same name\n")
    assert _clab(lab, "inspect", "-t", "lans.clab.yml").stdout == TABLE
    # the lab is kept between commands: an address added by one exec is there for the next
    r = _clab(lab, "exec", "-t", "lans.clab.yml", "--label", "clab-node-name=h3",
              "--cmd", "ip addr add 192.168.2.99/24 dev eth1")
    assert r.returncode == 0 and "INFO Executed command node=clab-lans-h3" in r.stderr
    r = _clab(lab, "exec", "--name", "lans", "--label", "clab-node-name=h1", "--cmd", "ping -c1 192.168.2.99",
              "--cmd", "ip route get 10.0.0.1 from 1.1.1.1")
    assert "1 packets transmitted, 1 received" in r.stderr
    assert "ERROR Failed to execute command command=\"ip route get 10.0.0.1 from 1.1.1.1\" node=clab-lans-h1 rc=" \
        in r.stderr
    assert r.returncode == 0          # containerlab logs a failing command; exec itself succeeds
    data = json.loads(_clab(lab, "inspect", "--all", "--format", "json").stdout)
    assert [c["name"] for c in data["lans"]] == ["clab-lans-h1", "clab-lans-h2", "clab-lans-h3", "clab-lans-r1"]
    assert data["lans"][0]["absLabPath"] == str(lab / "lans.clab.yml")
    assert _clab(lab, "inspect", "-t", "lans.clab.yml", "-f", "csv").stdout.splitlines()[1].startswith(
        f"lans,lans.clab.yml,{lab / 'lans.clab.yml'},clab-lans-h1,,alpine:3,linux,running,,N/A,N/A,")
    r = _clab(lab, "destroy", "-t", "lans.clab.yml")
    assert r.returncode == 0 and "INFO Destroying lab name=lans" in r.stderr
    r = _clab(lab, "inspect", "-t", "lans.clab.yml")
    assert r.returncode == 0 and r.stdout == "" and "INFO no containers found" in r.stderr
    r = _clab(lab, "destroy", "-t", "lans.clab.yml")     # nothing deployed: nothing said, status 0
    assert r.returncode == 0 and r.stderr == ""
    assert not any((lab / "labs").iterdir())


def test_errors_as_containerlab_says_them(lab: Path) -> None:
    r = _clab(lab, "inspect")
    assert (r.returncode, r.stderr) == (1, "Error: provide either a lab name (--name) or a topology file path "
                                           "(--topo) or the --all flag\n")
    r = _clab(lab, "inspect", "-a", "-f", "yaml")
    assert r.returncode == 1 and 'output format "yaml" is not supported' in r.stderr
    r = _clab(lab, "exec", "-t", "lans.clab.yml")
    assert (r.returncode, r.stderr) == (1, "Error: provide command to execute\n")
    r = _clab(lab, "deploy", "-t", "nothere.clab.yml")
    assert (r.returncode, r.stderr) == (1, "Error: topology file 'nothere.clab.yml' is not found\n")
    (lab / "bad.clab.yml").write_text("name: bad\ntopology:\n  nodes:\n    r1: {kind: ceos}\n")
    r = _clab(lab, "deploy", "-t", "bad.clab.yml")
    assert r.returncode == 2 and 'bad.clab.yml:4: topology.nodes.r1.kind: kind "ceos" is not supported' in r.stderr
    assert not (lab / "labs" / "bad").exists() or not any((lab / "labs" / "bad").iterdir())


def test_a_failing_exec_line_fails_deploy_naming_it(lab: Path) -> None:
    (lab / "f.clab.yml").write_text("name: f\ntopology:\n  nodes:\n    a:\n      kind: linux\n      exec:\n"
                                    "        - ip addr add 10.0.0.1/24 dev eth7\n")
    r = _clab(lab, "deploy", "-t", "f.clab.yml")
    assert r.returncode == 2
    assert "f.clab.yml:7: a: setup line 2 failed: ip addr add 10.0.0.1/24 dev eth7" in r.stderr
    assert 'Cannot find device "eth7"' in r.stderr
    assert "INFO no containers found" in _clab(lab, "inspect", "--all").stderr


@pytest.mark.linux
def test_deploy_on_the_kernel_twin_keeps_namespaces_until_destroy(lab: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the kernel twin needs root")
    r = _clab(lab, "deploy", "-t", "lans.clab.yml", "--backend", "linux")
    assert r.returncode == 0, r.stderr
    assert r.stdout == TABLE
    pid = json.loads(next((lab / "labs").glob("*/lab.json")).read_text())["pid"]
    # the keeper's run state (twin/state.py) lists the namespaces it made
    states = [json.loads(f.read_text()) for d in state_dirs() for f in Path(d).glob("npx-*.json")]
    mine = set(next(s["namespaces"] for s in states if s["pid"] == pid))
    assert {n.rsplit("-", 1)[1] for n in mine} == {"h1", "h2", "h3", "r1", "lan1", "lan2"}
    assert mine <= set(_netns())
    r = _clab(lab, "exec", "-t", "lans.clab.yml", "--label", "clab-node-name=h1", "--cmd", "ping -c1 -W2 192.168.2.13")
    assert "1 packets transmitted, 1 received" in r.stderr, r.stderr
    assert _clab(lab, "destroy", "-t", "lans.clab.yml").returncode == 0
    assert not os.path.exists(f"/proc/{pid}")
    assert not (mine & set(_netns()))


def _netns() -> list[str]:
    return [line.split()[0] for line in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                       text=True).stdout.splitlines() if line.strip()]
