"""Record how the real iptables 1.8.9 (nf_tables) answers mis-typed and edge commands.

Run as root on a machine with iptables 1.8.9 (Debian 12): each case runs in a
fresh network namespace of its own (`ip netns add npxrec-PID-N`, deleted after),
its setup lines first (output ignored), then its command through `sh -c`; the
exit status, standard output and standard error are written to cases.json.

    python3 tests/data/iptables-1.8.9-errors/record.py   # rewrites cases.json
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAVE = "iptables-save | grep -v '^#'"


def restore(text: str, flags: str = "") -> str:
    return f"printf '%b' '{text}' | iptables-restore{' ' + flags if flags else ''}"


def cases() -> list[dict]:
    out: list[dict] = []

    def add(cmd: str, setup: tuple[str, ...] = ()) -> None:
        out.append({"setup": list(setup), "cmd": cmd})

    ipt = "iptables"
    # -- commands with missing or wrong arguments
    for c in ("-A", "-D", "-I", "-R", "-N", "-E", "-P", "-C"):
        add(f"{ipt} {c}")
    for c in ("-A", "-D", "-I", "-R", "-C"):
        add(f"{ipt} {c} NOSUCH -j ACCEPT")
        add(f"{ipt} {c} INPUT -j NOSUCH")
    add(f"{ipt} -R INPUT -j ACCEPT")
    add(f"{ipt} -R INPUT 1 -j ACCEPT")
    add(f"{ipt} -R INPUT 0 -j ACCEPT")
    add(f"{ipt} -I INPUT 0 -j ACCEPT")
    add(f"{ipt} -I INPUT 3 -j ACCEPT")
    add(f"{ipt} -I INPUT x -j ACCEPT")
    add(f"{ipt} -D INPUT 1")
    add(f"{ipt} -D INPUT 2", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -D INPUT -j DROP", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -C INPUT -j DROP", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -C INPUT -j ACCEPT", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -E INPUT FOO")
    add(f"{ipt} -E foo bar")
    add(f"{ipt} -E foo", (f"{ipt} -N foo",))
    add(f"{ipt} -E foo bar", (f"{ipt} -N foo", f"{ipt} -N bar"))
    add(f"{ipt} -N foo", (f"{ipt} -N foo",))
    add(f"{ipt} -N INPUT")
    add(f"{ipt} -N ACCEPT")
    add(f"{ipt} -N DROP")
    add(f"{ipt} -N RETURN")
    add(f"{ipt} -N LOG")
    add(f"{ipt} -N -foo")
    add(f"{ipt} -N '!foo'")
    add(f"{ipt} -N 'a b'")
    add(f"{ipt} -N {'x' * 28}")
    add(f"{ipt} -N {'x' * 29}")
    add(f"{ipt} -N {'x' * 30}")
    for c in ("-X", "-F", "-Z", "-L", "-S"):
        add(f"{ipt} {c} NOSUCH")
        add(f"{ipt} {c} INPUT")
        add(f"{ipt} {c} INPUT", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -X INPUT", (f"{ipt} -P INPUT DROP",))
    add(f"{ipt} -X foo", (f"{ipt} -N foo", f"{ipt} -A INPUT -j foo"))
    add(f"{ipt} -X foo", (f"{ipt} -N foo", f"{ipt} -A foo -j ACCEPT"))
    add(f"{ipt} -X", (f"{ipt} -N foo", f"{ipt} -A INPUT -j foo"))
    add(f"{ipt} -X; {SAVE}", (f"{ipt} -N foo", f"{ipt} -A foo -j ACCEPT"))
    add(f"{ipt} -X; {SAVE}", (f"{ipt} -P FORWARD DROP", f"{ipt} -A OUTPUT -j ACCEPT", f"{ipt} -P INPUT ACCEPT"))
    add(f"{ipt} -P INPUT")
    add(f"{ipt} -P INPUT REJECT")
    add(f"{ipt} -P INPUT RETURN")
    add(f"{ipt} -P INPUT accept")
    add(f"{ipt} -P foo DROP", (f"{ipt} -N foo",))
    add(f"{ipt} -P NOSUCH DROP")
    add(f"{ipt} -t nat -P POSTROUTING DROP")
    add(f"{ipt} -t nat -P PREROUTING DROP")
    add(f"{ipt} -t nat -P INPUT ACCEPT; {SAVE}")
    add(f"{ipt} -t mangle -P PREROUTING DROP; {SAVE}")
    add(f"{ipt} -t raw -P OUTPUT DROP; {SAVE}")
    add(f"{ipt} -P INPUT DROP -j ACCEPT")
    add(f"{ipt} -P INPUT DROP -p tcp")
    add(f"{ipt} -L INPUT -p tcp")
    add(f"{ipt} -F -s 1.2.3.4")
    add(f"{ipt} -A INPUT -L")
    add(f"{ipt} -L -A INPUT")
    add(f"{ipt} -F -X")
    add(f"{ipt} -L -Z")
    add(f"{ipt} -Z -L")
    add(f"{ipt} -N foo -X foo")
    add(f"{ipt}")
    add(f"{ipt} -j ACCEPT")
    add(f"{ipt} INPUT")
    add(f"{ipt} -A INPUT foo")
    add(f"{ipt} -A INPUT -j ACCEPT extra")
    add(f"{ipt} --nosuch")
    add(f"{ipt} -y")
    add(f"{ipt} -A INPUT -y")
    add(f"{ipt} -A INPUT --append OUTPUT")
    add(f"{ipt} --app INPUT -j ACCEPT; {SAVE}")
    add(f"{ipt} --a INPUT -j ACCEPT")
    # -- tables
    for t in ("nosuch", "FILTER", "broute", ""):
        add(f"{ipt} -t '{t}' -L")
        add(f"{ipt} -t '{t}' -A INPUT -j ACCEPT")
    add(f"{ipt} -t")
    add(f"{ipt} -t filter -t nat -L")
    add(f"{ipt} -A INPUT -t nat -j ACCEPT")
    add(f"{ipt} -t nat -A FORWARD -j ACCEPT")
    add(f"{ipt} -t raw -A INPUT -j ACCEPT")
    add(f"{ipt} -t nat -L")
    add(f"{ipt} -t mangle -L -n")
    add(f"{ipt} -t raw -S")
    add(f"{ipt} -t security -L -v -n")
    add(f"{ipt} -t nat -L -v -n -x --line-numbers")
    add(f"{ipt} -F; {SAVE}")
    add(f"{ipt} -t raw -F; {SAVE}")
    add(f"{ipt} -Z; {SAVE}")
    add(f"{ipt} -L >/dev/null; {SAVE}")
    add(f"{ipt} -t nat -N foo; {SAVE}")
    add(f"{ipt} -F; {SAVE}", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{SAVE}", (f"{ipt} -t nat -N n", f"{ipt} -t raw -N r", f"{ipt} -N f", f"{ipt} -t mangle -N m",
                    f"{ipt} -t security -N s"))
    add(f"{SAVE}", (f"{ipt} -t security -N s", f"{ipt} -N f", f"{ipt} -t nat -N n"))
    add("iptables-save -t nosuch")
    add("iptables-save -t nat")
    add("iptables-save -t")
    add("iptables-save --bogus")
    add("iptables-save extra")
    # -- addresses, interfaces, protocols
    for a in ("1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/255.0.255.0", "1.2.3.4/x", "256.1.1.1", "1.2.3.4/",
              "1.2.3", "1.2.3.4.5", "::1", "1.2.3.4,5.6.7.8", "10.0.0.0/8,1.2.3.4/33", "/24", "0/0"):
        add(f"{ipt} -A INPUT -s {a} -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -d 1.2.3.4/99 -j ACCEPT")
    add(f"{ipt} -A INPUT -s 1.2.3.4 -s 5.6.7.8 -j ACCEPT")
    add(f"{ipt} -A INPUT -s")
    add(f"{ipt} -A INPUT ! -s 1.2.3.4 ! -d 5.6.7.8 -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT ! ! -s 1.2.3.4 -j ACCEPT")
    add(f"{ipt} -A INPUT -s ! 1.2.3.4 -j ACCEPT")
    add(f"{ipt} -A INPUT ! -j ACCEPT")
    add(f"{ipt} -A INPUT ! -m tcp -j ACCEPT")
    add(f"{ipt} -A INPUT -j ACCEPT !")
    add(f"{ipt} ! -A INPUT -j ACCEPT")
    add(f"{ipt} -A INPUT -i {'e' * 15} -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -i {'e' * 16} -j ACCEPT")
    add(f"{ipt} -A INPUT -i eth+ -o x -j ACCEPT")
    add(f"{ipt} -A OUTPUT -i eth0 -j ACCEPT")
    add(f"{ipt} -A INPUT -o eth0 -j ACCEPT")
    add(f"{ipt} -t nat -A POSTROUTING -i eth0 -j ACCEPT")
    add(f"{ipt} -t nat -A PREROUTING -o eth0 -j ACCEPT")
    add(f"{ipt} -A INPUT -i eth0 -i eth1 -j ACCEPT")
    add(f"{ipt} -A INPUT -i 'a b' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -i 'a/b' -j ACCEPT; {ipt} -S INPUT")
    for p in ("nosuch", "256", "-1", "0", "all", "TCP", "6", "ipv6-icmp", "icmpv6", "gre", "47", "255",
              "udplite", "sctp", ""):
        add(f"{ipt} -A INPUT -p '{p}' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -p tcp -p udp -j ACCEPT")
    add(f"{ipt} -A INPUT ! -p all -j ACCEPT")
    add(f"{ipt} -A INPUT ! -p 0 -j ACCEPT")
    add(f"{ipt} -A INPUT -f -f -j ACCEPT")
    add(f"{ipt} -A INPUT -f -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -j ACCEPT -j DROP")
    add(f"{ipt} -A INPUT -g foo -j ACCEPT", (f"{ipt} -N foo",))
    add(f"{ipt} -A INPUT -g INPUT")
    add(f"{ipt} -A INPUT -j INPUT")
    add(f"{ipt} -A INPUT -j OUTPUT")
    add(f"{ipt} -A INPUT -j")
    add(f"{ipt} -A INPUT -j ''")
    add(f"{ipt} -A INPUT -m")
    add(f"{ipt} -A INPUT -m nosuch")
    add(f"{ipt} -A INPUT -m ''")
    add(f"{ipt} -A INPUT -c 1 -j ACCEPT")
    add(f"{ipt} -A INPUT -c x 1 -j ACCEPT")
    add(f"{ipt} -A INPUT -c 1 x -j ACCEPT")
    add(f"{ipt} -A INPUT -c 5 6 -j ACCEPT; {ipt} -S INPUT -v")
    add(f"{ipt} -A foo -j foo", (f"{ipt} -N foo",))
    add(f"{ipt} -A INPUT -w 5 -j ACCEPT")
    add(f"{ipt} -A INPUT -W 5 -j ACCEPT")
    # -- match options with bad values
    tcp = f"{ipt} -A INPUT -p tcp"
    for v in ("-j", "99999", "65536", "0", "1:2:3", "5:1", "x", "http", "nosuchsvc", ":", "1:", ":5", "-1",
              "0x10", "1,2"):
        add(f"{tcp} --dport {v} -j ACCEPT; {ipt} -S INPUT")
    for v in ("-j", "99999", "x", "1:2:3"):
        add(f"{tcp} --sport {v} -j ACCEPT; {ipt} -S INPUT")
    add(f"{tcp} --dport")
    add(f"{tcp} --dport 1 --dport 2 -j ACCEPT")
    add(f"{tcp} --dport 1 --dst-port 2 -j ACCEPT")
    add(f"{ipt} -A INPUT --dport 22 -j ACCEPT")
    add(f"{ipt} -A INPUT -p udp --syn -j ACCEPT")
    add(f"{ipt} -A INPUT -p icmp --dport 1 -j ACCEPT")
    add(f"{tcp} --tcp-flags SYN -j ACCEPT")
    add(f"{tcp} --tcp-flags SYN,FOO SYN -j ACCEPT")
    add(f"{tcp} --tcp-flags ALL NONE -j ACCEPT; {ipt} -S INPUT")
    add(f"{tcp} --syn --tcp-flags SYN SYN -j ACCEPT")
    add(f"{tcp} ! --syn -j ACCEPT; {ipt} -S INPUT")
    add(f"{tcp} --syn ! -j ACCEPT")
    add(f"{tcp} --tcp-option x -j ACCEPT")
    add(f"{tcp} --tcp-option 256 -j ACCEPT")
    add(f"{ipt} -A INPUT -p udp --dport 99999 -j ACCEPT")
    for v in ("x", "1:99999", "http", "99999:1", "65536", "0x10", "1:2:3", "-1", "65535", "", "5:1", ":5", "3:"):
        add(f"{ipt} -A INPUT -p udp --dport '{v}' -j ACCEPT; {ipt} -S INPUT; {ipt} -L INPUT -n")
    add(f"{ipt} -A INPUT -p udp --sport -j ACCEPT")
    add(f"{ipt} -A INPUT -p udp -m tcp --dport 1 -j ACCEPT")
    for v in ("nosuch", "256", "8/256", "echo-request", "any", "3/x", "x/1", "", "8/0/0"):
        add(f"{ipt} -A INPUT -p icmp --icmp-type '{v}' -j ACCEPT; {ipt} -S INPUT")
    mp = f"{tcp} -m multiport"
    for v in ("--dports", "--dports x", "--dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
              "--dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", "--dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16",
              "--dports 1,,2", "--dports 2:1", "--ports 1 --dports 2", "--sports 1,99999", "--dports ,1"):
        add(f"{mp} {v} -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m multiport --dports 1 -j ACCEPT")
    add(f"{mp} --dports 1 --ports 2 -j ACCEPT")
    add(f"{mp} --sports 1 --dports 2 -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -j MARK --and-mark 1 --set-mark 2")
    add(f"{ipt} -A INPUT -m ttl --ttl-gt 1 --ttl-eq 2 -j ACCEPT")
    add(f"{ipt} -A INPUT -m dscp --dscp-class EF --dscp 1 -j ACCEPT")
    add(f"{ipt} -A INPUT -m state --state NEW,FOO,X -j ACCEPT")
    add(f"{ipt} -A INPUT -p icmp -m multiport --dports 1 -j ACCEPT")
    for v in ("zz", "00:11:22:33:44", "00:11:22:33:44:55:66", "00-11-22-33-44-55", "00:11:22:33:44:gg",
              "0:1:2:3:4:5", "000:11:22:33:44:55", ""):
        add(f"{ipt} -A INPUT -m mac --mac-source '{v}' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A OUTPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT")
    add(f"{ipt} -A INPUT -m mac -j ACCEPT")
    for v in ("x", "0x100000000", "1/x", "-1", "1/2/3", "0xffffffff/0xffffffff", "4294967296", ""):
        add(f"{ipt} -A INPUT -m mark --mark '{v}' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m mark -j ACCEPT")
    add(f"{ipt} -A INPUT -m connmark --mark x -j ACCEPT")
    for v in ("NEW,FOO", "", "new", "NEW,,ESTABLISHED", "INVALID,UNTRACKED"):
        add(f"{ipt} -A INPUT -m state --state '{v}' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m state -j ACCEPT")
    for v in ("--ctstate FOO", "--ctstatus FOO", "--ctproto x", "--ctorigsrc 1.2.3.4/33",
              "--ctexpire x", "--ctexpire 5:1", "--ctdir FOO", "--ctstate NEW,DNAT", "--ctorigsrcport 99999"):
        add(f"{ipt} -A INPUT -m conntrack {v} -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m conntrack -j ACCEPT")
    for v in ("1.2.3.0/24", "1.2.3.4/40", "1.2.3.4/x", "1.2.3.4/255.255.0.0", "1.2.3.4/0"):  # (a name would need DNS)
        add(f"{ipt} -A INPUT -m conntrack --ctorigdst {v} -j ACCEPT; {ipt} -S INPUT; {ipt} -L INPUT -n")
    for v in ("http", "x", "0x10", "65536", "1:2", "5:1", "1:2:3"):
        add(f"{ipt} -A INPUT -m conntrack --ctorigdstport {v} -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m comment --comment {'c' * 255} -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m comment --comment {'c' * 256} -j ACCEPT")
    add(f"{ipt} -A INPUT -m comment --comment 'a b' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m comment --comment '\"q\"' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m comment --comment \"it's\" -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m comment --comment 'back\\slash' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m comment -j ACCEPT")
    add(f"{ipt} -A INPUT -m comment --comment a --comment b -j ACCEPT")
    for v in ("x", "0/s", "1/x", "1/fortnight", "10000/s", "1/second", "3/min", "1/d", "4294967296/s"):
        add(f"{ipt} -A INPUT -m limit --limit '{v}' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m limit --limit-burst 0 -j ACCEPT")
    add(f"{ipt} -A INPUT -m limit --limit-burst x -j ACCEPT")
    add(f"{ipt} -A INPUT -m limit --limit-burst 10001 -j ACCEPT")
    for v in ("x", "65536", "5:1", "1:2:3", ":", "-1"):
        add(f"{ipt} -A INPUT -m length --length '{v}' -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m tos --tos x -j ACCEPT")
    add(f"{ipt} -A INPUT -m tos --tos 256 -j ACCEPT")
    add(f"{ipt} -A INPUT -m dscp --dscp 64 -j ACCEPT")
    add(f"{ipt} -A INPUT -m dscp --dscp-class XX -j ACCEPT")
    add(f"{ipt} -A INPUT -m dscp --dscp 1 --dscp-class EF -j ACCEPT")
    add(f"{ipt} -A INPUT -m ttl --ttl-eq 256 -j ACCEPT")
    add(f"{ipt} -A INPUT -m ttl --ttl-eq 1 --ttl-gt 2 -j ACCEPT")
    add(f"{ipt} -A INPUT -m ttl -j ACCEPT")
    add(f"{ipt} -A INPUT -m pkttype --pkt-type foo -j ACCEPT")
    add(f"{ipt} -A INPUT -m owner --uid-owner 0 -j ACCEPT")
    add(f"{ipt} -A OUTPUT -m owner --uid-owner nosuchuser -j ACCEPT")
    add(f"{ipt} -A INPUT -m addrtype --src-type FOO -j ACCEPT")
    add(f"{ipt} -A INPUT -m addrtype --limit-iface-out -j ACCEPT")
    add(f"{ipt} -A INPUT -m iprange --src-range 1.2.3.4 -j ACCEPT")
    add(f"{ipt} -A INPUT -m iprange --src-range 1.2.3.4-x -j ACCEPT")
    add(f"{ipt} -A INPUT -m iprange --src-range 1.2.3.9-1.2.3.1 -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m statistic --mode random --probability 2 -j ACCEPT")
    add(f"{ipt} -A INPUT -m statistic --mode nth -j ACCEPT")
    add(f"{ipt} -A INPUT -m statistic --mode foo -j ACCEPT")
    # -- targets with bad values
    for v in ("1234567890123456789012345678901234567890", "x" * 29, "x" * 30, "x" * 127, "x" * 128, "x" * 129,
              "'a b'", "''"):
        add(f"{ipt} -A INPUT -j LOG --log-prefix {v}; {ipt} -S INPUT")
    for v in ("8", "x", "emerg", "-1", "warning", "debug", "7"):
        add(f"{ipt} -A INPUT -j LOG --log-level {v}; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -j LOG --log-tcp-sequence --log-uid; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -j LOG --log-prefix")
    for v in ("foo", "tcp-reset", "icmp-host-unreachable", "host-unreach", "icmp6-no-route", ""):
        add(f"{ipt} -A INPUT -j REJECT --reject-with '{v}'; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -p tcp -j REJECT --reject-with tcp-reset; {ipt} -S INPUT")
    for v in ("icmp", "tcp", "ICMP-HOST", "host", "net-pro", "icmp-port-unreachable-x", "admin"):
        add(f"{ipt} -A INPUT -p tcp -j REJECT --reject-with '{v}'; {ipt} -S INPUT")
    add(f"{ipt} -A INPUT -m comment --comment {'c' * 300} -j ACCEPT; {ipt} -S INPUT")
    for v in ("5:x", "1:2:3", "70000000000", "3:1"):
        add(f"{ipt} -A INPUT -m conntrack --ctexpire {v} -j ACCEPT; {ipt} -S INPUT")
    add(f"{ipt} -t nat -A PREROUTING -j REJECT")
    add(f"{ipt} -t mangle -A PREROUTING -j REJECT")
    add(f"{ipt} -A INPUT -j MARK --set-mark x")
    add(f"{ipt} -A INPUT -j MARK")
    add(f"{ipt} -A INPUT -j MARK --set-mark 1 --and-mark 2")
    add(f"{ipt} -t mangle -A PREROUTING -j MARK --set-mark 1; {ipt} -t mangle -S PREROUTING")
    add(f"{ipt} -t mangle -A PREROUTING -j CONNMARK")
    add(f"{ipt} -t mangle -A PREROUTING -j CONNMARK --set-mark x")
    add(f"{ipt} -A INPUT -j DNAT --to-destination 1.2.3.4")
    add(f"{ipt} -t nat -A PREROUTING -j DNAT")
    add(f"{ipt} -t nat -A PREROUTING -j DNAT --to-destination x")
    add(f"{ipt} -t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4:80")
    add(f"{ipt} -t nat -A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:99999")
    add(f"{ipt} -t nat -A POSTROUTING -j DNAT --to-destination 1.2.3.4")
    add(f"{ipt} -t nat -A PREROUTING -j SNAT --to-source 1.2.3.4")
    add(f"{ipt} -t nat -A POSTROUTING -j SNAT")
    add(f"{ipt} -t nat -A POSTROUTING -j MASQUERADE --to-ports 1")
    add(f"{ipt} -A INPUT -j MASQUERADE")
    add(f"{ipt} -t nat -A PREROUTING -p tcp -j REDIRECT --to-ports x")
    add(f"{ipt} -t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 8080; {ipt} -t nat -S OUTPUT")
    add(f"{ipt} -A INPUT -j TOS --set-tos 1")
    add(f"{ipt} -t mangle -A PREROUTING -j TOS --set-tos x")
    add(f"{ipt} -t mangle -A PREROUTING -j DSCP --set-dscp 64")
    add(f"{ipt} -A INPUT -j CLASSIFY --set-class 1:1")
    add(f"{ipt} -t mangle -A POSTROUTING -j CLASSIFY --set-class x")
    add(f"{ipt} -A INPUT -j ACCEPT --log-prefix x")
    add(f"{ipt} -A INPUT -j DROP --reject-with foo")
    # -- listing
    add(f"{ipt} -L -n -v", (restore('*filter\\n:INPUT DROP [0:0]\\n-A INPUT -j ACCEPT\\nCOMMIT\\n'),))
    add(f"{ipt} -S -v")
    add(f"{ipt} -L INPUT 1", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -L INPUT 5", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -L INPUT x")
    add(f"{ipt} -S INPUT 2", (f"{ipt} -A INPUT -j ACCEPT",))
    add(f"{ipt} -L -n --line-numbers", (f"{ipt} -A INPUT -j ACCEPT", f"{ipt} -A INPUT -j DROP"))
    add(f"{ipt} -L -x -v -n")
    add(f"{ipt} -n")
    add(f"{ipt} -v")
    add(f"{ipt} -L -s 1.2.3.4")
    add(f"{ipt} --version")
    add(f"{ipt} -V")
    # -- iptables-restore
    add(restore("*nosuch\\nCOMMIT\\n"))
    add(restore("*filter\\nCOMMIT\\n*bogus\\nCOMMIT\\n"))
    add(restore("*filter\\r\\n:INPUT ACCEPT [0:0]\\r\\nCOMMIT\\r\\n"))
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\r\\nCOMMIT\\n"))
    add(restore("*filter\\n-A INPUT -j ACCEPT\\r\\nCOMMIT\\n"))
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT \\n"))
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\t\\n"))
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\n COMMIT\\n"))
    add(restore("*filter \\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\n"))
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\nCOMMIT\\n"))
    add(restore(":INPUT ACCEPT [0:0]\\n"))
    add(restore("-A INPUT -j ACCEPT\\n"))
    add(restore("*filter\\n*nat\\nCOMMIT\\n"))
    add(restore("*filter\\n:INPUT FOO [0:0]\\nCOMMIT\\n"))
    add(restore("*filter\\n:INPUT\\nCOMMIT\\n"))
    add(restore("*filter\\n:\\nCOMMIT\\n"))
    add(restore("*filter\\n:foo ACCEPT [0:0]\\nCOMMIT\\n"))
    add(restore("*filter\\n:foo - [0:0]\\n:foo - [0:0]\\nCOMMIT\\n"))
    add(restore("*filter\\n:INPUT ACCEPT [x:0]\\nCOMMIT\\n", "-c"))
    add(restore("*filter\\n:INPUT ACCEPT [1:2]\\nCOMMIT\\n", "-c") + "; iptables-save -c | grep -v '^#'")
    add(restore("*filter\\n:INPUT ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n:INPUT ACCEPT [1:2\\nCOMMIT\\n"))
    add(restore("*filter\\n[1:2] -A INPUT -j ACCEPT\\nCOMMIT\\n", "-c") + "; iptables-save -c | grep -v '^#'")
    add(restore("*filter\\n[1:x] -A INPUT -j ACCEPT\\nCOMMIT\\n", "-c"))
    add(restore("*filter\\n[1:2 -A INPUT -j ACCEPT\\nCOMMIT\\n", "-c"))
    add(restore("*filter\\n-A INPUT -j ACCEPT -c 1 2\\nCOMMIT\\n", "-c") + "; iptables-save -c | grep -v '^#'")
    add(restore("*filter\\n-A NOSUCH -j ACCEPT\\nCOMMIT\\n"))
    add(restore("*filter\\n-A INPUT -j NOSUCH\\nCOMMIT\\n"))
    add(restore("*filter\\n-A INPUT -p tcp --dport 99999 -j ACCEPT\\nCOMMIT\\n"))
    add(restore("*filter\\n-t nat -A INPUT -j ACCEPT\\nCOMMIT\\n"))
    add(restore("*filter\\n-t filter -A INPUT -j ACCEPT\\nCOMMIT\\n"))
    add(restore("*filter\\n-A INPUT -j ACCEPT\\n-P INPUT DROP\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-N foo\\n-A foo -j ACCEPT\\n-X foo\\nCOMMIT\\n"))
    add(restore("*filter\\n-L\\nCOMMIT\\n"))
    add(restore("*filter\\nfoo\\nCOMMIT\\n"))
    add(restore("*filter\\n# comment\\n\\n-A INPUT -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -m comment --comment \"a b\" -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -m comment --comment \"a \\\\\"b\\\\\" c\" -j ACCEPT\\nCOMMIT\\n")
        + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -j LOG --log-prefix \"\\\\\\\\'\"'\"'[IN]\\\\\\\\'\"'\"'\"\\nCOMMIT\\n")
        + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -j LOG --log-prefix \"[IN] \"\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -j LOG --log-prefix \"a\\nCOMMIT\\n"))
    add(restore("*filter\\n-A INPUT -j LOG --log-prefix a\"b\"c\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -m comment --comment \"\" -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -m comment --comment \"x\"\"y\" -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -m comment --comment \\\\\\\\x -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -m comment --comment \"tab\\there\" -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -m comment --comment 'single quoted' -j ACCEPT\\nCOMMIT\\n".replace("'", "'\"'\"'"))
        + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT   -j    ACCEPT  \\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD DROP [0:0]\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\nCOMMIT\\n") + f"; {SAVE}", (f"{ipt} -A INPUT -j ACCEPT",))
    add(restore("*nat\\n:PREROUTING DROP [0:0]\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*nat\\n:foo - [0:0]\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*raw\\n-A PREROUTING -j ACCEPT\\nCOMMIT\\n*mangle\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\n", "-t") + f"; {SAVE}")
    add(restore("*filter\\nCOMMIT\\n", "-T"))
    add(restore("*filter\\nCOMMIT\\n", "-T nosuch"))
    add(restore("*filter\\nCOMMIT\\n", "--bogus"))
    add(restore("*filter\\nCOMMIT\\n", "-x"))
    add("iptables-restore /nonexistent/file")
    add(restore("*filter\\n   \\n-A INPUT -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n  # indented comment\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n\\t-A INPUT -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -j ACCEPT\\nCOMMIT") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -j ACCEPT # trailing\\nCOMMIT\\n"))
    add(restore("# only a comment\\n"))
    add(restore(""))
    add(restore("*filter\\n-A INPUT -i a/b -m iprange --src-range 1.2.3.9-1.2.3.1\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n-A INPUT -p udp --dport -j ACCEPT\\nCOMMIT\\n"))
    add(restore("*filter\\n-A INPUT -m state --state new -j ACCEPT\\nCOMMIT\\n") + f"; {SAVE}")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\n-A INPUT -j ACCEPT\\n:OUTPUT DROP [0:0]\\nCOMMIT\\n") + f"; {SAVE}")
    # -- policy counters (pings on lo count the policy of declared chains)
    ping = "ip link set lo up; ping -c 2 -W 1 127.0.0.1 >/dev/null; iptables-save -c | grep '^:'"
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\n") + f"; {ping}")
    add(restore("*filter\\n-A OUTPUT -j ACCEPT\\nCOMMIT\\n") + f"; {ping}")
    add(f"{ipt} -A INPUT -j ACCEPT; {ipt} -D INPUT 1; {ping}")
    add(f"{ipt} -A INPUT -j ACCEPT; {ipt} -D INPUT 1; {ipt} -P INPUT ACCEPT; {ping}")
    add(f"{ipt} -A INPUT -j ACCEPT; {ipt} -D INPUT 1; {ipt} -Z; {ping}")
    add(f"{ipt} -A INPUT -j ACCEPT; {ipt} -D INPUT 1; {ipt} -Z INPUT; {ping}")
    add(f"{ipt} -A INPUT -j ACCEPT; {ipt} -D INPUT 1; {ipt} -F; {ping}")
    add(f"{ipt} -A INPUT -j ACCEPT; {ipt} -D INPUT 1; {ipt} -Z OUTPUT; {ping}")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n") + f"; {ipt} -X; {ping}")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n") + f"; {ipt} -F; {ping}")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\n") + f"; {ping}; {ipt} -P INPUT ACCEPT; {ipt} -L INPUT -v")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\n") + f"; {ping}; {ipt} -P INPUT DROP -c 7 8; {ipt} -S -v")
    add(restore("*filter\\n:INPUT ACCEPT [0:0]\\nCOMMIT\\n", "-n") + f"; {ping}",
        (f"{ipt} -A INPUT -j ACCEPT", f"{ipt} -D INPUT 1"))
    # which built-in chains exist after each way of creating a table (-Z CHAIN fails on a missing one)
    probe = "; ".join(f"{ipt} -Z {ch}; echo $?" for ch in ("INPUT", "FORWARD", "OUTPUT"))
    for first in (f"{ipt} -N foo", f"{ipt} -A FORWARD -j ACCEPT", f"{ipt} -I OUTPUT -j ACCEPT",
                  f"{ipt} -P INPUT DROP", f"{ipt} -F", f"{ipt} -L", f"{ipt} -Z",
                  restore("*filter\\n:foo - [0:0]\\nCOMMIT\\n"), restore("*filter\\n-A INPUT -j ACCEPT\\nCOMMIT\\n"),
                  f"{ipt} -A INPUT -j ACCEPT; {ipt} -X", f"{ipt} -A INPUT -j ACCEPT; {ipt} -F; {ipt} -X",
                  f"{ipt} -N foo; {ipt} -E foo bar"):
        add(f"{first}; {probe}")
    return out


def record(case: dict, k: int) -> dict:
    ns = f"npxrec-{os.getpid()}-{k}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for line in case["setup"]:
            subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", line], capture_output=True)
        p = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", case["cmd"]], capture_output=True, timeout=30)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=True)
    return {**case, "status": p.returncode, "stdout": p.stdout.decode(), "stderr": p.stderr.decode()}


def main() -> int:
    ver = subprocess.run(["iptables", "--version"], capture_output=True, text=True).stdout.strip()
    if ver != "iptables v1.8.9 (nf_tables)":
        print(f"needs iptables v1.8.9 (nf_tables), found {ver!r}", file=sys.stderr)
        return 1
    out = [record(c, k) for k, c in enumerate(cases())]
    (HERE / "cases.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out)} cases recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
