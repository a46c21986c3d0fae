"""timeout(1) in simulated time, as GNU coreutils 9.1 under LC_ALL=C (compared by hand on Debian 12)."""
from __future__ import annotations

import pytest

from netplex import Network


@pytest.fixture
def h():
    net = Network()
    return net.add_node("h")


@pytest.mark.parametrize("line,status,output,error", [
    ("timeout 2 sleep 5", 124, "", ""),
    ("timeout 5 sleep 2", 0, "", ""),
    ("timeout 0 sleep 1", 0, "", ""),                      # 0: no limit
    ("timeout -v 1 sleep 3", 124, "", "timeout: sending signal TERM to command 'sleep'\n"),
    ("timeout -s KILL -v 1s sleep 3", 137, "", "timeout: sending signal KILL to command 'sleep'\n"),
    ("timeout --preserve-status 1 sleep 3", 143, "", ""),
    ("timeout 1 echo hi", 0, "hi\n", ""),
    ("timeout 1 false", 1, "", ""),
    ("timeout", 125, "", "Try 'timeout --help' for more information.\n"),
    ("timeout 1", 125, "", "Try 'timeout --help' for more information.\n"),
    ("timeout x sleep 1", 125, "", "timeout: invalid time interval 'x'\nTry 'timeout --help' for more information.\n"),
    ("timeout -s FOO 1 sleep 1", 125, "", "timeout: 'FOO': invalid signal\nTry 'timeout --help' for more information.\n"),
    ("timeout -q 1 true", 125, "", "timeout: invalid option -- 'q'\nTry 'timeout --help' for more information.\n"),
    ("timeout --bogus 1 true", 125, "", "timeout: unrecognized option '--bogus'\nTry 'timeout --help' for more information.\n"),
    ("timeout 1 nope", 127, "", "timeout: failed to run command 'nope': No such file or directory\n"),
])
def test_timeout_as_coreutils(h, line: str, status: int, output: str, error: str) -> None:
    r = h.run(line)
    assert (r.status, r.output, r.error) == (status, output, error)


def test_timeout_takes_simulated_time(h) -> None:
    t0 = h.net.world.now
    assert h.run("timeout 2 sleep 60").status == 124
    assert h.net.world.now - t0 == 2_000_000_000
