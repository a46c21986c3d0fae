"""Files on a machine and the shell people write around them: redirections,
here-documents, the file tools, sed and loops. Each script runs in netplex
(a fresh machine, in /tmp) and in real bash with the real tools (in an empty
scratch folder), and both must print the same, with the same status."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netplex.shell.interp import Shell

SCRIPTS = [
    # redirections
    "echo a > f; echo b >> f; cat f",
    "echo a > f; echo b > f; cat f",
    "echo out > f 2>&1; cat f",
    "{ echo out; echo err >&2; } > both 2>&1; cat both",
    "{ echo out; echo err >&2; } 2>&1 >only; echo ---; cat only",
    "{ echo out; echo err >&2; } &> all; cat all",
    "{ echo out; echo err >&2; } 2>errs >/dev/null; cat errs",
    "{ echo one; echo two; } 2>>log >>log; echo three >> log; cat log",
    "ls nosuch 2> e; echo $?; cat e",
    "echo x > nodir/f; echo $?",
    "mkdir d; echo x > d; echo $?",
    "cat < nosuch; echo $?",
    "printf 'b\\na\\n' > f; sort < f",
    "echo hi > f; wc -c < f; cat /dev/stdin < f",
    "echo data | cat > f; cat f",
    "for i in 1 2 3; do echo $i; done > f; wc -l < f",
    "i=0; while read x; do i=$((i+x)); done < nums; echo $i",
    "printf '1\\n2\\n3\\n' > nums; i=0; while read x; do i=$((i+x)); done < nums; echo $i",
    "cat > conf <<EOF\nname=$((1+1))\n\tindented\nEOF\ncat conf",
    "cat > conf <<'EOF'\n$HOME $(never)\nEOF\ncat conf",
    "cat <<EOF > out\nx\nEOF\ncat out",
    "tee t1 t2 <<< hello > /dev/null; cat t1 t2",
    "echo a | tee f; echo b | tee -a f >/dev/null; cat f",
    "echo a > f; . ./f 2>&1; echo $?",
    "echo 'x=5; y() { echo y$1; }' > lib.sh; . ./lib.sh; source lib.sh; echo $x; y 1",
    "echo 'echo args $# $1; return 4; echo no' > s.sh; source ./s.sh a b; echo $?",
    # file tools
    "mkdir a; mkdir a; mkdir b/c; mkdir -p a/b/c; ls a; ls -1 a/b",
    "touch f; mkdir -p f/x; echo $?",
    "mkdir -p x/y; touch x/y/z; ls x x/y; rmdir x; rmdir x/y; echo $?",
    "mkdir d; touch d/f; rm d; rm nosuch; rm -f nosuch; echo $?; rm -r d; ls",
    "touch a b c; rm a b; ls; rm; rm -f; echo $?",
    "echo hi > f; cp f g; cp nosuch x; mkdir d; cp d e; cp f d; ls d; cat g",
    "mkdir -p d/e; echo x > d/e/f; cp -r d d2; cat d2/e/f; cp -r d d2; ls d2",
    "echo x > f; mv f g; cat g; mv nosuch z; mkdir d; mv g d; ls d; mv d e; ls e",
    "touch a b; mkdir d; mv a b d; ls d; cp d/a d/b nosuchdir; echo $?",
    "touch .hidden vis; ls; ls -a; ls -A",
    "mkdir d; ls nosuch d; echo $?",
    "basename /a/b/c.txt .txt; basename /a/b/; basename c; basename -a x/y z/w; basename -s .c a.c b.c",
    "dirname a/b; dirname a; dirname /; dirname /a; dirname a/b/ c//d",
    "basename; dirname",
    "mkdir; rmdir; touch; cp; mv a; tee < /dev/null",
    "mkdir d; cat d; echo $?",
    # test
    "touch f; mkdir d; echo x > s; for p in f d s nosuch; do [ -e $p ] && echo e$p; [ -f $p ] && echo f$p; [ -d $p ] && echo d$p; [ -s $p ] && echo s$p; done",
    "[ -f nosuch ] || echo missing; test -d . && echo dot",
    # sed
    "printf 'a b\\nc d\\n' | sed 's/ /_/'",
    "printf 'aaa\\nbab\\n' | sed 's/a/x/g'",
    # a bracket expression is read whole: the delimiter may stand in it; an open one never ends
    "printf 'a/b]c\\n' | sed 's/[/]/X/'",
    "printf 'a/b]c\\n' | sed 's/[]/]/X/g'",
    "printf 'a/b\\nab\\n' | sed -n '/[/]/p'",
    "printf 'ab\\n' | sed 's/[[:alpha:]/]/X/'",
    "printf 'x[y\\n' | sed 's/[/Q/'",
    "printf 'x[y\\n' | sed -n '/[/p'",
    "printf 'aaa\\n' | sed 's/a/x/2'",
    "printf 'foo bar\\n' | sed 's/\\(foo\\) \\(bar\\)/\\2 \\1 [&]/'",
    "printf 'foo bar\\n' | sed -E 's/(o+) (b)/<\\1|\\2>/'",
    "printf '1\\n2\\n3\\n4\\n' | sed -n '2p'",
    "printf '1\\n2\\n3\\n4\\n' | sed '2,3d'",
    "printf '1\\n2\\n3\\n4\\n' | sed -n '$p'",
    "printf '1\\n2\\n3\\n4\\n' | sed '/2/,/3/d'",
    "printf '1\\n2\\n3\\n4\\n' | sed '2q'",
    "printf '1\\n2\\n3\\n4\\n' | sed -n '/3/{p}' 2>&1; echo $?",
    "printf '1\\n2\\n3\\n' | sed '2!d'",
    "printf '1\\n2\\n3\\n' | sed -e 1d -e 's/3/three/'",
    "printf '1\\n2\\n3\\n' | sed '1d;s/3/three/'",
    "printf 'a\\nb\\n' | sed -n 's/a/A/p'",
    "printf 'a\\nb' | sed 's/b/B/'",
    "printf 'x\\n' | sed 'a after'; printf 'x\\n' | sed 'i before'; printf 'x\\ny\\n' | sed '2c changed'",
    "printf 'abc\\n' | sed 'y/abc/xyz/'",
    "printf '1\\n2\\n3\\n4\\n5\\n' | sed -n '0~2p'; printf '1\\n2\\n3\\n' | sed -n '2,+1p'",
    "printf 'a\\nb\\n' | sed =",
    "printf 'Ab\\n' | sed 's/a/x/I'",
    "printf 'k=1\\nj=2\\n' > conf; sed -i 's/=1/=9/' conf; cat conf",
    "printf 'k=1\\n#c\\n' > conf; sed -i.bak '/^#/d' conf; cat conf conf.bak",
    "sed 's/a/b/' nosuch; echo $?",
    "echo x | sed 'k'; echo $?",
    "echo x | sed 's/x/y'; echo $?",
    "printf '1\\n2\\n' | sed 1q5; echo $?",
    # loops creating files
    "for n in 1 2 3; do echo node$n > f$n; done; cat f*; ls",
    "mkdir -p etc/iproute2; cat > etc/iproute2/rt_tables <<EOF\n100 blue\n200 red\nEOF\ngrep -c . etc/iproute2/rt_tables",
    "touch b.conf a.conf c.txt; echo *.conf; for f in *.conf; do echo [$f]; done; echo '*.conf' \"*\"; echo nomatch*",
    "mkdir d; cd d; basename $(pwd); touch x; cd ..; ls d; cd nosuch; echo $?",
    "case $(echo hi > f; cat f) in h*) echo matched;; esac",
]


def _real(script: str, workdir: Path) -> tuple[int, str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    p = subprocess.run(["bash", "-c", script], env=env, cwd=workdir, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def _sim(script: str) -> tuple[int, str, str]:
    shell = Shell()
    assert shell.run("cd /tmp").status == 0
    r = shell.run(script)
    return r.status, r.output, r.error


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("sed") is None, reason="needs bash and GNU tools")
@pytest.mark.parametrize("script", SCRIPTS)
def test_same_as_bash_and_coreutils(script: str, tmp_path: Path) -> None:
    assert _sim(script) == _real(script, tmp_path)
