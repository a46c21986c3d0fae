"""SCENARIO.md v1.1 `files:` and setup read as a shell script: loaded with
exact error locations, written before setup, used by the setup a user
writes (here-documents, loops, iptables-restore of a placed ruleset)."""
from __future__ import annotations

from pathlib import Path

import pytest
from fake_backend import FakeBackend

from netplex.errors import ScenarioError
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

RULES = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 10.9.0.0/16 -j DROP
-A FORWARD -i eth0 -o eth1 -j ACCEPT
COMMIT
"""

SCENARIO = """\
name: files
nodes:
  fw:
    files:
      /etc/iptables/rules.v4: rules/fw.v4
      /etc/app/daemon.json: |
        {"userland-proxy": false}
      /etc/motd: hello
    setup: |
      iptables-restore < /etc/iptables/rules.v4
      mkdir -p /etc/iproute2
      cat > /etc/iproute2/rt_tables <<'EOF'
      # reserved values
      255	local
      100	blue
      EOF
      for i in $(seq 1 10); do
        ip link add v$i type veth \\
          peer name p$i
      done
      if [ -f /etc/app/daemon.json ]; then echo ok > /run/app.ready; fi
probes:
  - cmd: {node: fw, run: "iptables -S FORWARD"}
    expect_output: "-A FORWARD -i eth0 -o eth1 -j ACCEPT"
  - cmd: {node: fw, run: "grep blue /etc/iproute2/rt_tables"}
    expect_output: "100\\tblue"
  - cmd: {node: fw, run: "ip -o link | grep -c 'v[0-9]*@p'"}
    expect_output: "10"
  - cmd: {node: fw, run: "cat /run/app.ready /etc/motd"}
    expect_output: "hello"
  - cmd: {node: fw, run: "iptables-save -t filter > /tmp/saved && iptables -F && iptables-restore /tmp/saved && iptables -S INPUT"}
    expect_output: "-A INPUT -s 10.9.0.0/16 -j DROP"
"""


def _write(tmp_path: Path, text: str = SCENARIO) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "fw.v4").write_text(RULES)
    path = tmp_path / "files.yaml"
    path.write_text(text)
    return path


def test_files_and_setup_script_on_the_simulator(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path))
    result = run_scenario(scenario, SimBackend())
    assert result.error is None, result.error
    assert [p.passed for p in result.probes] == [True] * 5, [p.observed for p in result.probes]


def test_files_are_written_before_any_setup_line(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path))
    backend = FakeBackend()
    run_scenario(scenario, backend)
    kinds = [c[0] for c in backend.calls]
    assert kinds[:4] == ["build", "write_file", "write_file", "write_file"]
    assert backend.files[("fw", "/etc/iptables/rules.v4")] == RULES.encode()
    assert backend.files[("fw", "/etc/app/daemon.json")] == b'{"userland-proxy": false}\n'
    assert backend.files[("fw", "/etc/motd")] == b"hello"


def test_setup_commands_span_lines_and_keep_their_first_line_number(tmp_path: Path) -> None:
    node = load_scenario(_write(tmp_path)).nodes["fw"]
    lines = node.setup_lines()
    assert [(s.line, s.command.splitlines()[0]) for s in lines] == [
        (1, "iptables-restore < /etc/iptables/rules.v4"),
        (2, "mkdir -p /etc/iproute2"),
        (3, "cat > /etc/iproute2/rt_tables <<'EOF'"),
        (8, "for i in $(seq 1 10); do"),
        (12, "if [ -f /etc/app/daemon.json ]; then echo ok > /run/app.ready; fi"),
    ]
    assert lines[2].command.endswith("100\tblue\nEOF")
    assert lines[2].file_line == 12


def test_a_failing_command_inside_a_loop_is_reported_at_the_loop(tmp_path: Path) -> None:
    text = SCENARIO.replace("type veth", "typo veth")
    result = run_scenario(load_scenario(_write(tmp_path, text)), SimBackend())
    assert result.error is not None
    assert (result.error["line"], result.error["command"].splitlines()[0]) == (8, "for i in $(seq 1 10); do")


@pytest.mark.parametrize("files, line, message", [
    ("      etc/x: a", 4, 'invalid path "etc/x": files are placed at absolute paths, e.g. /etc/app.conf'),
    ("      /proc/sys/net/ipv4/ip_forward: '1'", 4, 'invalid path "/proc/sys/net/ipv4/ip_forward": /proc, /sys '
     "and /dev are modelled, not files a scenario places (use sysctl in setup)"),
    ("      /etc: x", 4, 'invalid path "/etc": /etc is a directory'),
    ("      /etc/x: 7", 4, "a file's value is its content (text) or a path beside the scenario file"),
    ("      /opt/app.conf: x", 4, 'invalid path "/opt/app.conf": a node\'s files live under /etc, /run, /var/lib, /tmp'),
    ("      /var/lib: x", 4, 'invalid path "/var/lib": /var/lib is a directory'),
])
def test_bad_files_name_file_line_and_field(files: str, line: int, message: str) -> None:
    text = f"nodes:\n  a:\n    files:\n{files}\n"
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "s.yaml")
    assert (info.value.line, info.value.message) == (line, message)
    assert info.value.field.startswith("nodes.a.files")


def test_a_missing_file_beside_the_scenario_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("nodes:\n  a:\n    files:\n      /etc/ok: plain\n      /etc/rules.v4: rules/missing.v4\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    e = info.value
    assert (e.file, e.line, e.field) == (str(path), 5, "nodes.a.files./etc/rules.v4")
    assert e.message.startswith('no file "rules/missing.v4" beside the scenario')


def test_a_file_outside_the_scenario_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "secret").write_text("x")
    path = tmp_path / "d" / "s.yaml"
    path.write_text("nodes:\n  a:\n    files:\n      /etc/x: ../secret\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "outside the scenario's folder" in info.value.message


def test_a_backslash_newline_continues_a_setup_command() -> None:
    text = "nodes:\n  a:\n    setup: |\n      ip link add br0 \\\n        type bridge\n      ip link set br0 up\n"
    lines = load_scenario_text(text, "s.yaml").nodes["a"].setup_lines()
    assert [(s.line, s.command) for s in lines] == [(1, "ip link add br0 \\\n  type bridge"),
                                                   (3, "ip link set br0 up")]
    backend = SimBackend()
    result = run_scenario(load_scenario_text(text, "s.yaml"), backend)
    assert result.error is None
