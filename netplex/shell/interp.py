"""The shell interpreter: what `bash -c SCRIPT` does, for the scripts netplex runs.

A user (or a domain system acting as an agent) types the same lines on the
simulator as on the kernel twin, where they run under bash. `Shell.run`
therefore follows bash(1) for the subset it accepts, and rejects the rest
with status 2 and a `netplex: ... is not supported` message instead of
guessing:

- words: single quotes, double quotes (with `$VAR`, `${VAR}`, `$?`, `$(...)`
  and backslash escapes inside), `$'...'`, backslash escapes, `#` comments;
- lists and pipelines: `;`, newline, `&&`, `||`, `|`, `|&`, `!`, `&`;
- compound commands: `if/elif/else/fi`, `for NAME in ...`, `for ((;;))`,
  `while`, `until`, `case ... esac` (`;;`, `;&`, `;;&`), `( ... )` (a subshell:
  nothing leaks out), `{ ...; }`, `(( ))`, functions (`f() {}`, `function f {}`);
- `VAR=value` (persists in the Shell) and `VAR=value cmd` (for that command);
- expansions: `$NAME`, `${NAME}`, `${NAME:-word}` and friends, `${#NAME}`,
  `${NAME#pat}` `##` `%` `%%`, `${NAME/pat/str}` `//` `/#` `/%`, `${NAME:off:len}`, `~`,
  `$?`, `$0`, `$1`.., `$#`, `$@`, `$*`, `$!`, `$(...)`, `$((...))` (see `arith`),
  word splitting of unquoted results, pathname expansion against the
  machine's files (a pattern that matches nothing stays as typed);
- redirections (bash REDIRECTION) to and from the machine's files (`netplex.machine.fs`):
  `>`, `>>`, `>|`, `<`, `2>`, `2>>`, `&>`, `&>>`, `2>&1`, `>&2`, `/dev/null`,
  `/dev/stdin`, `/dev/stdout`, `/dev/stderr`, here-documents (`<<EOF`,
  `<<'EOF'` without expansion, `<<-EOF` without leading tabs) and `<<<`
  here-strings; a write to /proc/sys/... sets that sysctl;
- `[[ ... ]]` (no splitting; `==` patterns, `=~` EREs, `&&`, `||`, `!`, `( )`);
- `&`: the job runs to completion at once (in simulated time), `$!` names it
  (or the daemon it started, in the machine's process table) and `wait`
  returns its status;
- `bash`/`sh` as commands: `-c SCRIPT`, a script file, or stdin, in a child shell.

Refused (status 2): backquotes, arrays, brace expansion across quotes or
expansions (`{a,b}`, `{1..10}`, `x{01..03}` run), `~user` (but `~`, `~root`),
file descriptors above 2, the builtins in `_REFUSED_BUILTINS`, `set` options
other than -e -u -x -o pipefail, and any loop that runs more than
`MAX_LOOP_ITERATIONS` times (the simulation must not hang). The whole script
is parsed before anything runs, as bash does, so a syntax error or a
refusal in the parser changes nothing.

The grammar is `netplex.shell.parse`; this module runs its syntax tree.
Builtins that change the shell itself (`cd`, `export`, `set`, `source`,
`read`, `local`, ...) live here; every other command comes from the
`COMMANDS` registry.
"""
from __future__ import annotations

import errno
import fnmatch
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netplex.apps.process import Process
from netplex.engine.scheduler import EventStorm
from netplex.errors import NetplexError
from netplex.machine import Machine
from netplex.machine.fs import CGROUP_MOUNT_ROOT, FileSystem, FsError
from netplex.shell import coreutils as _coreutils  # noqa: F401  (registers the text tools)
from netplex.shell.arith import ArithError, evaluate
from netplex.shell.coreutils.regex import RegexError, ere_to_python
from netplex.shell.parse import (
    NAME,
    AndOr,
    Arith,
    ArithCmd,
    ArithFor,
    BashSyntaxError,
    Case,
    Command,
    CommandList,
    Cond,
    For,
    FuncDef,
    Group,
    If,
    Lit,
    Param,
    Parser,
    Pipeline,
    Redirect,
    Simple,
    Subst,
    Unsupported,
    While,
    Word,
    complete,
)
from netplex.shell.registry import (
    COMMANDS,
    MAX_OUTPUT_BYTES,
    CommandFn,
    Context,
    FileReadError,
    Terminal,
    command,
)
from netplex.shell.result import Result
from netplex.stack.netns import Namespace

__all__ = ["Shell", "complete"]

_IFS_SPLIT = re.compile(r"[ \t\n]+")


# ---------------------------------------------------------------- errors of a run

class _TerminalAfter:
    """The terminal as one command sees it: what the line printed before it is written first."""

    def __init__(self, terminal: Terminal, before: list[str]) -> None:
        self._terminal = terminal
        self._before = before

    def write(self, text: str) -> None:
        if self._before:
            self._terminal.write("".join(self._before))
            self._before.clear()
        self._terminal.write(text)

    def tick(self, ns: int) -> None:
        self._terminal.tick(ns)

    def interrupted(self) -> bool:
        return self._terminal.interrupted()


class _Exit(Exception):
    """`exit N`: ends the line (or the enclosing subshell or command substitution)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(status)
        self.status = status
        self.message = message


class _Return(Exception):
    """`return N` from a function or a sourced file."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _LoopJump(Exception):
    """`break N` / `continue N`: leaves N enclosing loops (the innermost continues for `continue`)."""

    def __init__(self, levels: int, kind: str) -> None:
        super().__init__(kind)
        self.levels = levels
        self.kind = kind  # "break" or "continue"


class _CondFailed(Exception):
    """`[[ ]]` could not be evaluated (a bad regex, an operator test refuses): status 2."""


class _RedirError(Exception):
    """A redirection that could not be opened: the command does not run, status 1."""


# ---------------------------------------------------------------- the shell

MAX_LOOP_ITERATIONS = 100_000   # a `while true` with nothing that ends it must not hang the simulator
MAX_FUNCTION_DEPTH = 40         # shell functions calling themselves
INTERNAL_ERROR_STATUS = 70      # EX_SOFTWARE (sysexits.h): a netplex bug, said as such, never a traceback
RECURSION_LIMIT = 10_000        # nested `$( )`, `( )`, `{ }` recurse in the parser and the interpreter


def internal_error(name: str, e: BaseException) -> str:
    """The line a command that failed inside netplex prints (the fuzz tests look for it)."""
    return f"netplex: internal error in {name}: {type(e).__name__}: {e} (a netplex bug; please report it)\n"

_OUT, _ERR, _NULL = "out", "err", "null"


class _Input:
    """A command's standard input. Commands see what is left; `read` takes one line at a time."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.pos = 0

    def rest(self) -> str:
        return self.text[self.pos:]

    def readline(self) -> str | None:
        if self.pos >= len(self.text):
            return None
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end + 1
        line = self.text[self.pos:end]
        self.pos = end
        return line


@dataclass(slots=True, eq=False)
class _FileSink:
    """An output redirection to a file (opened, truncated or not, before the command runs)."""

    path: str
    proc_sys: bool = False  # /proc/sys/...: a write sets the sysctl


_Sink = str | _FileSink
_Builtin = Callable[["Shell", list[str], _Input], Result]


@dataclass(slots=True)
class _State:
    """What a subshell copies and throws away: variables, functions, arguments, directory, options."""

    env: dict[str, str]
    functions: dict[str, Command]
    args: list[str]
    cwd: str
    options: set[str]


_GLOB_META = re.compile(r"([*?\[])")


def _glob_escape(s: str) -> str:
    """A quoted piece's glob characters bracketed (`*` -> `[*]`) so they match themselves."""
    return _GLOB_META.sub(r"[\1]", s)


class Shell:
    """One shell session: its variables, functions, directory and last status persist across lines.

    `node` is handed to every command as `ctx.node` and `machine` as
    `ctx.machine`; files are the machine's (`machine.fs`, or a private
    filesystem for a shell without a machine); `read_file` (the /proc and /sys
    files) and `sleep` are the host's (see `registry.Context`); `commands`
    defaults to the live `COMMANDS` table, so commands registered later are found.
    """

    def __init__(
        self,
        node: object = None,
        env: dict[str, str] | None = None,
        read_file: Callable[[str], str | None] | None = None,
        sleep: Callable[[int], None] | None = None,
        commands: dict[str, CommandFn] | None = None,
        machine: Machine | None = None,
        list_dir: Callable[[str], list[str] | None] | None = None,
    ) -> None:
        self.node = node
        self.machine = machine
        self.fs: FileSystem = machine.fs if machine is not None else FileSystem()
        self.env: dict[str, str] = dict(env) if env else {}
        defaults = Context()
        self.read_file = read_file if read_file is not None else defaults.read_file
        self.sleep = sleep if sleep is not None else defaults.sleep
        self.list_dir = list_dir if list_dir is not None else defaults.list_dir
        self.commands = COMMANDS if commands is None else commands
        self.status = 0  # $?
        self.functions: dict[str, Command] = {}
        self.args: list[str] = []        # $1 ... (set --, function arguments, source FILE ARGS)
        self.cwd = "/"
        self.options: set[str] = set()   # errexit, nounset, xtrace, pipefail
        self.jobs: dict[int, int | Process] = {}   # background job pid -> exit status, or the daemon it started
        self.last_job: int | None = None  # $!
        self._next_job = 20000
        self._locals: list[dict[str, str | None]] = []  # per function call: the values `local` hid
        self._loops = 0
        self._sourcing = 0
        self._cond = 0          # inside a condition: `set -e` does not apply
        self._iterations = 0
        self._subst_status: int | None = None
        self._background_jobs = 0   # depth of `cmd &` jobs being run (Context.background)
        self.lineno = 1
        self.script_name = "bash"   # what error messages start with (a sourced file's name)
        # the interactive terminal (`netplex shell`): a command whose output goes straight to it
        # may write as it runs (ping without -c), after what the line printed so far
        self.terminal: Terminal | None = None
        self._terminal_out: list[str] = []
        self.arg0 = "bash"          # $0

    # -- entry points

    def run(self, line: str, stdin: str = "") -> Result:
        """Run a line or a script, as `bash -c SCRIPT` would; returns all stdout and stderr it produced.

        Each line is parsed whole before it runs (a syntax error or a refused
        construct on it changes nothing), then the next line is read, as bash does.
        """
        out: list[str] = []
        err: list[str] = []
        self._iterations = 0
        self._terminal_out = out
        if sys.getrecursionlimit() < RECURSION_LIMIT:
            sys.setrecursionlimit(RECURSION_LIMIT)
        try:
            self._run_script(Parser(line), _Input(stdin), out, err, "bash: -c:")
        except _Exit as e:
            err.append(e.message)
            self.status = e.status
        except _Return as e:   # `return` at the top: bash refuses it (handled in the builtin); keep the status
            self.status = e.status
        except _LoopJump:
            pass
        except Unsupported as e:
            err.append(f"netplex: {e}\n")
            self.status = 2
        except RecursionError:
            err.append("netplex: the line nests too deeply (command substitutions, subshells or "
                       "functions inside each other) for netplex to run it\n")
            self.status = 2
        return Result(self.status, "".join(out), "".join(err))

    def _run_script(self, parser: Parser, inp: _Input, out: list[str], err: list[str], where: str) -> None:
        """Parse a line, run it, repeat; a syntax error ends the script (status 2)."""
        while True:
            try:
                body = parser.parse_next()
            except BashSyntaxError as e:
                err.extend(parser.take_warnings())
                err.append(str(e).replace("bash: -c:", where))
                self.status = e.status
                return
            err.extend(parser.take_warnings())
            if body is None:
                return
            self._run_list(body, inp, out, err)

    # -- state

    def _save(self) -> _State:
        return _State(dict(self.env), dict(self.functions), list(self.args), self.cwd, set(self.options))

    def _restore(self, s: _State) -> None:
        self.env, self.functions, self.args, self.cwd, self.options = s.env, s.functions, s.args, s.cwd, s.options

    def _tick(self) -> None:
        self._iterations += 1
        if self._iterations > MAX_LOOP_ITERATIONS:
            raise Unsupported(f"loop stopped after {MAX_LOOP_ITERATIONS} iterations: netplex does not run "
                               "loops that never end (they would hang the simulation)")

    def _in_condition(self) -> _CondScope:
        return _CondScope(self)

    # -- lists, pipelines

    def _run_list(self, body: CommandList, inp: _Input, out: list[str], err: list[str]) -> int:
        for item in body.items:
            self._run_and_or(item, inp, out, err)
        return self.status

    def _run_and_or(self, item: AndOr, inp: _Input, out: list[str], err: list[str]) -> None:
        if item.background:
            self._background(item, inp, out, err)
            return
        pipelines = [("", item.first), *item.rest]
        last = len(pipelines) - 1
        ran = -1
        for i, (op, pipeline) in enumerate(pipelines):
            if i > 0 and (op == "&&") != (self.status == 0):
                continue
            if i < last or pipeline.negate:
                with self._in_condition():
                    self._run_pipeline(pipeline, inp, out, err)
            else:
                self._run_pipeline(pipeline, inp, out, err)
            ran = i
        if ("errexit" in self.options and self.status != 0 and self._cond == 0 and ran == last
                and not pipelines[last][1].negate):
            raise _Exit(self.status)

    def _background(self, item: AndOr, inp: _Input, out: list[str], err: list[str]) -> None:
        """`cmd &`: netplex runs the job to completion now (in simulated time) and keeps its status for `wait`.

        `$!` is a pid of the machine's process table: the daemon the job started
        when it started exactly one that still runs (`docker-proxy ... &`), else
        the job's own process, which has already ended.
        """
        procs = self.machine.procs if self.machine is not None else None
        before = {p.pid for p in procs} if procs is not None else set()
        saved = self._save()
        self._background_jobs += 1
        try:
            with self._in_condition():
                self._run_and_or(AndOr(item.first, item.rest), _Input(), out, err)
            status = self.status
        except _Exit as e:
            err.append(e.message)
            status = e.status
        finally:
            self._background_jobs -= 1
            self._restore(saved)
        if procs is None:
            pid = self._next_job
            self._next_job += 1
            self.jobs[pid] = status
        else:
            started = [p for p in procs if p.pid not in before and p.alive]
            if len(started) == 1:
                pid = started[0].pid
                self.jobs[pid] = started[0]
            else:
                job = procs.spawn(["bash"], self.node if isinstance(self.node, Namespace) else None)
                procs.exit(job, status)
                pid = job.pid
                self.jobs[pid] = status
        self.last_job = pid
        self.status = 0

    def _run_pipeline(self, pipeline: Pipeline, inp: _Input, out: list[str], err: list[str]) -> None:
        commands = pipeline.commands
        if len(commands) == 1:
            status = self._exec(commands[0], inp, out, err)
        else:
            statuses: list[int] = []
            data = ""
            for i, (cmd, stderr_too) in enumerate(zip(commands, pipeline.stderr_too)):
                stage_out: list[str] = out if i == len(commands) - 1 else []
                stage_err = stage_out if stderr_too else err
                saved = self._save()   # each stage of a pipeline runs in a subshell
                try:
                    st = self._exec(cmd, inp if i == 0 else _Input(data), stage_out, stage_err)
                except _Exit as e:
                    stage_err.append(e.message)
                    st = e.status
                except _LoopJump:
                    st = 0
                except _Return as e:
                    st = e.status
                finally:
                    self._restore(saved)
                statuses.append(st)
                data = "".join(stage_out)
            status = statuses[-1]
            if "pipefail" in self.options:
                status = next((s for s in reversed(statuses) if s), 0)
        if pipeline.negate:
            status = 0 if status else 1
        self.status = status

    # -- commands

    def _exec(self, cmd: Command, inp: _Input, out: list[str], err: list[str]) -> int:
        self.lineno = cmd.lineno
        if isinstance(cmd, Simple):
            self.status = self._run_simple(cmd, inp, out, err)
            return self.status
        if isinstance(cmd, FuncDef):
            self.functions[cmd.name] = cmd.body
            self.status = 0
            return 0
        if not cmd.redirects:
            self.status = self._run_compound(cmd, inp, out, err)
            return self.status
        try:
            where, cin = self._open(cmd.redirects, inp, err)
        except _RedirError as e:
            err.append(str(e))
            self.status = 1
            return 1
        lo: list[str] = []
        le: list[str] = []
        try:
            self.status = self._run_compound(cmd, cin, lo, le)
        finally:
            self._route("".join(lo), "".join(le), where, out, err)
        return self.status

    def _run_compound(self, cmd: Command, inp: _Input, out: list[str], err: list[str]) -> int:
        if isinstance(cmd, Group):
            if not cmd.subshell:
                return self._run_list(cmd.body, inp, out, err)
            saved = self._save()
            try:
                return self._run_list(cmd.body, inp, out, err)
            except _Exit as e:
                err.append(e.message)
                return e.status
            except _LoopJump:
                return 0
            finally:
                self._restore(saved)
        if isinstance(cmd, If):
            for cond, body in cmd.clauses:
                with self._in_condition():
                    self._run_list(cond, inp, out, err)
                if self.status == 0:
                    return self._run_list(body, inp, out, err)
            if cmd.orelse is not None:
                return self._run_list(cmd.orelse, inp, out, err)
            return 0
        if isinstance(cmd, While):
            return self._loop(cmd, inp, out, err)
        if isinstance(cmd, For):
            if cmd.words is None:
                values = list(self.args)
            else:
                values = [v for w in cmd.words for v in self._expand(w, err, glob=True)]
            return self._loop(cmd, inp, out, err, values)
        if isinstance(cmd, ArithFor):
            self._arith(cmd.init, err)
            return self._loop(cmd, inp, out, err)
        if isinstance(cmd, Case):
            return self._case(cmd, inp, out, err)
        if isinstance(cmd, ArithCmd):
            return 0 if self._arith(cmd.expr, err) else 1
        if isinstance(cmd, Cond):
            try:
                return 0 if self._cond_eval(cmd.expr, err) else 1
            except _CondFailed as e:
                err.append(str(e))
                return 2
        raise AssertionError(cmd)

    def _cond_eval(self, e: tuple[Any, ...], err: list[str]) -> bool:
        """`[[ ]]`: no word splitting nor pathname expansion; `==` matches a pattern, `=~` an ERE."""
        kind = e[0]
        if kind == "or":
            return self._cond_eval(e[1], err) or self._cond_eval(e[2], err)
        if kind == "and":
            return self._cond_eval(e[1], err) and self._cond_eval(e[2], err)
        if kind == "not":
            return not self._cond_eval(e[1], err)
        if kind == "word":
            return self._expand_joined(e[1], err) != ""
        if kind == "unary":
            op, value = e[1], self._expand_joined(e[2], err)
            if op == "-z":
                return value == ""
            if op == "-n":
                return value != ""
            test = self.commands.get("test")
            if test is None:
                raise Unsupported(f"[[ {op} ]] needs the test command")
            r = test(self._context(), ["test", op, value])
            if r.status > 1:
                raise _CondFailed(r.error)
            return r.status == 0
        op, a = e[1], self._expand_joined(e[2], err)
        if op in ("==", "=", "!="):
            matched = fnmatch.fnmatchcase(a, self._pattern(e[3], err))
            return matched if op != "!=" else not matched
        if op == "=~":
            try:
                rx = re.compile(ere_to_python(self._regex(e[3], err)))
            except (RegexError, re.error):
                raise _CondFailed("") from None
            return rx.search(a) is not None
        if op in ("<", ">"):
            b = self._expand_joined(e[3], err)
            return a.encode() < b.encode() if op == "<" else a.encode() > b.encode()
        left, right = self._arith_text(a), self._arith_text(self._expand_joined(e[3], err))
        return {"-eq": left == right, "-ne": left != right, "-lt": left < right, "-le": left <= right,
                "-gt": left > right, "-ge": left >= right}[op]

    def _regex(self, word: Word, err: list[str]) -> str:
        """The ERE of `=~`'s right side: quoted parts match literally."""
        out = []
        for p in word.parts:
            text = p.text if isinstance(p, Lit) else self._value(p, err)
            out.append(re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", text) if p.quoted else text)
        return "".join(out)

    def _arith_text(self, text: str) -> int:
        try:
            return evaluate(text, self._get_var, self._set_var)
        except ArithError as e:
            raise _Exit(1, f"bash: line {self.lineno}: {text.strip()}: {e}\n") from None

    def _loop(self, cmd: While | For | ArithFor, inp: _Input, out: list[str], err: list[str],
              values: list[str] | None = None) -> int:
        status = 0
        self._loops += 1
        try:
            i = 0
            while True:
                self._tick()
                if isinstance(cmd, While):
                    with self._in_condition():
                        self._run_list(cmd.cond, inp, out, err)
                    if (self.status == 0) == cmd.until:
                        break
                elif isinstance(cmd, For):
                    assert values is not None
                    if i >= len(values):
                        break
                    self.env[cmd.var] = values[i]
                    i += 1
                else:
                    if cmd.cond.raw.strip() and not self._arith(cmd.cond, err):
                        break
                try:
                    status = self._run_list(cmd.body, inp, out, err)
                except _LoopJump as j:
                    if j.levels > 1:
                        j.levels -= 1
                        raise
                    status = 0
                    if j.kind == "break":
                        break
                if isinstance(cmd, ArithFor):
                    self._arith(cmd.step, err)
        finally:
            self._loops -= 1
        return status

    def _case(self, cmd: Case, inp: _Input, out: list[str], err: list[str]) -> int:
        subject = self._expand_joined(cmd.word, err)
        status = 0
        fall = False
        for patterns, body, term in cmd.items:
            if fall or any(fnmatch.fnmatchcase(subject, self._pattern(p, err)) for p in patterns):
                status = self._run_list(body, inp, out, err)
                if term == ";;":
                    return status
                fall = term == ";&"
        return status

    def _arith(self, word: Word, err: list[str]) -> int:
        text = self._expand_joined(word, err)
        try:
            return evaluate(text, self._get_var, self._set_var)
        except ArithError as e:
            raise _Exit(1, f"bash: line {self.lineno}: {text.strip()}: {e}\n") from None

    def _get_var(self, name: str) -> str | None:
        return self.env.get(name)

    def _set_var(self, name: str, value: str) -> None:
        self.env[name] = value

    def _run_simple(self, cmd: Simple, inp: _Input, out: list[str], err: list[str]) -> int:
        """Run one simple command; its output goes through its redirections to `out` and `err`."""
        self._subst_status = None
        argv: list[str] = []
        for word in cmd.words:
            argv.extend(self._expand(word, err, glob=True))
        assigns = [(name, append, self._expand_joined(value, err)) for name, append, value in cmd.assigns]
        try:
            where, cin = self._open(cmd.redirects, inp, err)
        except _RedirError as e:
            err.append(str(e))
            return 1
        if not argv:
            for name, append, value in assigns:
                self.env[name] = self.env.get(name, "") + value if append else value
            self._route("", "", where, out, err)
            return self._subst_status if self._subst_status is not None else 0
        if "xtrace" in self.options:
            err.append("".join(f"+ {n}={v}\n" for n, _, v in assigns) + "+ " + " ".join(argv) + "\n")
        lo: list[str] = []
        le: list[str] = []
        routed = False
        at_terminal = self.terminal is not None and out is self._terminal_out and where[1] == _OUT
        try:
            status = self._invoke(argv, assigns, cin, lo, le, cmd.lineno, at_terminal)
            routed = True
            if not self._route("".join(lo), "".join(le), where, out, err, argv[0]):
                status = 1   # a write the file refused (a bad sysctl value): the command fails
        finally:
            if not routed:
                self._route("".join(lo), "".join(le), where, out, err)
        return status

    def _invoke(self, argv: list[str], assigns: list[tuple[str, bool, str]], inp: _Input,
                out: list[str], err: list[str], lineno: int, at_terminal: bool = False) -> int:
        name = argv[0]
        body = self.functions.get(name)
        builtin = _BUILTINS.get(name)
        if body is not None or builtin is not None:
            hidden = {n: self.env.get(n) for n, _, _ in assigns}  # `VAR=x f`: for that call only
            for n, append, value in assigns:
                self.env[n] = self.env.get(n, "") + value if append else value
            try:
                if body is not None:
                    return self._call(body, argv, inp, out, err)
                assert builtin is not None
                result = builtin(self, argv, inp)
                out.append(result.output)
                err.append(result.error)
                return result.status
            finally:
                for n, old in hidden.items():
                    if old is None:
                        self.env.pop(n, None)
                    else:
                        self.env[n] = old
        fn = self.commands.get(name)
        if fn is None and name in _REFUSED_BUILTINS:
            raise Unsupported(f"the bash builtin '{name}' is not supported")
        if fn is None:
            err.append(f"{self.script_name}: line {lineno}: {name}: command not found\n")
            return 127
        env = dict(self.env)
        for n, append, value in assigns:
            env[n] = env.get(n, "") + value if append else value
        stdin = inp.rest()

        def read_file(path: str) -> str | None:
            return stdin if path in ("/dev/stdin", "/dev/fd/0") else self.read_text(path)

        ctx = self._context(env, stdin, read_file)
        if at_terminal and self.terminal is not None:
            ctx.terminal = _TerminalAfter(self.terminal, self._terminal_out)
        try:
            result = fn(ctx, argv)
        except EventStorm as e:   # the simulation stopped itself: this command fails and says why
            err.append(e.message + "\n")
            return e.status
        except Unsupported:
            raise
        except NetplexError as e:   # a tool's error it did not print itself: its message and status
            err.append(f"{e.message}\n" if e.message else "")
            return e.status
        except (Exception, RecursionError) as e:   # noqa: BLE001 - never a traceback for user input
            err.append(internal_error(name, e))
            return INTERNAL_ERROR_STATUS
        if len(result.output) > MAX_OUTPUT_BYTES:
            err.append(f"netplex: {name}: more than {MAX_OUTPUT_BYTES} bytes of output: over netplex's limit "
                       "(a pipe holds a command's whole output)\n")
            return 1
        out.append(result.output)
        err.append(result.error)
        return result.status

    def _call(self, body: Command, argv: list[str], inp: _Input, out: list[str], err: list[str]) -> int:
        if len(self._locals) >= MAX_FUNCTION_DEPTH:
            raise Unsupported(f"{argv[0]}: functions nested deeper than {MAX_FUNCTION_DEPTH} calls")
        saved_args = self.args
        self.args = argv[1:]
        self._locals.append({})
        saved_loops = self._loops
        self._loops = 0
        try:
            return self._exec(body, inp, out, err)
        except _Return as r:
            self.status = r.status
            return r.status
        finally:
            self._loops = saved_loops
            self.args = saved_args
            for n, old in self._locals.pop().items():
                if old is None:
                    self.env.pop(n, None)
                else:
                    self.env[n] = old

    # -- redirections and files

    def _path(self, path: str) -> str:
        return FileSystem.norm(path, self.cwd)

    def read_text(self, path: str) -> str | None:
        """A file's text as commands see it: /proc and /sys modelled, the rest on the machine's fs.

        None when it does not exist; `FileReadError(strerror)` when it cannot be read.
        """
        p = self._path(path)
        if p == "/dev/null":
            return ""
        if (p.startswith(("/proc/", "/sys/")) or p in ("/proc", "/sys")) and self.fs.is_virtual(p):
            return self.read_file(p)
        try:
            return self.fs.read_bytes(p).decode("utf-8", "surrogateescape")
        except FsError as e:
            if e.errno == errno.ENOENT:
                return self.read_file(path)   # a host that models more files (tests) may have it
            raise FileReadError(e.message) from None

    def _context(self, env: dict[str, str] | None = None, stdin: str = "",
                 read_file: Callable[[str], str | None] | None = None) -> Context:
        """What a command sees: this shell's node, machine, files and directory."""
        return Context(self.node, dict(self.env) if env is None else env, stdin,
                       self.read_text if read_file is None else read_file, self.sleep, self.machine,
                       cwd=self.cwd, fs=self.fs, list_dir=self.list_dir, background=self._background_jobs > 0)

    def _open(self, redirects: list[Redirect], inp: _Input, err: list[str]) -> tuple[dict[int, _Sink], _Input]:
        """Open a command's redirections in order (bash REDIRECTION): where fds 1 and 2 go, and its stdin."""
        where: dict[int, _Sink] = {1: _OUT, 2: _ERR}
        for r in redirects:
            op, fd = r.op, r.fd
            if op in ("<<", "<<-"):
                inp = _Input(self._expand_joined(r.target, err))
                continue
            if op == "<<<":
                inp = _Input(self._expand_joined(r.target, err) + "\n")
                continue
            fields = self._expand(r.target, err)
            if len(fields) != 1:
                raise _RedirError(f"bash: line {self.lineno}: {r.target.raw}: ambiguous redirect\n")
            target = fields[0]
            if op == "<":
                inp = self._open_input(target, inp)
                continue
            if op == ">&" and (target.isdigit() or target == "-"):
                n = int(target) if target.isdigit() else -1
                if n not in where and n != 0:
                    raise _RedirError(f"bash: line {self.lineno}: {target}: Bad file descriptor\n")
                if n == 0:
                    raise Unsupported(f"the redirection >&{target} is not supported")
                where[1 if fd is None else fd] = where[n]
                continue
            if fd == 0 or (fd is not None and fd > 2 and self._path(target) != "/dev/null"):
                raise Unsupported(f"the redirection {fd}{op}{target} is not supported")
            sink = self._open_output(target, append=op in (">>", "&>>"), where=where)
            if op in ("&>", "&>>") or (op == ">&" and fd is None):
                where[1] = where[2] = sink
            else:
                where[1 if fd is None else fd] = sink
        return where, inp

    def _open_input(self, target: str, inp: _Input) -> _Input:
        p = self._path(target)
        if p in ("/dev/stdin", "/dev/fd/0"):
            return inp
        try:
            text = self.read_text(p)
        except FileReadError as e:
            raise _RedirError(f"bash: line {self.lineno}: {target}: {e.message}\n") from None
        if text is None:
            raise _RedirError(f"bash: line {self.lineno}: {target}: No such file or directory\n")
        return _Input(text)

    def _open_output(self, target: str, append: bool, where: dict[int, _Sink]) -> _Sink:
        p = self._path(target)
        if p == "/dev/null":
            return _NULL
        if p in ("/dev/stdout", "/dev/fd/1"):
            return where[1]
        if p in ("/dev/stderr", "/dev/fd/2"):
            return where[2]
        if p.startswith("/proc/sys/"):
            if self.read_file(p) is None:
                raise _RedirError(f"bash: line {self.lineno}: {target}: No such file or directory\n")
            return _FileSink(p, proc_sys=True)
        if self.fs.is_virtual(p) and not self.fs.exists(p):
            raise Unsupported(f"writing {p} is not supported (netplex writes /proc/sys and the "
                               "machine's own files)")
        try:
            self.fs.write_bytes(p, b"", append=True)  # O_CREAT
            if not append:
                self.fs.write_bytes(p, b"")           # O_TRUNC
        except FsError as e:
            raise _RedirError(f"bash: line {self.lineno}: {target}: {e.message}\n") from None
        return _FileSink(p)

    def _route(self, stdout: str, stderr: str, where: dict[int, _Sink], out: list[str], err: list[str],
               command: str = "echo") -> bool:
        """Send a command's output where its redirections say; False when a write failed."""
        ok = True
        for text, fd in ((stdout, 1), (stderr, 2)):
            if not text:
                continue
            sink = where[fd]
            if sink == _OUT:
                out.append(text)
            elif sink == _ERR:
                err.append(text)
            elif isinstance(sink, _FileSink):
                ok = self._write_sink(sink, text, err, command) and ok
        return ok

    def _write_sink(self, sink: _FileSink, text: str, err: list[str], command: str = "echo") -> bool:
        if sink.proc_sys:
            key = sink.path[len("/proc/sys/"):].replace("/", ".")
            sysctl = self.commands.get("sysctl")
            if sysctl is None:
                raise Unsupported(f"writing {sink.path} needs the sysctl command")
            r = sysctl(self._context(), ["sysctl", "-q", "-w", f"{key}={text.strip()}"])
            if r.status != 0:
                err.append(f"bash: line {self.lineno}: echo: write error: Invalid argument\n")
                return False
            return True
        try:
            self.fs.write_bytes(sink.path, text.encode("utf-8", "surrogateescape"), append=True)
        except FsError as e:  # the file went away (rm) between open and write: bash's fd still works
            if sink.path.startswith(CGROUP_MOUNT_ROOT + "/"):   # a cgroup file refused the write(2)
                err.append(f"bash: line {self.lineno}: {command}: write error: {e.message}\n")
            else:
                err.append(f"bash: line {self.lineno}: {sink.path}: {e.message}\n")
            return False
        return True

    # -- expansion

    def _param(self, part: Param, err: list[str]) -> str:
        name = part.name
        value: str | None
        if name == "?":
            value = str(self.status)
        elif name == "#":
            value = str(len(self.args))
        elif name == "0":
            value = self.arg0
        elif name == "!":
            value = None if self.last_job is None else str(self.last_job)
        elif name == "~":   # tilde expansion: $HOME, or root's home (netplex runs as root)
            value = self.env.get("HOME", "/root")
        elif name.isdigit():
            i = int(name)
            value = self.args[i - 1] if i <= len(self.args) else None
        elif name in "@*":
            value = " ".join(self.args) if self.args else None
        else:
            value = self.env.get(name)
        op = part.op
        if op == "#":
            return str(len(value or ""))
        if op.startswith(("del", "sub", "slice")):
            return self._param_edit(part, value or "", err)
        if not op:
            if value is None and "nounset" in self.options and name not in "@*":
                raise _Exit(127, f"bash: line {self.lineno}: {name}: unbound variable\n")
            return value or ""
        unset = value is None or (op.startswith(":") and value == "")
        base = op.lstrip(":")
        if base == "+":
            return "" if unset else self._expand_joined(Word(part.arg or [], ""), err)
        if not unset:
            return value or ""
        arg = self._expand_joined(Word(part.arg or [], ""), err)
        if base == "=":
            self.env[name] = arg
        elif base == "?":
            raise _Exit(127, f"bash: line {self.lineno}: {name}: {arg or 'parameter null or not set'}\n")
        return arg

    def _param_edit(self, part: Param, v: str, err: list[str]) -> str:
        """${v#p} ${v##p} ${v%p} ${v%%p}, ${v/p/s} ${v//p/s} ${v/#p/s} ${v/%p/s}, ${v:off:len}."""
        op = part.op
        if op == "slice":
            off = self._arith(Word(part.arg or [], ""), err)
            start = max(len(v) + off, 0) if off < 0 else min(off, len(v))
            if part.arg2 is None:
                return v[start:]
            n = self._arith(Word(part.arg2, ""), err)
            end = start + n if n >= 0 else len(v) + n
            if end < start:
                raise _Exit(1, f"bash: line {self.lineno}: {n}: substring expression < 0\n")
            return v[start:end]
        pat = self._pattern(Word(part.arg or [], ""), err)
        if op.startswith("del"):
            kind = op[3:]
            if kind in ("#", "##"):
                for i in (range(len(v) + 1) if kind == "#" else range(len(v), -1, -1)):
                    if fnmatch.fnmatchcase(v[:i], pat):
                        return v[i:]
            else:
                for i in (range(len(v), -1, -1) if kind == "%" else range(len(v) + 1)):
                    if fnmatch.fnmatchcase(v[i:], pat):
                        return v[:i]
            return v
        if not pat:
            return v
        repl = self._expand_joined(Word(part.arg2 or [], ""), err)
        anchor = op[4:]
        out: list[str] = []
        i = 0
        while i <= len(v):
            starts = [0] if anchor == "#" else range(i, len(v) + 1)
            hit = None
            for st in starts:
                ends = [len(v)] if anchor == "%" else range(len(v), st - 1, -1)
                hit = next(((st, e) for e in ends if e > st and fnmatch.fnmatchcase(v[st:e], pat)), None)
                if hit is not None:
                    break
            if hit is None:
                break
            st, e = hit
            out.append(v[i:st] + repl)
            i = e
            if anchor != "/":
                break
        out.append(v[i:])
        return "".join(out)

    def _subst(self, part: Subst, err: list[str]) -> str:
        saved = self._save()  # $(...) runs in a subshell: its assignments vanish
        captured: list[str] = []
        try:
            self._run_list(part.body, _Input(), captured, err)
        except _Exit as e:
            err.append(e.message)
            self.status = e.status
        except _LoopJump:
            pass
        finally:
            self._restore(saved)
        self._subst_status = self.status
        return "".join(captured).rstrip("\n")

    def _value(self, part: Param | Subst | Arith, err: list[str]) -> str:
        if isinstance(part, Param):
            return self._param(part, err)
        if isinstance(part, Arith):
            return str(self._arith(Word(part.expr, part.raw), err))
        return self._subst(part, err)

    def _expand_joined(self, word: Word, err: list[str]) -> str:
        """A word expanded without field splitting (assignments, redirection targets)."""
        return "".join(p.text if isinstance(p, Lit) else self._value(p, err) for p in word.parts)

    def _pattern(self, word: Word, err: list[str]) -> str:
        """A `case` pattern: quoted parts match literally."""
        return "".join(
            (_glob_escape(p.text) if p.quoted else p.text) if isinstance(p, Lit)
            else (_glob_escape(self._value(p, err)) if p.quoted else self._value(p, err))
            for p in word.parts)

    def _split(self, value: str) -> tuple[list[str], bool]:
        """Field-split an unquoted expansion on $IFS; True when empty fields count (IFS has non-blanks)."""
        ifs = self.env.get("IFS")
        if ifs is None:
            return (_IFS_SPLIT.split(value) if value else []), False
        if not ifs or not value:
            return ([value] if value else []), False
        blanks = "".join(c for c in ifs if c in " \t\n")
        others = "".join(c for c in ifs if c not in " \t\n")
        sep = f"[{re.escape(blanks)}]+" if blanks else ""
        if others:
            around = f"[{re.escape(blanks)}]*" if blanks else ""
            sep = f"{around}[{re.escape(others)}]{around}" + (f"|{sep}" if sep else "")
        return re.split(sep, value), bool(others)

    def _expand(self, word: Word, err: list[str], glob: bool = False) -> list[str]:
        """A word expanded into fields: unquoted expansions split on blanks, then
        pathname expansion against the machine's files (bash EXPANSION)."""
        fields: list[str] = []
        cur: list[str] = []   # the field being built, in pieces (joined once: a long word stays linear)
        pat: list[str] = []   # `cur` with quoted text escaped, for pathname expansion
        magic = False
        have = False  # `cur` is a field, even if empty (it holds quoted text)

        def finish() -> None:
            nonlocal magic, have
            if have:
                matches = self.fs.glob("".join(pat), self.cwd, self.list_dir) if glob and magic else []
                fields.extend(matches or ["".join(cur)])
            cur.clear()
            pat.clear()
            magic, have = False, False

        for part in word.parts:
            if isinstance(part, Lit):
                cur.append(part.text)
                if part.quoted:
                    pat.append(_glob_escape(part.text))
                else:
                    pat.append(part.text)
                    magic = magic or any(c in part.text for c in "*?[")
                have = have or part.quoted or part.text != ""
                continue
            if isinstance(part, Param) and part.name == "@" and part.quoted and not part.op:
                if not self.args:
                    if all(isinstance(p, Lit) and not p.text for p in word.parts if p is not part):
                        return fields
                    continue
                for i, arg in enumerate(self.args):
                    if i > 0:
                        have = True
                        finish()
                    cur.append(arg)
                    pat.append(_glob_escape(arg))
                    have = True
                continue
            if isinstance(part, Param) and part.name == "*" and part.quoted and not part.op:
                value = (self.env.get("IFS", " ")[:1]).join(self.args)
            else:
                value = self._value(part, err)
            if part.quoted:
                cur.append(value)
                pat.append(_glob_escape(value))
                have = True
                continue
            if isinstance(part, Param) and part.name in "@*" and not part.op:
                pieces = [piece for arg in self.args for piece in self._split(arg)[0]]
                keep_empty = False
            else:
                pieces, keep_empty = self._split(value)
            for i, piece in enumerate(pieces):
                if i > 0:
                    finish()
                if piece or (keep_empty and 0 < i < len(pieces) - 1):
                    cur.append(piece)
                    pat.append(piece)
                    magic = magic or any(c in piece for c in "*?[")
                    have = True
        finish()
        return fields


class _CondScope:
    """`with shell._in_condition():` — `set -e` is off inside if/while conditions, `!` and `&&`/`||` heads."""

    __slots__ = ("shell",)

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def __enter__(self) -> None:
        self.shell._cond += 1

    def __exit__(self, *exc: object) -> None:
        self.shell._cond -= 1


# ---------------------------------------------------------------- builtins
# Builtins that change the shell itself; every other command comes from `COMMANDS`.


def _usage_error(shell: Shell, name: str, text: str, status: int = 2) -> Result:
    return Result(status, "", f"bash: line {shell.lineno}: {name}: {text}\n")


def _export(shell: Shell, argv: list[str], inp: _Input) -> Result:
    errors = []
    for arg in argv[1:]:
        if arg in ("-n", "-p"):
            continue
        name, eq, value = arg.partition("=")
        if not NAME.fullmatch(name):
            errors.append(f"bash: line {shell.lineno}: export: `{arg}': not a valid identifier\n")
            continue
        if eq:
            shell.env[name] = value
    return Result(1 if errors else 0, "", "".join(errors))


def _unset(shell: Shell, argv: list[str], inp: _Input) -> Result:
    functions = False
    for arg in argv[1:]:
        if arg in ("-v", "-f"):
            functions = arg == "-f"
            continue
        if functions:
            shell.functions.pop(arg, None)
        else:
            shell.env.pop(arg, None)
    return Result(0)


def _exit(shell: Shell, argv: list[str], inp: _Input) -> Result:
    if len(argv) < 2:
        raise _Exit(shell.status)
    try:
        raise _Exit(int(argv[1]) & 0xFF)
    except ValueError:
        raise _Exit(2, f"bash: line {shell.lineno}: exit: {argv[1]}: numeric argument required\n") from None


def _colon(shell: Shell, argv: list[str], inp: _Input) -> Result:
    return Result(0)


def _return(shell: Shell, argv: list[str], inp: _Input) -> Result:
    if not shell._locals and not shell._sourcing:
        return _usage_error(shell, "return", "can only `return' from a function or sourced script", 2)
    if len(argv) > 1:
        try:
            raise _Return(int(argv[1]) & 0xFF)
        except ValueError:
            raise _Return(2) from None
    raise _Return(shell.status)


def _break_continue(shell: Shell, argv: list[str], inp: _Input) -> Result:
    name = argv[0]
    if not shell._loops:
        return _usage_error(shell, name, "only meaningful in a `for', `while', or `until' loop", 0)
    levels = 1
    if len(argv) > 1:
        if not argv[1].isdigit():
            raise _Exit(128, f"bash: line {shell.lineno}: {name}: {argv[1]}: numeric argument required\n")
        levels = int(argv[1])
        if levels < 1:
            return _usage_error(shell, name, f"{argv[1]}: loop count out of range", 1)
    raise _LoopJump(min(levels, shell._loops), name)


def _shift(shell: Shell, argv: list[str], inp: _Input) -> Result:
    n = 1
    if len(argv) > 1:
        if not argv[1].isdigit():
            return _usage_error(shell, "shift", f"{argv[1]}: numeric argument required", 1)
        n = int(argv[1])
    if n > len(shell.args):
        return Result(1)
    shell.args = shell.args[n:]
    return Result(0)


def _local(shell: Shell, argv: list[str], inp: _Input) -> Result:
    if not shell._locals:
        return _usage_error(shell, "local", "can only be used in a function", 1)
    frame = shell._locals[-1]
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if not NAME.fullmatch(name):
            return _usage_error(shell, "local", f"`{arg}': not a valid identifier", 1)
        if name not in frame:
            frame[name] = shell.env.get(name)
        if eq:
            shell.env[name] = value
        elif name not in shell.env:
            shell.env[name] = ""
    return Result(0)


def _declare(shell: Shell, argv: list[str], inp: _Input) -> Result:
    """declare / typeset NAME[=VALUE]... with -x (export) and -g (global); in a function, local."""
    names = []
    scope_global = False
    for arg in argv[1:]:
        if arg.startswith(("-", "+")) and len(arg) > 1 and "=" not in arg:
            for c in arg[1:]:
                if c == "g":
                    scope_global = True
                elif c != "x":
                    raise Unsupported(f"{argv[0]} {arg[0]}{c} is not supported ({argv[0]} runs -x and -g)")
            continue
        names.append(arg)
    if not names:
        raise Unsupported(f"{argv[0]} without a name is not supported")
    if shell._locals and not scope_global:
        return _local(shell, ["local", *names], inp)
    return _export(shell, ["export", *names], inp)


_SET_OPTIONS = {"e": "errexit", "u": "nounset", "x": "xtrace"}
_SET_LONG = frozenset({"errexit", "nounset", "xtrace", "pipefail"})


def _set(shell: Shell, argv: list[str], inp: _Input) -> Result:
    args = argv[1:]
    if not args:
        raise Unsupported("set without arguments is not supported")
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--", "-"):
            shell.args = args[i + 1:]
            return Result(0)
        if a[:1] not in "-+" or len(a) < 2:
            shell.args = args[i:]
            return Result(0)
        on = a[0] == "-"
        for c in a[1:]:
            if c == "o":
                i += 1
                if i >= len(args):
                    raise Unsupported(f"set {a[0]}o without an option name is not supported")
                long = args[i]
                if long not in _SET_LONG:
                    raise Unsupported(f"set {a[0]}o {long} is not supported (netplex runs errexit, nounset, "
                                       "xtrace, pipefail)")
                (shell.options.add if on else shell.options.discard)(long)
            elif c in _SET_OPTIONS:
                (shell.options.add if on else shell.options.discard)(_SET_OPTIONS[c])
            else:
                raise Unsupported(f"set {a[0]}{c} is not supported (netplex runs set -e, -u, -x, -o pipefail)")
        i += 1
    return Result(0)


def _cd(shell: Shell, argv: list[str], inp: _Input) -> Result:
    args = [a for a in argv[1:] if a not in ("-L", "-P")]
    if len(args) > 1:
        return _usage_error(shell, "cd", "too many arguments", 1)
    if not args:
        if "HOME" not in shell.env:
            return _usage_error(shell, "cd", "HOME not set", 1)
        target = shell.env["HOME"]
    elif args[0] == "-":
        if "OLDPWD" not in shell.env:
            return _usage_error(shell, "cd", "OLDPWD not set", 1)
        target = shell.env["OLDPWD"]
    else:
        target = args[0]
    p = shell._path(target)
    if not shell.fs.is_dir(p):
        why = "Not a directory" if shell.fs.is_file(p) else "No such file or directory"
        return _usage_error(shell, "cd", f"{target}: {why}", 1)
    shell.env["OLDPWD"] = shell.cwd
    shell.cwd = p
    shell.env["PWD"] = p
    return Result(0, f"{p}\n" if args and args[0] == "-" else "")


def _pwd(shell: Shell, argv: list[str], inp: _Input) -> Result:
    return Result(0, f"{shell.cwd}\n")


def _run_text(shell: Shell, text: str, where: str, inp: _Input, sourced: bool = False) -> Result:
    """Parse and run `text` in this shell (eval, source); its output is the Result's."""
    out: list[str] = []
    err: list[str] = []
    try:
        shell._run_script(Parser(text), inp, out, err, where)
    except _Return as r:
        if not sourced:
            raise
        shell.status = r.status
    return Result(shell.status, "".join(out), "".join(err))


def _source(shell: Shell, argv: list[str], inp: _Input) -> Result:
    if len(argv) < 2:
        return Result(2, "", f"bash: line {shell.lineno}: {argv[0]}: filename argument required\n"
                             f"{argv[0]}: usage: {argv[0]} filename [arguments]\n")
    path = argv[1]
    try:
        text = shell.read_text(path)
    except FileReadError as e:
        return _usage_error(shell, path, e.message, 1)
    if text is None:
        return Result(1, "", f"bash: line {shell.lineno}: {path}: No such file or directory\n")
    saved_args = shell.args
    if len(argv) > 2:
        shell.args = argv[2:]
    shell._sourcing += 1
    saved_name, shell.script_name = shell.script_name, path
    try:
        return _run_text(shell, text, f"{path}:", inp, sourced=True)
    finally:
        shell.script_name = saved_name
        shell._sourcing -= 1
        if len(argv) > 2:
            shell.args = saved_args


def _eval(shell: Shell, argv: list[str], inp: _Input) -> Result:
    return _run_text(shell, " ".join(argv[1:]), "bash: eval:", inp)


def _let(shell: Shell, argv: list[str], inp: _Input) -> Result:
    if len(argv) < 2:
        return _usage_error(shell, "let", "expression expected", 1)
    value = 0
    for expr in argv[1:]:
        try:
            value = evaluate(expr, shell._get_var, shell._set_var)
        except ArithError as e:
            return _usage_error(shell, "let", f"{expr}: {e}", 1)
    return Result(0 if value else 1)


def _job_status(shell: Shell, pid: int) -> int:
    """A finished job's status; a daemon still running would make `wait` block forever."""
    job = shell.jobs[pid]
    if isinstance(job, int):
        return job
    if job.exit_status is None:
        raise Unsupported(f"wait for pid {pid} ({job.comm}), a daemon that is still running, would never return")
    return job.exit_status


def _wait(shell: Shell, argv: list[str], inp: _Input) -> Result:
    if len(argv) == 1:
        for pid in shell.jobs:
            _job_status(shell, pid)
        shell.jobs.clear()
        return Result(0)
    status = 0
    for arg in argv[1:]:
        if not arg.isdigit():
            raise Unsupported(f"wait {arg} is not supported (netplex waits for a pid, or for all jobs)")
        pid = int(arg)
        if pid not in shell.jobs:
            return _usage_error(shell, "wait", f"pid {pid} is not a child of this shell", 127)
        status = _job_status(shell, pid)
    return Result(status)


def _read(shell: Shell, argv: list[str], inp: _Input) -> Result:
    raw = False
    names: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-r":
            raw = True
        elif a == "-p":
            i += 1   # the prompt is shown only on a terminal
        elif a.startswith("-") and a != "-":
            raise Unsupported(f"read {a} is not supported (netplex runs read [-r] [-p PROMPT] NAME...)")
        else:
            names.append(a)
        i += 1
    for n in names:
        if not NAME.fullmatch(n):
            return _usage_error(shell, "read", f"`{n}': not a valid identifier", 1)
    line = inp.readline()
    if line is None:
        for n in names or ["REPLY"]:
            shell.env[n] = ""
        return Result(1)
    ended = line.endswith("\n")
    line = line[:-1] if ended else line
    if not raw:
        while line.endswith("\\") and not line.endswith("\\\\"):
            more = inp.readline()
            if more is None:
                line = line[:-1]
                break
            line = line[:-1] + more.rstrip("\n")
        line = re.sub(r"\\(.)", r"\1", line)
    if not names:
        shell.env["REPLY"] = line
        return Result(0 if ended else 1)
    ifs = shell.env.get("IFS", " \t\n")
    blanks = "".join(c for c in ifs if c in " \t\n")
    fields: list[str] = []
    rest = line.strip(blanks)
    while rest and len(fields) < len(names) - 1:
        m = re.search(f"[{re.escape(ifs)}]", rest) if ifs else None
        if m is None:
            fields.append(rest)
            rest = ""
            break
        fields.append(rest[:m.start()])
        rest = rest[m.end():].lstrip(blanks)
    if rest:
        fields.append(rest.rstrip(blanks))
    for k, n in enumerate(names):
        shell.env[n] = fields[k] if k < len(fields) else ""
    return Result(0 if ended else 1)


def _command_builtin(shell: Shell, argv: list[str], inp: _Input) -> Result:
    if len(argv) >= 3 and argv[1] == "-v":
        found = [n for n in argv[2:] if n in shell.functions or n in _BUILTINS or n in shell.commands]
        return Result(0 if found else 1, "".join(f"{n}\n" for n in found))
    raise Unsupported("command is supported only as `command -v NAME`")


_BUILTINS: dict[str, _Builtin] = {
    "export": _export, "unset": _unset, "exit": _exit, ":": _colon, "return": _return,
    "break": _break_continue, "continue": _break_continue, "shift": _shift, "local": _local,
    "set": _set, "cd": _cd, "pwd": _pwd, "source": _source, ".": _source, "eval": _eval,
    "let": _let, "wait": _wait, "read": _read, "command": _command_builtin, "declare": _declare,
    "typeset": _declare,
}
_REFUSED_BUILTINS = frozenset(
    ["readonly", "trap", "exec", "alias", "unalias", "shopt", "ulimit", "umask", "jobs", "fg", "bg", "disown", "pushd", "popd", "dirs", "getopts", "hash", "type", "builtin", "enable", "history", "logout", "mapfile", "readarray", "caller", "compgen", "complete", "suspend", "times", "kill"]
)


# ---------------------------------------------------------------- sh, bash as commands


@command("bash", "sh")
def shell_command(ctx: Context, argv: list[str]) -> Result:
    """`bash -c SCRIPT [NAME [ARG...]]`, `bash FILE [ARG...]`, `bash < FILE`: a child shell on the
    same machine and namespace (its variables start as a copy of the caller's; nothing comes back)."""
    prog = argv[0]
    args = argv[1:]
    options: set[str] = set()
    script: str | None = None
    while args and args[0].startswith(("-", "+")) and args[0] not in ("-", "--"):
        flag = args.pop(0)
        for c in flag[1:]:
            if c == "c":
                if not args:
                    return Result(2, "", f"{prog}: -c: option requires an argument\n")
                script = args.pop(0)
            elif c in _SET_OPTIONS:
                options.add(_SET_OPTIONS[c])
            else:
                return Result(2, "", f"netplex: {prog} -{c} is not supported (netplex runs -c, -e, -u, -x)\n")
    if args and args[0] == "--":
        args.pop(0)
    child = Shell(node=ctx.node, env=ctx.env, read_file=ctx.read_file, sleep=ctx.sleep,
                  machine=ctx.machine if isinstance(ctx.machine, Machine) else None, list_dir=ctx.list_dir)
    child.fs = ctx.fs
    child.cwd = ctx.cwd
    child.options = options
    stdin = ctx.stdin
    if script is not None:
        if args:
            child.arg0 = args[0]
            child.args = args[1:]
    elif args:
        path = args[0]
        try:
            text = child.read_text(path)
        except FileReadError as e:
            return Result(126, "", f"{prog}: {path}: {e.message}\n")
        if text is None:
            return Result(127, "", f"{prog}: {path}: No such file or directory\n")
        script, child.arg0, child.args = text, path, args[1:]
        child.script_name = path
    else:
        script, stdin = stdin, ""
    return child.run(script, stdin)
