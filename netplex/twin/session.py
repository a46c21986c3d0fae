"""One shell session per twin node: setup commands and `cmd` probes share its state.

SCENARIO.md v1.1 reads a node's `setup` as a shell script, and the simulator
runs it, and the node's `cmd` probes after it, in one shell session per node
(netplex.shell.interp): variables, functions, `cd`, `set -e` and `export` carry
from one command to the next, while `exit N` or a failure under `set -e` ends
only the command that ran it (its status is the command's status).

The twin does the same with one bash(1) per node, started in the node's mount
and network namespaces (nsenter(1)) and fed one complete command at a time on
its stdin. Each command runs as `bash -c` (so its error messages and line
numbers are those of `bash -c`, line 1 its first line), started by that bash in
the background as its own process group (`set -m`), so `exit` and `set -e` end
that command only and a timeout kills it with every process it started
(killpg) and nothing else. The command's bash first sources the state the previous
command left (`declare -p`, `declare -f`, the working directory, `set +o`,
`shopt -p`: bash(1) "SHELL BUILTIN COMMANDS") and dumps it again from an EXIT
trap. Its stdin is /dev/null; its stdout and stderr are files of this process
(opened through /proc/PID/fd, as the node shares the host's /proc), so output
without a trailing newline and daemons left running (`dnsmasq &`) are handled
as with `bash -c`; the bash reports the command's pid and exit status on its
own stdout, which no command writes to.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO

__all__ = ["ShellSession"]

# Variables bash sets itself (or that are read-only); the session does not carry them.
_NOT_CARRIED = ("BASH[A-Z_]*|EUID|PPID|UID|SHELLOPTS|BASHOPTS|RANDOM|SRANDOM|SECONDS|LINENO|FUNCNAME|"
                "PIPESTATUS|SHLVL|GROUPS|DIRSTACK|HISTCMD|EPOCHREALTIME|EPOCHSECONDS|OPTIND|_|__npx_[a-z_]*")
_DUMP = ("__npx_s=$?; { declare -p | command grep -Ev '^declare -[-a-zA-Z]* (" + _NOT_CARRIED + ")(=|$)'; "
         'declare -f; printf "cd -- %q\\n" "$PWD"; set +o; shopt -p; } >"$__npx_st" 2>/dev/null')


class _Timeout(Exception):
    """The command ran longer than its timeout (caught inside ShellSession.run)."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class ShellSession:
    """A persistent bash in a node's namespaces; `run(line)` -> (status, stdout, stderr)."""

    def __init__(self, enter_argv: Sequence[str], env: Mapping[str, str],
                 on_start: Callable[[subprocess.Popen[bytes]], None]) -> None:
        self._argv = list(enter_argv)
        self._env = dict(env)
        self._on_start = on_start
        self._state = tempfile.TemporaryFile()  # the session's shell state, kept across restarts
        self.proc: subprocess.Popen[bytes] | None = None
        self._buf = b""  # what the bash reported past the last line read

    @staticmethod
    def _fd_path(f: IO[bytes]) -> str:
        """A file of this process as the node's bash opens it (the node shares the host's /proc)."""
        return f"/proc/{os.getpid()}/fd/{f.fileno()}"

    def _start(self) -> subprocess.Popen[bytes]:
        # the session file's path is in the command line, so `netplex clean` knows it for netplex's
        proc = subprocess.Popen(
            [*self._argv, "bash", "--norc", "--noprofile", "-s", os.path.abspath(__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=self._env, start_new_session=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(f"set -- ; set -m; export __npx_st={self._fd_path(self._state)}\n".encode())
        proc.stdin.flush()
        self._buf = b""
        self.proc = proc
        self._on_start(proc)
        return proc

    def _readline(self, proc: subprocess.Popen[bytes], deadline: float | None) -> str | None:
        """One line of the bash's reports; None at EOF; _Timeout past the deadline."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buf:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise _Timeout
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode()

    def run(self, line: str, timeout: float) -> tuple[int, str, str]:
        """Run one complete command; one that outlives `timeout` is killed (its process group)
        and reported as status 124, as timeout(1) does."""
        proc = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
        assert proc.stdin is not None
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            body = f'export -n __npx_st; . "$__npx_st" 2>/dev/null; trap {_quote(_DUMP)} EXIT; ' \
                   'eval "unset __npx_cmd; $__npx_cmd"'
            script = (f"__npx_cmd={_quote(line)} bash --norc --noprofile -c {_quote(body)} "
                      f"</dev/null >{self._fd_path(out)} 2>{self._fd_path(err)} &\n"
                      'echo "$!"; wait "$!"; echo "$?"\n')
            try:
                proc.stdin.write(script.encode())
                proc.stdin.flush()
                try:
                    pid_text = self._readline(proc, time.monotonic() + timeout)
                except _Timeout:
                    self._stop()  # a bash that does not even start the command
                    raise
                status_text = None if pid_text is None else self._wait(proc, pid_text, timeout)
            except BrokenPipeError:
                status_text = None
            except _Timeout:
                return 124, "", f"netplex: timed out after {timeout:g} s"
            if status_text is None:  # the bash itself died: the next command starts another
                self._stop()
                return 125, "", "netplex: the node's shell ended unexpectedly\n"
            out.seek(0)
            err.seek(0)
            return (int(status_text), out.read().decode(errors="replace"),
                    err.read().decode(errors="replace"))

    def _wait(self, proc: subprocess.Popen[bytes], pid_text: str, timeout: float) -> str | None:
        """The command's exit status as the bash reports it; on timeout, kill the command's
        process group (its bash and all it started), then raise _Timeout."""
        try:
            return self._readline(proc, time.monotonic() + timeout)
        except _Timeout:
            try:
                os.killpg(int(pid_text), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
            try:
                self._readline(proc, time.monotonic() + 5)  # the bash's report of the kill
            except _Timeout:
                self._stop()  # out of step with its reports: the next command starts another
            raise

    def close(self) -> None:
        """Stop the bash (the node's teardown stops whatever its commands left running)."""
        self._stop()
        self._state.close()

    def _stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except BrokenPipeError:
                        pass
