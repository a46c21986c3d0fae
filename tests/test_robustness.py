"""Crashes, hangs and lost data (issue 10, items 8-11), each through what a user types or writes.

Every line here once escaped as a Python exception, hung, or lost data; each now
gives a status and the tool's message, a limit with a clear error, or its own file.
"""
from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex import Network, cli
from netplex.errors import ScenarioError
from netplex.scenario.loader import load_scenario_text
from netplex.shell.interp import INTERNAL_ERROR_STATUS


@pytest.fixture
def net() -> Network:
    n = Network()
    h1, h2 = n.add_node("h1"), n.add_node("h2")
    n.add_link("h1:eth0", "h2:eth0")
    h1.run("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up")
    h2.run("ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up")
    return n


# -- item 8: no exception escapes ----------------------------------------------------------------

@pytest.mark.parametrize("line, status, error", [
    ("tc class show dev", 255, 'Command line is not complete. Try option "help"\n'),
    ("tc class change dev", 255, 'Command line is not complete. Try option "help"\n'),
    ("tc class add dev eth0 parent 1: classid", 255, 'Command line is not complete. Try option "help"\n'),
    ("ip tunnel change", 1, "cannot determine tunnel mode (ipip, gre, vti or sit)\n"),
    ("ip route add multicast 10.9.0.0/24", 2, "RTNETLINK answers: No such device\n"),
    ('printf "[%*d]" *5 1', 1, "bash: line 1: printf: *5: invalid number\n"),
])
def test_refused_as_the_real_tools(net: Network, line: str, status: int, error: str) -> None:
    """Statuses and messages of iproute2 6.1 and bash 5.2, checked on this host."""
    r = net["h1"].run(line)
    assert (r.status, r.error) == (status, error)


def test_printf_star_width(net: Network) -> None:
    assert net["h1"].run('printf "[%*d]" *5 1').output == "[1]"
    assert net["h1"].run('printf "[%*d][%.*f]" -3 1 2 1.5').output == "[1  ][1.50]"
    r = net["h1"].run('printf "%*d" 100000000000 1')
    assert r.status == 1 and "limit" in r.error


def test_multicast_route_then_ping(net: Network) -> None:
    h1 = net["h1"]
    h1.run("ip route add multicast 10.9.0.0/24")
    r = h1.run("ping -c 1 -W 1 10.9.0.1")
    assert r.status in (1, 2) and "internal error" not in r.error
    assert h1.run("ip route add multicast 10.8.0.0/24 dev eth0").status == 0


def test_route_mtu_16_drops_as_ip_fragment_does(net: Network) -> None:
    """ip_do_fragment cannot fit 8 bytes after the header: the packet is dropped (FRAGFAILS)."""
    h1 = net["h1"]
    assert h1.run("ip route add 10.0.0.2/32 dev eth0 mtu 16").status == 0
    r = h1.run("ping -c 1 -W 1 10.0.0.2")
    assert r.status == 1 and "1 packets transmitted, 0 received" in r.output


def test_stp_on_before_ports(net: Network) -> None:
    h1 = net["h1"]
    r = h1.run("brctl addbr br0; brctl stp br0 on; ip link add p1 type veth peer name p2; "
               "brctl addif br0 p1; ip link set p1 up; ip link set p2 up; ip link set br0 up; sleep 3; "
               "brctl showstp br0 | head -1")
    assert (r.status, r.output) == (0, "br0\n")


def test_150_nested_substitutions(net: Network) -> None:
    line = "echo " + "$(echo " * 150 + "x" + ")" * 150
    assert net["h1"].run(line).output == "x\n"
    deep = "echo " + "$(echo " * 3000 + "x" + ")" * 3000
    r = net["h1"].run(deep)
    assert r.status == 2 and "nests too deeply" in r.error


def test_a_bug_in_a_command_is_a_message_not_a_traceback(net: Network) -> None:
    """Whatever a command raises, the shell answers with a status and one line."""
    from netplex.shell.registry import COMMANDS, command

    @command("npx-broken")
    def broken(ctx: object, argv: list[str]) -> object:
        raise KeyError("boom")

    try:
        r = net["h1"].run("npx-broken; echo $?")
        assert r.output == f"{INTERNAL_ERROR_STATUS}\n"
        assert r.error.startswith("netplex: internal error in npx-broken: KeyError")
    finally:
        del COMMANDS["npx-broken"]


@pytest.mark.parametrize("yaml_text, message", [
    ("name: x\nlinks:\n  - &x {ends: [a:eth0, b:eth0], extra: *x}\n", "an alias refers to a value that contains it"),
    ("nodes: {a: {}, b: {}}\nlinks:\n  - {ends: [a:eth0, b:eth0], delay: 1e400s}\n", 'invalid time "1e400s": out of range'),
    ("nodes: {a: {}, b: {}}\nlinks:\n  - {ends: [a:eth0, b:eth0], delay: 1e400}\n", "invalid time \"1e400\": out of range"),
    ("nodes: {a: {}, b: {}}\nlinks:\n  - {ends: [a:eth0, b:eth0]}\n"
     "probes: [{iperf: {duration: 0s, flows: [{from: a, to: 10.0.0.2, port: 5201}]}}]\n", "must be more than 0s"),
    ("nodes: {a: {}, b: {}}\nlinks:\n  - {ends: [a:eth0, b:eth0]}\n"
     "probes: [{iperf: {duration: 1e12s, flows: [{from: a, to: 10.0.0.2, port: 5201}]}}]\n", "at most 86400s"),
    ("nodes: " + "[" * 3000 + "]" * 3000 + "\n", "nested more than 100 levels deep"),
    ("\x00nodes: {}\n", "unacceptable character"),
    ("nodes: {a: {}}\nprobes: [{ping: }]\n", "needs its fields"),
])
def test_bad_files_give_one_line(yaml_text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(yaml_text, "bad.yaml")
    assert message in str(e.value) and "\n" not in str(e.value)


# -- item 9: hangs ------------------------------------------------------------------------------

def test_billion_laughs_is_refused_quickly() -> None:
    text = "name: x\na: &a [" + ",".join(["lol"] * 9) + "]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefghi", "bcdefghij")) + "nodes: {a: {}}\n"
    t0 = time.monotonic()
    with pytest.raises(ScenarioError, match="once aliases are expanded"):
        load_scenario_text(text, "laughs.yaml")
    assert time.monotonic() - t0 < 1


def test_ping_without_count_stops_at_the_limit(net: Network) -> None:
    r = net["h1"].run("ping 10.0.0.2; echo st=$?")
    assert "60 packets transmitted, 60 received" in r.output and r.output.endswith("st=2\n")
    assert "no -c COUNT or -w DEADLINE" in r.error


class _Terminal:
    def __init__(self, stop_after_ns: int) -> None:
        self.text: list[str] = []
        self.elapsed = 0
        self.stop_after_ns = stop_after_ns

    def write(self, text: str) -> None:
        self.text.append(text)

    def tick(self, ns: int) -> None:
        self.elapsed += ns

    def interrupted(self) -> bool:
        return self.elapsed >= self.stop_after_ns


def test_ping_at_a_terminal_streams_until_ctrl_c(net: Network) -> None:
    h1 = net["h1"]
    term = _Terminal(3_500_000_000)
    h1.shell.terminal = term
    try:
        r = h1.run("echo first; ping 10.0.0.2; echo st=$?")
    finally:
        h1.shell.terminal = None
    streamed = "".join(term.text)
    assert streamed.startswith("first\nPING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n")
    assert streamed.count("bytes from 10.0.0.2") == 4
    assert r.output.startswith("\n--- 10.0.0.2 ping statistics ---\n4 packets transmitted, 4 received")
    assert r.output.endswith("st=0\n")
    # piped, its output is not the terminal's: the limit applies
    h1.shell.terminal = _Terminal(10**18)
    try:
        assert "no -c COUNT" in h1.run("ping 10.0.0.2 | tail -1").error
    finally:
        h1.shell.terminal = None


def test_long_line_is_linear(net: Network) -> None:
    def cpu(words: int) -> float:
        """The better of two runs' CPU time: a collector pass or a busy machine lands in one run."""
        best = float("inf")
        for _ in range(2):
            t0 = time.process_time()
            r = net["h1"].run("echo " + "ab " * words)
            best = min(best, time.process_time() - t0)
            assert r.status == 0 and len(r.output) == 3 * words
        return best
    # 4 times the words: not 16 times the time
    assert cpu(80_000) < 8 * cpu(20_000) + 0.5
    r = net["h1"].run("echo " + "\\a" * 200_000 + " " + "a" * 1_000_000)
    assert len(r.output) == 1_200_002


def test_seq_into_head_is_bounded(net: Network) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = net["h1"].run("seq 10000000 | head -1; echo ${PIPESTATUS:-x}")
    assert "over netplex's limit" in r.error
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000   # KiB
    assert net["h1"].run("seq 100000 | tail -1").output == "100000\n"


# -- item 10: --pcap with several files ---------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_pcap_one_folder_per_scenario(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli.app, ["run", "--pcap", str(tmp_path), str(EXAMPLES / "bridged.yaml"),
                                str(EXAMPLES / "host-only.yaml")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "bridged" / "laptop-eth0.pcap").exists()
    assert (tmp_path / "host-only").is_dir()
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "bridged.yaml"
    twin.write_text((EXAMPLES / "bridged.yaml").read_text())
    r = runner.invoke(cli.app, ["run", "--pcap", str(tmp_path / "p"), str(EXAMPLES / "bridged.yaml"), str(twin)])
    assert r.exit_code == 2 and "same folder" in r.output


# -- item 11: a storm fails the run -------------------------------------------------------------

STORM = """\
name: storm
nodes:
  a:
    setup: |
      ip link add br0 type bridge && ip link set br0 up
      for p in p1 p2 p3; do ip link set $p master br0 && ip link set $p up; done
  b:
    setup: |
      ip link add br0 type bridge && ip link set br0 up
      for p in p1 p2; do ip link set $p master br0 && ip link set $p up; done
  h:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up
links:
  - ends: [a:p1, b:p1]
  - ends: [a:p2, b:p2]
  - ends: [h:eth0, a:p3]
probes:
  - ping: {from: h, to: 10.0.0.2}
    expect: fail
  - cmd: {node: h, run: "ping -c 1 10.0.0.3"}
    expect: fail
"""


def test_storm_fails_probes_that_expected_failure(tmp_path: Path) -> None:
    f = tmp_path / "storm.yaml"
    f.write_text(STORM)
    r = CliRunner().invoke(cli.app, ["run", str(f)])
    assert r.exit_code == 1
    assert r.output.count("aborted:") == 2 and "0/0 replies" not in r.output
    assert "FAILED: 2 of 2 probes" in r.output


def test_storm_sets_status_in_the_shell() -> None:
    net = Network()
    a, b, h = net.add_node("a"), net.add_node("b"), net.add_node("h")
    net.add_link("a:p1", "b:p1")
    net.add_link("a:p2", "b:p2")
    net.add_link("h:eth0", "a:p3")
    for sw, ports in ((a, "p1 p2 p3"), (b, "p1 p2")):
        sw.run(f"ip link add br0 type bridge && ip link set br0 up; for p in {ports}; do "
               "ip link set $p master br0 && ip link set $p up; done")
    h.run("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up")
    r = h.run("ping -c 1 10.0.0.2; echo st=$?")
    assert r.output.endswith("st=2\n") and "bridge loop without STP" in r.error


def test_sleep_longer_than_a_day_is_refused(net: Network) -> None:
    """A year of STP hellos would never end in wall time: a clear error instead."""
    h1 = net["h1"]
    h1.run("ip link add br0 type bridge stp_state 1 && ip link set br0 up")
    r = h1.run("sleep 99999999999; echo $?")
    assert r.output == "1\n" and "over netplex's limit of 86400s" in r.error
    t0 = time.process_time()
    assert h1.run("sleep 1d").status == 0
    assert time.process_time() - t0 < 5


def test_netplex_shell_ping_streams_and_stops_on_ctrl_c() -> None:
    """At a real terminal (a pty): replies as they come, Ctrl-C prints the statistics, the shell goes on."""
    import os
    import pty
    import select
    import sys

    root = Path(__file__).resolve().parents[1]
    pid, fd = pty.fork()
    if pid == 0:   # the child: netplex shell on the example's host
        try:
            os.environ["PYTHONPATH"] = str(root)
            os.chdir(root)
            os.execv(sys.executable, [sys.executable, "-m", "netplex.cli", "shell", "examples/host-only.yaml", "host"])
        finally:
            os._exit(127)   # never back into pytest

    def read(seconds: float, until: str = "") -> str:
        out = b""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until and until in out.decode(errors="replace")):
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
        return out.decode(errors="replace")

    try:
        read(20, "host# ")
        os.write(fd, b"ping 192.168.56.101\n")
        streamed = read(20, "icmp_seq=2")
        assert "icmp_seq=1 ttl=64" in streamed and "statistics" not in streamed
        os.write(fd, b"\x03")
        summary = read(10, "host# ")
        assert "--- 192.168.56.101 ping statistics ---" in summary and " 0% packet loss" in summary
        os.write(fd, b"echo st=$?\n")
        assert "st=0" in read(10, "st=0")
        os.write(fd, b"exit\n")
        read(5)
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
