"""The text tools, checked against the real ones: each line runs through our
Shell and through `bash -c` (GNU coreutils, GNU grep, mawk, LC_ALL=C), and
stdout, stderr and exit status must be identical."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netplex.shell.coreutils.regex import bre_to_python, ere_to_python
from netplex.shell.interp import Shell
from netplex.shell.registry import COMMANDS, Context

FILES = {
    "links.txt": "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n"
                 "2: eth0@if3: <BROADCAST,MULTICAST,UP> mtu 1500\n"
                 "3: br0: <BROADCAST,MULTICAST> mtu 1500\n",
    "nums.txt": "10\n9\n100\n-3\n2.5\n9\nabc\n\n",
    "table.txt": "b 2 x\na 10 y\nc 2 z\na 1 w\n",
    "csv.txt": "h1,10.0.0.1,up\nh2,10.0.0.2,down\nh3,,up\n",
    "nonl.txt": "no newline at end",
    "dup.txt": "a\na\nb\nc\nc\nc\nA\n",
}

PING = (
    "printf 'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\\n"
    "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.045 ms\\n"
    "64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=0.051 ms\\n\\n"
    "--- 10.0.0.2 ping statistics ---\\n"
    "2 packets transmitted, 2 received, 0%% packet loss, time 1001ms\\n'"
)

CASES = [
    # grep
    f"{PING} | grep -c ttl",
    f"{PING} | grep ttl=64",
    f"{PING} | grep -q ttl && echo yes",
    f"{PING} | grep -q nothing; echo $?",
    f"{PING} | grep -v ttl",
    f"{PING} | grep -o 'time=[0-9.]*'",
    f"{PING} | grep -oE '[0-9]+ received'",
    f"{PING} | grep -E 'icmp_seq=(1|2) '",
    f"{PING} | grep 'icmp_seq=\\(1\\|2\\) '",
    PING + " | grep -c 'ttl=6\\{2\\}'",
    PING + " | grep -cE 'ttl=6{2}'",
    f"{PING} | grep -n statistics",
    f"{PING} | grep -in STATISTICS",
    f"{PING} | grep -w 'ttl'",
    f"{PING} | grep -w 'tt'; echo $?",
    f"{PING} | grep -x '' | wc -l",
    f"{PING} | grep -e ttl -e PING",
    f"{PING} | grep -F '0.0.2 ('",
    f"{PING} | grep '0.0.2 ('",
    f"{PING} | grep -E '0.0.2 \\('",
    f"{PING} | grep -qE 'ttl|nothing'; echo $?",
    "echo 'a+b' | grep 'a+b'",
    "echo 'aab' | grep -o 'a\\+b'",
    "echo 'a?b' | grep 'a?b'",
    "echo 'a|b' | grep 'a|b'",
    "echo 'a{1}' | grep 'a{1}'",
    "echo '(x)' | grep '(x)'",
    "echo 'ab' | grep -c 'x*ab'",
    "echo '*star' | grep '*star'",
    "echo 'a^b' | grep 'a^b'",
    "echo 'a$b' | grep 'a$b'",
    "echo 'eth0 eth1' | grep -o 'eth[[:digit:]]'",
    "echo 'x]y' | grep -o '[]x]'",
    "echo 'a.b' | grep -o '[.]'",
    "echo 'abcabc' | grep -E -o '(abc)\\1'",
    "echo 'a-b' | grep -- -b",
    "echo 'Hello' | grep -qi hello && echo ok",
    "grep -c mtu links.txt",
    "grep mtu links.txt nums.txt",
    "grep -c 9 links.txt nums.txt",
    "grep -l UP links.txt nums.txt",
    "grep -h mtu links.txt links.txt | wc -l",
    "grep x missing.txt; echo $?",
    "grep -s x missing.txt; echo $?",
    "grep -E 'a(' links.txt; echo $?",
    "grep 'a\\(' links.txt; echo $?",
    "grep '[abc' links.txt; echo $?",
    "grep; echo $?",
    "grep -j x links.txt; echo $?",
    "grep -m 1 mtu links.txt",
    "grep -n '' nonl.txt",
    "grep -v -c mtu links.txt",
    "grep --count mtu links.txt",
    "grep -cv '^$' nums.txt",
    "grep '^[0-9]*$' nums.txt",
    "grep -E '^-?[0-9]+$' nums.txt",
    # wc
    f"{PING} | wc -l",
    f"{PING} | wc",
    f"{PING} | wc -w",
    f"{PING} | wc -c",
    f"{PING} | wc -lw",
    "echo | wc -c",
    "printf '' | wc",
    "wc links.txt",
    "wc -l links.txt",
    "wc -l links.txt nums.txt",
    "wc links.txt nonl.txt",
    "wc missing.txt; echo $?",
    "wc -z; echo $?",
    "wc -m nonl.txt",
    # head / tail
    "seq 20 | head",
    "seq 20 | head -n 3",
    "seq 20 | head -3",
    "seq 20 | head -n -17",
    "seq 20 | head -c 5",
    "head -n 1 links.txt nums.txt",
    "head -n x; echo $?",
    "head missing.txt; echo $?",
    "seq 20 | tail -n 2",
    "seq 20 | tail -2",
    "seq 20 | tail -n +19",
    "seq 20 | tail",
    "tail -c 4 nonl.txt",
    "tail -n 1 links.txt nonl.txt",
    "tail missing.txt; echo $?",
    "head -c; echo $?",
    # sort
    "sort nums.txt",
    "sort -n nums.txt",
    "sort -rn nums.txt",
    "sort -u nums.txt",
    "sort -nu nums.txt",
    "sort table.txt",
    "sort -k2 table.txt",
    "sort -k2,2 table.txt",
    "sort -k2,2n table.txt",
    "sort -k2n -k1,1 table.txt",
    "sort -k 2,2 -n -r table.txt",
    "sort -t, -k2 csv.txt",
    "sort -t , -k3,3 -k1,1r csv.txt",
    "printf '  b a\\n a c\\n' | sort -k2",
    "printf 'B\\na\\nC\\n' | sort",
    "printf 'B\\na\\nC\\n' | sort -f",
    "sort -k 0 table.txt; echo $?",
    "sort missing.txt; echo $?",
    "sort -k2,2 -u table.txt",
    # uniq
    "uniq dup.txt",
    "uniq -c dup.txt",
    "uniq -d dup.txt",
    "uniq -u dup.txt",
    "uniq -ci dup.txt",
    "sort dup.txt | uniq -c | sort -rn",
    "uniq -x; echo $?",
    # cut
    "cut -d, -f2 csv.txt",
    "cut -d, -f1,3 csv.txt",
    "cut -d , -f 2- csv.txt",
    "cut -d, -f-2 csv.txt",
    "cut -c1-3 csv.txt",
    "cut -c 2,4 links.txt",
    "cut -d' ' -f2 links.txt",
    "echo 'no delim' | cut -d, -f2",
    "echo 'no delim' | cut -s -d, -f2",
    "printf 'a\\tb\\n' | cut -f2",
    "cut -d, -f2 --output-delimiter=: csv.txt",
    "cut -d, -f1 --complement csv.txt",
    "cut; echo $?",
    "cut -f 0 csv.txt; echo $?",
    "cut -f x csv.txt; echo $?",
    "cut -d ab -f1 csv.txt; echo $?",
    "cut -f1 -c1 csv.txt; echo $?",
    "cut -f1 missing.txt; echo $?",
    # awk
    f"{PING} | awk '{{print $1}}'",
    f"{PING} | awk '{{print}}'",
    f"{PING} | awk '{{print $NF}}'",
    f"{PING} | awk 'NR==2 {{print $7}}'",
    f"{PING} | awk '/ttl/ {{print $5}}'",
    f"{PING} | awk '/statistics/'",
    f"{PING} | awk '$1==\"64\"{{print $4, \"seq\", $5}}'",
    f"{PING} | awk '{{print $1 \"-\" $2}}'",
    f"{PING} | awk -F= '/ttl/ {{print $2}}'",
    f"{PING} | awk -F'[ =]' '/ttl/ {{print $8}}'",
    f"{PING} | awk 'NR>1 && NR<4 {{print NR, NF}}'",
    f"{PING} | awk '$4 ~ /^10/ {{print $4}}'",
    f"{PING} | awk '!/ttl/'",
    f"{PING} | awk '{{print $(NF-1)}}'",
    f"{PING} | awk 'END {{print NR}}'",
    f"{PING} | awk 'BEGIN {{print \"start\"}} NR==1 {{print $2}}'",
    f"{PING} | awk '$1 > 50 {{print $1}}'",
    "awk -F, '$3==\"up\" {print $1}' csv.txt",
    "awk -F, '{print $2}' csv.txt",
    "awk -F, 'NR==2' csv.txt",
    "echo '5 apples' | awk '{print $1 * 2, $2}'",
    "awk '{print}' missing.txt; echo $?",
    # echo / printf
    "echo a b   c",
    "echo -n x; echo y",
    "echo -e 'a\\tb\\nc'",
    "echo -ne 'x\\n'",
    "echo -x",
    "echo 'a\\nb'",
    "echo -e 'stop\\cnot'",
    "echo",
    "printf '%s-%s\\n' a b c d",
    "printf '%d %5d|%-4s|\\n' 3 42 ab",
    "printf 'x\\n'",
    "printf '%s\\n'",
    "printf '%05.1f %x %o %%\\n' 3.14159 255 8",
    "printf '%d\\n' abc; echo $?",
    "printf '%b' 'a\\tb\\n'",
    "printf; echo $?",
    "printf '%c|%3s|\\n' hello hi",
    # true / false / sleep / cat
    "true; echo $?",
    "false; echo $?",
    "false || echo failed",
    "sleep 0 && echo slept",
    "sleep 0.0s 0m; echo $?",
    "sleep x; echo $?",
    "sleep; echo $?",
    "sleep 1q; echo $?",
    "cat links.txt",
    "cat nonl.txt nonl.txt; echo",
    "cat missing.txt; echo $?",
    "echo piped | cat",
    "echo piped | cat - links.txt",
    "cat -n links.txt",
    # tr
    "echo hello | tr a-z A-Z",
    "echo hello | tr '[:lower:]' '[:upper:]'",
    "echo 'a   b    c' | tr -s ' '",
    "echo 'a1b2c3' | tr -d 0-9",
    "echo 'a1b2c3' | tr -cd 0-9",
    "echo aabbcc | tr abc xy",
    "echo 'a,b,c' | tr , '\\n'",
    "echo 'aa  bb' | tr -s 'a ' 'x-'",
    "tr; echo $?",
    "tr a; echo $?",
    # seq
    "seq 3",
    "seq 2 5",
    "seq 1 2 9",
    "seq 5 -2 1",
    "seq 1 0",
    "seq -w 8 10",
    "seq -s, 4",
    "seq 1 0.5 3",
    "seq; echo $?",
    "seq a; echo $?",
    "seq 1 0 3; echo $?",
    # expr
    "expr 1 + 2", "expr 3 - 3; echo $?", "expr 2 \\* 3 + 1", "expr 7 / 2", "expr -7 / 2", "expr -7 % 2",
    "expr 1 / 0; echo $?", "expr 1 + a; echo $?", "expr; echo $?", "expr 1 +; echo $?", "expr 1 2; echo $?",
    "expr \\( 1; echo $?", "expr 1 \\); echo $?", "expr 10 \\< 9", "expr 10 \\< 9a", "expr a = a", "expr 1 = 01",
    "expr abc : a.", "expr abc : 'a\\(b\\)'", "expr abc : x; echo $?", "expr '' ; echo $?", "expr 0 \\| 3",
    "expr 0 \\& 3; echo $?", "expr length abc", "expr -- 3 + 1", "i=4; j=$(expr $i + 1); echo $j",
]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _ours(line: str, workdir: Path) -> tuple[int, str, str]:
    def read_file(path: str) -> str | None:
        p = workdir / path
        return p.read_text() if p.is_file() else None

    r = Shell(read_file=read_file).run(line)
    return r.status, r.output, r.error


def _real(line: str, workdir: Path) -> tuple[int, str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    p = subprocess.run(["bash", "-c", line], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


needs_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("bash", "grep", "mawk", "sort", "cut", "wc")),
    reason="needs bash, GNU coreutils, GNU grep and mawk",
)


@needs_tools
@pytest.mark.parametrize("line", CASES)
def test_same_as_real_tools(line: str, workdir: Path) -> None:
    assert _ours(line, workdir) == _real(line, workdir)


# ---------------------------------------------------------------- what the real tools cannot check


def test_sleep_advances_simulated_time_in_nanoseconds() -> None:
    slept: list[int] = []
    shell = Shell(sleep=slept.append)
    assert shell.run("sleep 1.5; sleep 2m 1; sleep .25s").status == 0
    assert slept == [1_500_000_000, 121_000_000_000, 250_000_000]


def test_sleep_rejects_bad_interval_without_sleeping() -> None:
    slept: list[int] = []
    r = Shell(sleep=slept.append).run("sleep 1 x")
    assert (r.status, r.error) == (1, "sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n")
    assert slept == []


def test_files_come_from_read_file() -> None:
    files = {"/proc/sys/net/ipv4/ip_forward": "1\n", "/sys/class/net/eth0/mtu": "1500\n"}
    shell = Shell(read_file=files.get)
    assert shell.run("cat /proc/sys/net/ipv4/ip_forward").output == "1\n"
    assert shell.run("grep -c 1500 /sys/class/net/eth0/mtu").output == "1\n"
    # stat(2) sizes: /proc files are 0 bytes, sysfs attributes 4096, as wc's widths show
    assert shell.run("wc /proc/sys/net/ipv4/ip_forward").output == "1 1 2 /proc/sys/net/ipv4/ip_forward\n"
    assert shell.run("wc /sys/class/net/eth0/mtu").output == "   1    1    5 /sys/class/net/eth0/mtu\n"
    r = shell.run("cat /proc/nope")
    assert (r.status, r.error) == (1, "cat: /proc/nope: No such file or directory\n")


@pytest.mark.parametrize("program", [
    "{x = 1}",
    "{print $1 > \"file\"}",
    "{printf \"%s\", $1}",
    "{print length($0)}",
    "{print $1",
])
def test_awk_outside_the_subset_is_refused_clearly(program: str) -> None:
    r = Shell().run(f"echo a | awk '{program}'")
    assert r.status == 2
    assert r.error == f"awk: netplex supports only a subset of awk: {program}\n"
    assert r.output == ""


def test_unsupported_options_say_so() -> None:
    assert Shell().run("echo a | grep -P a").status == 2
    assert "not supported" in Shell().run("tail -f /proc/x").error
    assert "not supported" in Shell().run("sort -V").error


def test_text_tools_are_in_the_one_registry() -> None:
    for name in ("grep", "wc", "head", "tail", "sort", "uniq", "cut", "awk", "echo", "printf",
                 "true", "false", "sleep", "cat", "tr", "seq"):
        assert name in COMMANDS
    r = COMMANDS["grep"](Context(stdin="a\nb\n"), ["grep", "-c", "b"])
    assert (r.status, r.output) == (0, "1\n")


@pytest.mark.parametrize("bre, ere, text, hit", [
    (r"a\+", "a+", "caab", "aa"),
    (r"a+", r"a\+", "a+", "a+"),
    (r"\(ab\)*c", "(ab)*c", "ababc", "ababc"),
    (r"x\{2,3\}", "x{2,3}", "xxxx", "xxx"),
    (r"a\|b", "a|b", "cb", "b"),
    (r"^*", r"^\*", "*x", "*"),
    (r"\<eth", r"\<eth", "veth eth0", "eth"),
    (r"[[:upper:]]\+", "[[:upper:]]+", "abCDe", "CD"),
])
def test_bre_and_ere_translation(bre: str, ere: str, text: str, hit: str) -> None:
    import re

    assert re.search(bre_to_python(bre), text).group() == hit  # type: ignore[union-attr]
    assert re.search(ere_to_python(ere), text).group() == hit  # type: ignore[union-attr]


# ---------------------------------------------------------------- seeded random lines, same oracle

_SORT_WORDS = ["a", "b", "B", " a", "10", "9", "-1", "2.5", "x y", "a b", "1 z", "", "  3", "c,d", "a,1", "b,10"]
_SORT_OPTS = ["", "-n", "-r", "-u", "-nr", "-k2", "-k2,2", "-k2n", "-t, -k2n", "-k1,1 -k2", "-f", "-b -k2",
              "-un", "-k2,2 -u"]


def _random_sort_lines(n: int) -> list[str]:
    import random

    rng = random.Random(7)
    lines = []
    for _ in range(n):
        data = "".join(rng.choice(_SORT_WORDS) + "\n" for _ in range(rng.randint(0, 7)))
        lines.append(f"printf %s {data!r} | sort {rng.choice(_SORT_OPTS)}")
    return lines


@needs_tools
@pytest.mark.parametrize("line", _random_sort_lines(60))
def test_sort_random_inputs(line: str, workdir: Path) -> None:
    assert _ours(line, workdir) == _real(line, workdir)


_GREP_TEXT = "aab\\nx y\\n 12\\nxy\\nab b\\n\\nbb.a\\naa\\n"


@needs_tools
@pytest.mark.parametrize("flags", ["-o", "-c", "", "-w", "-x", "-vn"])
@pytest.mark.parametrize("pattern", ["a*", "\\(a\\|b\\)\\+", "[^a ]", "x\\?y", "^ *[0-9]", "a.b", "[[:space:]]",
                                     "\\<b", "b\\>", "a\\{2\\}", "\\.", "[a-c]*d", "^$", ".*", "b\\{1,\\}\\.",
                                     "\\(a\\)\\1"])
def test_grep_bre_matrix(pattern: str, flags: str, workdir: Path) -> None:
    line = f"printf '{_GREP_TEXT}' | grep {flags} '{pattern}'"
    assert _ours(line, workdir) == _real(line, workdir)
    ere = pattern
    for bre, plain in (("\\(", "("), ("\\)", ")"), ("\\|", "|"), ("\\+", "+"), ("\\?", "?"), ("\\{", "{"), ("\\}", "}")):
        ere = ere.replace(bre, plain)
    line = f"printf '{_GREP_TEXT}' | grep -E {flags} '{ere}'"
    assert _ours(line, workdir) == _real(line, workdir)
