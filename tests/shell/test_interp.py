"""The shell-line interpreter: the lines bash accepts give bash's stdout,
stderr and status (checked against `bash -c`), and the constructs netplex does
not run are refused with status 2 before anything runs."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from netplex.shell.interp import Shell
from netplex.shell.parse import complete
from netplex.shell.registry import COMMANDS, Context, command
from netplex.shell.result import Result

SAME_AS_BASH = [
    # quoting
    "echo 'single  $HOME \\n' \"double  quoted\"",
    "echo a\\ b c\\\\d \\$x",
    'echo "a\\"b\\$c\\\\d\\e"',
    "echo ''; echo \"\" | wc -c",
    "printf '[%s]' '' \"\" x; echo",
    "echo a#b #comment",
    "echo 'it''s' \"mixed\"'quotes'",
    "echo $'tab\\there' $'nl\\nx'",
    "echo a\\",
    # variables and expansion
    'x="a  b"; echo $x "$x"',
    "x=1; x+=2; echo $x",
    "x=hello; echo ${x}world $xworld end",
    "x=1 y=2; echo $x$y",
    "x=outer; x=inner echo $x",
    "x=' a b '; printf '[%s]' $x; echo",
    "x=' a b '; printf '[%s]' \"$x\"; echo",
    "x=' a b '; printf '[%s]' pre$x'post'; echo",
    "e=; printf '[%s]' $e \"$e\" x; echo",
    "echo ${unset:-default} ${unset-dash} ${#unset}",
    "x=abc; echo ${#x} ${x:+set} ${x:-no}",
    "echo ${u:=assigned}; echo $u",
    "echo $0 $# [$1]",
    "echo $ alone 100$",
    "x=a; echo ${x:+\"b c\"} \"${u:-\"x  y\"}\"",
    "IFS=:; x=a:b; echo $x",
    "IFS=:; x=a::b:; printf '[%s]' $x; echo",
    "IFS=', '; x='a, b,,c'; printf '[%s]' $x; echo",
    # test / [
    "x=; [ -z \"$x\" ] && echo empty",
    "test 1 -eq 1 && echo yes",
    "[ 1 -eq 1",
    "[ a -eq 1 ]",
    "[ -z ]; echo $?",
    "[ ]; echo $?",
    "[ a = b ]; echo $?",
    "[ a == a ]; echo $?",
    "[ ! -n '' ]; echo $?",
    "[ a b c ]; echo $?",
    "[ a -foo b ]; echo $?",
    "test 1 -lt 2 -a 2 -lt 3; echo $?",
    "test 1 -gt 2 -o 2 -lt 3; echo $?",
    "[ \"$(echo 3 | wc -l)\" -ge 1 ] && echo ok",
    # status, lists, pipelines
    "false; echo $?",
    "true && echo yes || echo no",
    "false && echo yes || echo no",
    "false || false || echo third",
    "true || echo skipped; echo after",
    "! true; echo $?",
    "! false; echo $?",
    "! ! true; echo $?",
    "false | true; echo $?",
    "true | false; echo $?",
    "echo a; echo b;",
    "echo one && \n echo two",
    "echo a |\n cat",
    "echo x\necho y",
    # command substitution
    "echo $(echo a; echo b)",
    'echo "$(printf \'a\\n\\nb\\n\\n\')"',
    "x=$(false); echo $?",
    "echo $(false) $?",
    "x=$(echo one two); echo [$x]",
    "echo $(echo $(echo nested))",
    "echo \"$(echo \"inner quotes\")\"",
    "x=$(y=1; echo in); echo $x [$y]",
    "echo $( )empty",
    "seq $(echo 3)",
    # unknown commands
    "nosuch; echo $?",
    "nosuch arg 2>/dev/null || echo fallback",
    "nosuch && echo no; echo $?",
    "echo a | nosuch | wc -l",
    # redirections
    "echo out >/dev/null; echo $?",
    "echo out > /dev/null",
    "nosuch 2>/dev/null; echo $?",
    "nosuch &>/dev/null; echo $?",
    "nosuch >/dev/null 2>&1; echo $?",
    "nosuch 2>&1 | wc -l",
    "nosuch 2>&1 >/dev/null | wc -l",
    "nosuch |& wc -l",
    "echo err >&2",
    "echo err 1>&2 | wc -l",
    "echo x 3>/dev/null",
    "echo a2>/dev/null",
    "cat </dev/null; echo $?",
    "echo out >>/dev/null",
    "echo out >&/dev/null; echo done",
    # exit and builtins
    "exit 3; echo no",
    "echo $(exit 4) $?",
    "x=$(echo a; exit 5); echo $? $x",
    "true | exit 7; echo $?",
    "export A=1; echo $A",
    "A=1; unset A; echo [$A]",
    ": anything; echo $?",
    "exit abc; echo $?",
    # syntax errors
    'echo "a',
    "echo 'a",
    "echo a &&",
    "echo a |",
    "; echo",
    "echo a;;",
    "echo $(ls",
    "echo a ) b",
    "echo ${x",
    "echo a &&& b",
    "echo a | | b",
    "&& echo",
    "echo a >",
]


# Control flow, functions, arithmetic, here-documents: no files involved.
SAME_AS_BASH_SCRIPTS = [
    "for i in 1 2 3; do echo $i; done",
    "for i in a 'b c'; do echo [$i]; done; echo $i",
    "for i in; do echo no; done; echo $?",
    "for i in 1 2 3\ndo\n  echo $i\ndone",
    "for ((i = 0; i < 3; i++)); do echo $i; done",
    "i=0; while [ $i -lt 3 ]; do echo $i; i=$((i + 1)); done",
    "i=0; until [ $i -ge 2 ]; do echo $i; i=$((i+1)); done",
    "for i in 1 2 3 4; do if [ $i = 2 ]; then continue; fi; if [ $i = 4 ]; then break; fi; echo $i; done",
    "for i in 1 2; do for j in a b; do [ $j = b ] && continue 2; echo $i$j; done; done",
    "for i in 1 2; do for j in a b; do break 2; done; done; echo $i$j",
    "if false; then echo a; elif true; then echo b; else echo c; fi",
    "if false; then echo a; fi; echo $?",
    "if ! false; then echo negated; fi",
    "case abc in a*) echo A;; *) echo B;; esac",
    "case x in a|x) echo ax;; esac; case y in a) echo no;; esac; echo $?",
    "x=b; case $x in 'a') echo a;; \"b\") echo b;; esac",
    "case '*' in '*') echo star;; *) echo any;; esac",
    "case a in a) echo 1;& b) echo 2;; c) echo 3;; esac",
    "case a in a) echo 1;;& a) echo 2;; esac",
    "( x=1; echo in $x ); echo out [$x]",
    "( exit 3 ); echo $?",
    "{ echo a; echo b; } | wc -l",
    "{ echo out; echo err >&2; } 2>&1 | wc -l",
    "f() { echo args $# $1 $2; }; f a 'b c'",
    "f() { return 3; }; f; echo $?",
    "function g { echo g $@; }; g 1 2",
    "function h() { local x=in; echo $x; }; x=out; h; echo $x",
    "f() { echo \"$@\" | wc -w; for a in \"$@\"; do echo [$a]; done; }; f 'a b' c",
    "f() { echo \"$*\"; }; f a b c",
    "set -- a b c; echo $#; shift; echo $@; shift 2; echo $# $?; shift; echo $?",
    "echo $((1 + 2 * 3)) $((7 / 2)) $((-7 / 2)) $((7 % 3)) $((2 ** 10))",
    "x=5; echo $((x * 2 + y)) $((x > 3 ? 1 : 0)) $((x++)) $x $((--x))",
    "echo $((0x10 + 010 + 2#101))",
    "(( 3 > 2 )) && echo yes; (( 0 )); echo $?",
    "let x=2+3; echo $x",
    "echo $((1/0)); echo not reached",
    "echo $((1 +)); echo not reached",
    "cat <<EOF\nline $((1+1))\n  indented\nEOF",
    "x=v; cat <<'EOF'\n$x and $(echo no)\nEOF",
    "x=v; cat <<\"EOF\"\n$x\nEOF",
    "cat <<-EOF\n\tno tab $HOME_UNSET.\n\tEOF",
    "cat <<EOF | wc -l\na\nb\nEOF",
    "cat <<EOF; echo after\nbody\nEOF",
    "cat <<A; cat <<B\n1\nA\n2\nB",
    "cat <<EOF\nno end",
    "x=1; cat <<EOF\n\\$x is $x \\\\ \\n\nEOF",
    "cat <<< 'here string'",
    "read a b <<< '1 2 3'; echo $a/$b",
    "printf 'x y\\nz\\n' | while read a b; do echo [$a][$b]; done",
    "while read line; do echo got $line; done <<EOF\none\ntwo\nEOF",
    "read -r x <<< 'a\\b'; echo $x; read y <<< 'a\\b'; echo $y",
    "read x < /dev/null; echo $? [$x]",
    "sleep 0 & wait $!; echo $?",
    "false & wait $!; echo $?",
    "wait 99999; echo $?",
    "echo $!",
    "set -e; echo a; false; echo not reached",
    "set -e; false || echo rescued; echo after",
    "set -e; if false; then :; fi; echo ok",
    "set -e; ! true; echo still",
    "set -e; f() { false; echo in f; }; f; echo after",
    "set -u; echo $nosuch; echo not reached",
    "set -o pipefail; false | true; echo $?",
    "break; echo $?",
    "return; echo $?",
    "local x; echo $?",
    "eval 'x=1; echo $x'",
    "unset -f f; f() { echo f; }; unset -f f; f",
    "if true; then fi",
    "{ echo a; } foo",
    "while true; do",
    "case a in",
    "f() { echo; ",
    "echo a &",
    "true && false || echo rescued",
    "command -v echo nosuch; echo $?",
    # [[ ]]
    "x=abc; [[ $x == a* ]] && echo glob; [[ $x == \"a*\" ]] || echo literal; [[ $x != b* ]] && echo ne",
    "x='a b'; [[ $x = 'a b' ]] && echo nosplit; [[ -n $x && -z $y ]] && echo andor",
    "[[ 10.0.0.1 =~ ^10\\.([0-9]+)\\. ]] && echo re; [[ abc =~ \"a.c\" ]] || echo quoted-literal",
    "[[ 3 -lt 10 ]] && echo num; [[ 1+2 -eq 3 ]] && echo arith; [[ b > a ]] && echo gt",
    "[[ ! -e nosuch-file && ( 1 -eq 2 || 2 -eq 2 ) ]] && echo paren",
    "x=; [[ $x ]] || echo empty",
    "if [[ -d / ]]; then echo root; fi",
    # sh, bash
    'bash -c "echo \\$0 \\$1 \\$#" name a b',
    'sh -c "exit 3"; echo $?',
    'echo "echo from stdin" | bash',
    'bash -c "x=1"; echo [$x]',
    "bash -c",
    "echo a >\n",
    "declare x=1 y; echo [$x][$y]; f() { declare x=2; typeset -g g=3; echo $x; }; f; echo $x $g",
    # brace expansion
    "echo {1..5} {a,b}c x{01..03} {5..1} {a..e..2} {1..10..3} -{-1..1}",
    "echo a{b,{c,d}}e {x} {} {a,b; echo \"{a,b}\" {a,b}\"c\" {1..3}{a,b}",
    "for i in {1..3}; do echo v$i; done",
    "echo \"{a,b}\" x{y}\"z\" ${HOME_X}{} {$HOME_X} {\"a,b\"}",
    # tilde
    "HOME=/home/me; echo ~ ~/.ssh a~ \"~\" x=~/a; y=a:~/b; echo $y; echo ~\"x\" ~/\"a b\"",
    # parameter expansion: patterns, substitution, substrings
    "x=10.1.2.0/24; echo ${x%/*} ${x#*/} ${x%%.*} ${x##*.}",
    "x=aXbXc; echo ${x/X/-} ${x//X/-} ${x/#a/A} ${x/%c/C} ${x/#X/-} ${x//} ${x/X}",
    "x=abcdef; echo ${x:2} ${x:1:3} ${x: -2} ${x:0:-1} ${x:10}",
    "x='a*b'; echo ${x#\"a*\"} ${x#a\\*} ${x%\\*b}",
    "f=/etc/app/app.conf; echo ${f##*/} ${f%/*} \"${f%.conf}.bak\"",
    "x=abc; p=b; echo ${x/$p/B} ${x/\"$p\"/Q} ${x//*/y} ${x//?/y} ${x//b*/y}",
    "x=aaa; echo ${x//a/bb} ${x/a*/Z} ${x%a*} [${x%%a*}]",
    "echo a;\n;",
]


def _real(line: str) -> tuple[int, str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    p = subprocess.run(["bash", "-c", line], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("line", SAME_AS_BASH)
def test_same_as_bash(line: str) -> None:
    r = Shell().run(line)
    assert (r.status, r.output, r.error) == _real(line)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("line", SAME_AS_BASH_SCRIPTS)
def test_scripts_same_as_bash(line: str) -> None:
    r = Shell().run(line)
    assert (r.status, r.output, r.error) == _real(line)


# ---------------------------------------------------------------- shell state


def test_variables_and_status_persist_between_lines() -> None:
    shell = Shell()
    shell.run("DEV=eth0")
    shell.run("export MTU=1500")
    assert shell.run("echo $DEV $MTU").output == "eth0 1500\n"
    shell.run("false")
    assert shell.run("echo $?").output == "1\n"
    shell.run("X=tmp true")
    assert shell.run("echo [$X]").output == "[]\n"
    shell.run("Y=1 | true")  # a pipeline stage is a subshell: nothing persists
    assert shell.run("echo [$Y]").output == "[]\n"
    assert shell.env == {"DEV": "eth0", "MTU": "1500"}


def test_env_given_to_the_shell_and_per_command_env() -> None:
    seen: list[dict[str, str]] = []

    def show(ctx: Context, argv: list[str]) -> Result:
        seen.append(dict(ctx.env))
        return Result(0, " ".join(argv[1:]) + "\n")

    shell = Shell(env={"HOST": "h1"}, commands={"show": show})
    assert shell.run("NS=red show $HOST").output == "h1\n"
    assert seen == [{"HOST": "h1", "NS": "red"}]
    assert "NS" not in shell.env


def test_pipeline_feeds_stdin_and_collects_all_stderr() -> None:
    def noisy(ctx: Context, argv: list[str]) -> Result:
        return Result(int(argv[1]), ctx.stdin.upper(), f"{argv[0]} {argv[1]} warns\n")

    shell = Shell(commands={**COMMANDS, "noisy": noisy})
    r = shell.run("echo abc | noisy 3 | noisy 0")
    assert r == Result(0, "ABC\n", "noisy 3 warns\nnoisy 0 warns\n")
    assert shell.run("echo abc | noisy 0 | noisy 4").status == 4


def test_node_and_host_callbacks_reach_commands() -> None:
    node = object()
    got: list[object] = []

    def probe(ctx: Context, argv: list[str]) -> Result:
        got.append(ctx.node)
        ctx.sleep(5)
        return Result(0, ctx.read_file("/proc/sys/net/ipv4/ip_forward") or "")

    slept: list[int] = []
    shell = Shell(node=node, read_file={"/proc/sys/net/ipv4/ip_forward": "1\n"}.get,
                  sleep=slept.append, commands={"probe": probe})
    assert shell.run("probe").output == "1\n"
    assert got == [node] and slept == [5]


def test_commands_registered_later_are_found() -> None:
    shell = Shell()
    assert shell.run("netplex-test-cmd").status == 127

    @command("netplex-test-cmd")
    def _cmd(ctx: Context, argv: list[str]) -> Result:
        return Result(0, "registered\n")

    try:
        assert shell.run("netplex-test-cmd").output == "registered\n"
    finally:
        del COMMANDS["netplex-test-cmd"]


def test_unknown_command_message_names_the_line() -> None:
    r = Shell().run("echo ok\nnosuch")
    assert r == Result(127, "ok\n", "bash: line 2: nosuch: command not found\n")


# ---------------------------------------------------------------- refused constructs


@pytest.mark.parametrize("line, message", [
    ("echo a 3>&1", "netplex: file descriptors other than 0, 1 and 2 are not supported: 3>&1\n"),
    ("echo a 3>log", "netplex: file descriptors other than 0, 1 and 2 are not supported: 3>log\n"),
    ("cat <>f", "netplex: the redirection <>f is not supported\n"),
    ("[[ -L x ]]", "netplex: [[ -L ... ]] is not supported\n"),
    ("a=(1 2)", "netplex: arrays are not supported: a=(...)\n"),
    ("echo `date`", "netplex: backquote command substitution is not supported; use $(...)\n"),
    ("echo {a,\"b\"}", "netplex: brace expansion across quotes or expansions is not supported: {a,\"b\"}\n"),
    ("echo {\"a\":1,\"b\":2}", "netplex: brace expansion across quotes or expansions is not supported: "
                               "{\"a\":1,\"b\":2}\n"),
    ("echo ~nobody", "netplex: tilde expansion of ~nobody is not supported: ~nobody\n"),
    ("echo $$", "netplex: the special parameter $$ is not supported\n"),
])
def test_refused_before_anything_runs(line: str, message: str) -> None:
    ran: list[str] = []

    def mark(ctx: Context, argv: list[str]) -> Result:
        ran.append(argv[0])
        return Result(0)

    shell = Shell(commands={**COMMANDS, "mark": mark})
    r = shell.run(f"mark; {line}")
    assert r == Result(2, "", message)
    assert ran == []
    assert shell.run("echo $?").output == "2\n"


def test_redirection_target_from_a_variable_is_checked_when_run() -> None:
    shell = Shell()
    shell.run("OUT=/dev/null")
    assert shell.run("echo hidden >$OUT").output == ""
    shell.run("OUT=/tmp/file")
    r = shell.run("echo shown; echo written >$OUT; cat /tmp/file")
    assert r == Result(0, "shown\nwritten\n", "")
    r = shell.run("set -x; echo x; set +x; echo y")
    assert r == Result(0, "x\ny\n", "+ echo x\n+ set +x\n")
    r = shell.run("X='a b'; echo hidden >$X; echo $?")
    assert r == Result(0, "1\n", "bash: line 1: $X: ambiguous redirect\n")
    assert shell.run("declare -i x").error == "netplex: declare -i is not supported (declare runs -x and -g)\n"
    assert shell.run("trap 'echo' EXIT").error == "netplex: the bash builtin 'trap' is not supported\n"
    assert shell.run("set -k").error == "netplex: set -k is not supported (netplex runs set -e, -u, -x, -o pipefail)\n"


def test_keywords_are_plain_words_outside_command_position() -> None:
    assert Shell().run("echo if then fi { }").output == "if then fi { }\n"
    assert Shell().run("echo 'a{b,c}' \"~\"").output == "a{b,c} ~\n"


def test_globs_stay_as_typed() -> None:
    # bash leaves a pattern unchanged when no file matches; netplex has no files to match
    assert Shell().run("echo /sys/class/net/*").output == "/sys/class/net/*\n"


@pytest.mark.parametrize("text, whole", [
    ("ip addr add 10.0.0.1/24 dev eth0", True),
    ("for i in 1 2; do", False),
    ("for i in 1 2; do\n  echo $i\ndone", True),
    ("cat <<EOF", False),
    ("cat <<EOF\nbody\nEOF", True),
    ("echo 'open", False),
    ("ip link add br0 \\", False),
    ("echo a |", False),
    ("echo a )", True),     # a syntax error, not an open construct: it is reported when run
    ("if true; then echo; fi", True),
])
def test_complete_says_when_a_command_needs_more_lines(text: str, whole: bool) -> None:
    assert complete(text) is whole
