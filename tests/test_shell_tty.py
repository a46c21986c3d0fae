"""`netplex shell` on a terminal, as a new user meets it: readline line editing and
history (the up arrow brings the last command back), Ctrl-C drops the line and keeps
the shell, history kept in ~/.netplex_history."""
from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

SCENARIO = """\
nodes:
  a:
    setup: |
      ip link set lo up
"""


class _Term:
    """The terminal's side of the pty: `expect(text)` reads until `text` has come and
    returns what came up to it; what came after waits for the next call."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def expect(self, needle: bytes, timeout: float = 60.0) -> bytes:
        end = time.monotonic() + timeout
        while needle not in self.pending and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.pending += chunk
        assert needle in self.pending, (self.pending, needle)
        got, _, self.pending = self.pending.partition(needle)
        return got + needle


def _wait(pid: int, timeout: float) -> int | None:
    """The child's exit status, or None while it runs after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -1
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= end:
            return None
        time.sleep(0.1)


def test_shell_on_a_terminal_has_history_and_survives_ctrl_c(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO)
    env = dict(os.environ, HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[1]), TERM="dumb")
    pid, main = pty.fork()    # the child's controlling terminal is the pty: Ctrl-C there is its SIGINT
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-m", "netplex.cli", "shell", str(f), "a"], env)
    try:
        term = _Term(main)
        term.expect(b"a# ")
        os.write(main, b"echo first-$((40+2))\r")
        term.expect(b"\nfirst-42")
        term.expect(b"a# ")
        os.write(main, b"echo half-typed")
        term.expect(b"half-typed")                      # readline has the line
        os.write(main, b"\x03")                         # Ctrl-C drops it
        term.expect(b"^C")
        term.expect(b"a# ")
        os.write(main, b"\x1b[A\r")                     # up arrow: the last command again
        out = term.expect(b"\nfirst-42")
        assert b"half-typed" not in out
        term.expect(b"a# ")
        os.write(main, b"exit\r")
        status = _wait(pid, 20)
    finally:
        if _wait(pid, 0) is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(main)
    assert status == 0
    assert "echo first-$((40+2))" in (tmp_path / ".netplex_history").read_text()
