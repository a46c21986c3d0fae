"""The one visible table of shell commands, and what a command receives.

Every command a user can type (`grep`, `ip`, `bridge`, `ping`, …) is a
function registered here with `@command("name")`:

    @command("true")
    def true_(ctx: Context, argv: list[str]) -> Result:
        return Result(0)

`argv[0]` is the command name as typed. A command reads its standard input
from `ctx.stdin` and returns its standard output and standard error in the
`Result`; the interpreter (`netplex.shell.interp`) routes them through pipes
and redirections. Commands never raise for user errors: they return the real
tool's message and exit status.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from netplex.errors import NetplexError
from netplex.machine.fs import FileSystem
from netplex.shell.result import Result

__all__ = ["COMMANDS", "CommandFn", "Context", "FileReadError", "command", "lookup"]


class FileReadError(NetplexError):
    """`read_file`: the file exists but reading it fails; `message` is the strerror text
    (e.g. "Invalid argument" for the carrier of a device that is down), `errno` its number."""

    def __init__(self, message: str, errno: int = 0) -> None:
        super().__init__(message, errno)


def _no_file(path: str) -> str | None:
    """Default `read_file`: a standalone shell sees no /proc or /sys files."""
    return None


def _no_dir(path: str) -> list[str] | None:
    """Default `list_dir`: a standalone shell has no modelled /proc or /sys folders."""
    return None


def _no_sleep(ns: int) -> None:
    """Default `sleep`: a standalone shell has no clock to advance."""
    return


# What one command may write to a pipe, a file or the terminal in one go: netplex holds a
# command's whole output (pipes do not stream), so a command that would write more says so.
MAX_OUTPUT_BYTES = 64 * 1024 * 1024


class Terminal(Protocol):
    """The interactive terminal a command's standard output goes to (`netplex shell`).

    A command that runs until interrupted (`ping` without `-c`) writes each line
    as it comes, lets the terminal pace simulated time to wall time (`tick`), and
    stops, as on SIGINT, once `interrupted()` is true (Ctrl-C was pressed).
    """

    def write(self, text: str) -> None: ...

    def tick(self, ns: int) -> None: ...

    def interrupted(self) -> bool: ...


@dataclass(slots=True)
class Context:
    """What one command invocation sees.

    `node` is opaque here: the simulated network namespace the line runs in,
    used by the network commands. `read_file` returns the contents of a
    /proc/sys/... or /sys/class/net/... path (None when there is no such
    file); `sleep` advances simulated time by a number of nanoseconds. Both
    are supplied by whoever hosts the shell.
    """

    node: object = None
    env: dict[str, str] = field(default_factory=dict)
    stdin: str = ""
    read_file: Callable[[str], str | None] = _no_file
    sleep: Callable[[int], None] = _no_sleep
    machine: object = None   # the netplex Machine the shell runs on (files, processes, namespaces)
    cwd: str = "/"           # the shell's working directory: relative paths start here
    fs: FileSystem = field(default_factory=FileSystem)  # the machine's files (machine.fs)
    list_dir: Callable[[str], list[str] | None] = _no_dir  # the names in a modelled /proc or /sys folder
    terminal: Terminal | None = None   # set when standard output is an interactive terminal
    deadline: int | None = None        # `timeout`'s limit (simulated ns): a command that waits stops there
    background: bool = False           # in a `cmd &` job, which runs to completion before the next command


CommandFn = Callable[[Context, list[str]], Result]

COMMANDS: dict[str, CommandFn] = {}


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    """Register the decorated function under each of `names` in COMMANDS."""

    def register(fn: CommandFn) -> CommandFn:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register


def lookup(name: str) -> CommandFn | None:
    """The command registered under `name`, or None."""
    return COMMANDS.get(name)
