"""The iptables command: listing formats, errors, chain operations, exactly as iptables 1.8.9 (nf_tables)."""
from __future__ import annotations

import pytest

from netplex import Network

HINT = "Try `iptables -h' or 'iptables --help' for more information.\n"


@pytest.fixture
def node():
    return Network().add_node("n")


def out(node, line: str) -> str:
    r = node.run(line)
    assert r.status == 0, r.error
    return r.output


def test_empty_listing(node) -> None:
    assert out(node, "iptables -L") == (
        "Chain INPUT (policy ACCEPT)\n"
        "target     prot opt source               destination         \n\n"
        "Chain FORWARD (policy ACCEPT)\n"
        "target     prot opt source               destination         \n\n"
        "Chain OUTPUT (policy ACCEPT)\n"
        "target     prot opt source               destination         \n")
    assert out(node, "iptables -S") == "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
    assert out(node, "iptables-save") == ""   # no table exists until something is written


def test_list_formats(node) -> None:
    for line in ("iptables -A INPUT -p tcp --dport 22 -j DROP", "iptables -N foo", "iptables -A foo -j RETURN",
                 "iptables -A INPUT -j foo"):
        out(node, line)
    assert out(node, "iptables -L INPUT") == (
        "Chain INPUT (policy ACCEPT)\n"
        "target     prot opt source               destination         \n"
        "DROP       tcp  --  anywhere             anywhere             tcp dpt:ssh\n"
        "foo        all  --  anywhere             anywhere            \n")
    assert out(node, "iptables -L INPUT -v -n --line-numbers") == (
        "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
        "num   pkts bytes target     prot opt in     out     source               destination         \n"
        "1        0     0 DROP       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22\n"
        "2        0     0 foo        0    --  *      *       0.0.0.0/0            0.0.0.0/0           \n")
    assert out(node, "iptables -L foo -v -n -x") == (
        "Chain foo (1 references)\n"
        "    pkts      bytes target     prot opt in     out     source               destination         \n"
        "       0        0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           \n")
    assert out(node, "iptables -S") == (
        "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N foo\n"
        "-A INPUT -p tcp -m tcp --dport 22 -j DROP\n-A INPUT -j foo\n-A foo -j RETURN\n")
    assert out(node, "iptables -S INPUT 1") == "-A INPUT -p tcp -m tcp --dport 22 -j DROP\n"


def test_inversions_and_normalisation(node) -> None:
    out(node, "iptables -A INPUT -p tcp -i eth0 -d 1.2.3.4 -s 5.6.7.8/16 ! -f -j ACCEPT")
    out(node, "iptables -A INPUT ! -p udp ! -i veth+ ! -s 10.0.0.0/255.255.0.255 ! -d 1.1.1.1 -f -j DROP")
    out(node, "iptables -A OUTPUT -p 47 -o lo")
    assert out(node, "iptables -S") == (
        "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
        "-A INPUT -s 5.6.0.0/16 -d 1.2.3.4/32 -i eth0 -p tcp ! -f -j ACCEPT\n"
        "-A INPUT ! -s 10.0.0.0/255.255.0.255 ! -d 1.1.1.1/32 ! -i veth+ ! -p udp -f -j DROP\n"
        "-A OUTPUT -o lo -p gre\n")
    assert out(node, "iptables -L INPUT -v") .splitlines()[2:] == [
        "    0     0 ACCEPT     tcp  !f  eth0   any     5.6.0.0/16           1.2.3.4             ",
        "    0     0 DROP      !udp  -f  !veth+ any    !10.0.0.0/255.255.0.255 !1.1.1.1             "]


@pytest.mark.parametrize("line,status,err", [
    ("iptables -A INPUT -o eth0 -j ACCEPT", 2, "iptables v1.8.9 (nf_tables): Can't use -o with INPUT\n\n" + HINT),
    ("iptables -A FOO -j ACCEPT", 1, "iptables: No chain/target/match by that name.\n"),
    ("iptables -A INPUT -j FOO", 2, "iptables v1.8.9 (nf_tables): Chain 'FOO' does not exist\n" + HINT),
    ("iptables -D INPUT 5", 1, "iptables: No chain/target/match by that name.\n"),  # INPUT does not exist yet
    ("iptables -P INPUT ACCEPT; iptables -D INPUT 5", 1, "iptables: Index of deletion too big.\n"),
    ("iptables -D INPUT -p udp -j DROP", 1, "iptables: Bad rule (does a matching rule exist in that chain?).\n"),
    ("iptables -X INPUT", 1, "iptables: No chain/target/match by that name.\n"),  # INPUT does not exist yet
    ("iptables -N INPUT", 1, "iptables: Chain already exists.\n"),
    ("iptables -P foo DROP", 1, "iptables: Bad built-in chain name.\n"),
    ("iptables -P INPUT FOO", 1, "iptables: Bad policy name. Run `dmesg' for more information.\n"),
    ("iptables -A INPUT -p tcp --dport 70000 -j DROP", 2,
     "iptables v1.8.9 (nf_tables): invalid port/service `70000' specified\n" + HINT),
    ("iptables -A INPUT -m foo", 2,
     "iptables v1.8.9 (nf_tables): Couldn't load match `foo':No such file or directory\n\n" + HINT),
    ("iptables -A INPUT -s 1.2.3.400", 2, "iptables v1.8.9 (nf_tables): host/network `1.2.3.400' not found\n" + HINT),
    ("iptables -A INPUT -p bla", 2, 'iptables v1.8.9 (nf_tables): unknown protocol "bla" specified\n' + HINT),
    ("iptables -A INPUT --foo", 2, 'iptables v1.8.9 (nf_tables): unknown option "--foo"\n' + HINT),
    ("iptables -A", 2, 'iptables v1.8.9 (nf_tables): option "-A" requires an argument\n' + HINT),
    ("iptables -I INPUT 9 -j ACCEPT", 1, "iptables: Index of insertion too big.\n"),
    ("iptables -R INPUT 9 -j ACCEPT", 1, "iptables: No chain/target/match by that name.\n"),
    ("iptables -P INPUT ACCEPT; iptables -R INPUT 9 -j ACCEPT", 1, "iptables: Index of replacement too big.\n"),
    ("iptables -L nope", 1,
     "iptables v1.8.9 (nf_tables): chain `nope' in table `filter' is incompatible, use 'nft' tool.\n"),
    ("iptables -t bogus -L", 3,
     "iptables v1.8.9 (nf_tables): table 'bogus' does not exist\nPerhaps iptables or your kernel needs to be upgraded.\n"),
    ("iptables -A INPUT -j ACCEPT extra", 2, "Bad argument `extra'\n" + HINT),
    ("iptables -A INPUT -s 1.2.3.4 -s 2.3.4.5", 2, "iptables v1.8.9 (nf_tables): multiple -s flags not allowed\n" + HINT),
    ("iptables -A INPUT -j DNAT --to-destination 1.2.3.4", 4,
     "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n"),
    ("iptables -A INPUT -m tcp --dport 1", 2, "iptables v1.8.9 (nf_tables): TCP match requires '-p tcp'\n" + HINT),
    ("iptables -A INPUT ! -j ACCEPT", 2, "iptables v1.8.9 (nf_tables): cannot have ! before -j\n" + HINT),
    ("iptables -I INPUT 0 -j ACCEPT", 2, "iptables v1.8.9 (nf_tables): Invalid rule number `0'\n" + HINT),
    ("iptables -A INPUT ! -p 0", 2, "iptables v1.8.9 (nf_tables): rule would never match protocol\n" + HINT),
    ("iptables -A INPUT -D INPUT", 2, "iptables v1.8.9 (nf_tables): Cannot use -D with -A\n" + HINT),
    ("iptables", 2, "iptables v1.8.9 (nf_tables): no command specified\n" + HINT),
    ("iptables -N -foo", 2, "iptables v1.8.9 (nf_tables): chain name not allowed to start with `-'\n" + HINT),
    ("iptables -N ACCEPT", 2, "iptables v1.8.9 (nf_tables): chain name may not clash with target name\n" + HINT),
    ("iptables -L -s 1.2.3.4", 2, "iptables v1.8.9 (nf_tables): Illegal option `-s' with this command\n" + HINT),
    ("iptables -A INPUT -p udp --dport 1 --dport 2", 2,
     'iptables v1.8.9 (nf_tables): udp: option "--destination-port" can only be used once.\n\n' + HINT),
])
def test_errors_exact_and_nothing_changes(node, line, status, err) -> None:
    before = out(node, "iptables -S")
    r = node.run(line)
    assert (r.status, r.error) == (status, err)
    assert out(node, "iptables -S") == before


def test_chain_operations(node) -> None:
    out(node, "iptables -N x")
    out(node, "iptables -A x -j ACCEPT")
    assert node.run("iptables -X x").status == 4          # not empty
    out(node, "iptables -E x y")
    out(node, "iptables -A INPUT -j y")
    out(node, "iptables -E y z")
    assert out(node, "iptables -S INPUT") == "-P INPUT ACCEPT\n-A INPUT -j z\n"
    out(node, "iptables -F z")
    assert node.run("iptables -X z").status == 4          # still referenced
    out(node, "iptables -D INPUT -j z")
    out(node, "iptables -X z")
    out(node, "iptables -A INPUT -d 10.1.2.3/8 -j ACCEPT")
    out(node, "iptables -C INPUT -d 10.9.9.9/255.0.0.0 -j ACCEPT")
    out(node, "iptables -I INPUT -j DROP")
    out(node, "iptables -I INPUT 2 -p tcp -j ACCEPT")
    out(node, "iptables -R INPUT 1 -p udp -j ACCEPT")
    assert out(node, "iptables -S INPUT") == (
        "-P INPUT ACCEPT\n-A INPUT -p udp -j ACCEPT\n-A INPUT -p tcp -j ACCEPT\n-A INPUT -d 10.0.0.0/8 -j ACCEPT\n")
    out(node, "iptables -D INPUT 2")
    out(node, "iptables -P FORWARD DROP")
    assert out(node, "iptables -S") == (
        "-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n-A INPUT -p udp -j ACCEPT\n"
        "-A INPUT -d 10.0.0.0/8 -j ACCEPT\n")


def test_chain_name_after_options_is_a_bad_argument(node) -> None:
    # getopt leaves the optional chain name only right after -L; iptables 1.8.9 refuses it later
    r = node.run("iptables -L -v -n INPUT")
    assert (r.status, r.error) == (2, "Bad argument `INPUT'\n" + HINT)


def test_getopt_forms(node) -> None:
    out(node, "iptables -t filter -w -A INPUT -p tcp --dpo 22 -j ACCEPT")   # unique prefix of --dport
    out(node, "iptables -A INPUT -p tcp -m tcp --dport=23")
    out(node, "iptables -tfilter -A INPUT --protocol udp --source-port 53")
    assert out(node, "iptables -S INPUT") == (
        "-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 23\n"
        "-A INPUT -p udp -m udp --sport 53\n")
    assert out(node, "iptables -nvL INPUT").startswith("Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n")


def test_aliases_and_tables(node) -> None:
    out(node, "iptables-nft -t mangle -A PREROUTING -j MARK --set-mark 1")
    out(node, "iptables-legacy -t raw -A OUTPUT -j TRACE")
    assert out(node, "iptables -t mangle -S PREROUTING") == (
        "-P PREROUTING ACCEPT\n-A PREROUTING -j MARK --set-xmark 0x1/0xffffffff\n")
    assert out(node, "iptables -t raw -S") == "-P PREROUTING ACCEPT\n-P OUTPUT ACCEPT\n-A OUTPUT -j TRACE\n"
