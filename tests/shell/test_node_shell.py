"""The shell on a simulated node (`node.cmd`), as setup scripts use it: files on
the machine, /proc/sys writes, background daemons in the process table, the
guards that keep a script from hanging the simulator."""
from __future__ import annotations

from netplex.network import Network
from netplex.shell.interp import MAX_LOOP_ITERATIONS


def _node():  # type: ignore[no-untyped-def]
    net = Network()
    return net.add_node("h1")


def test_files_live_on_the_machine_and_are_shared_by_its_namespaces() -> None:
    h = _node()
    assert h.cmd("mkdir -p /etc/app && echo 'port=80' > /etc/app/app.conf") == ""
    assert h.machine.fs.read("/etc/app/app.conf") == b"port=80\n"
    assert h.cmd("ip netns add red; ip netns exec red cat /etc/app/app.conf") == "port=80\n"
    assert h.cmd("ls /run/netns") == "red\n"
    assert h.cmd("cat /etc/nosuch; cat /etc") == ("cat: /etc/nosuch: No such file or directory\n"
                                                  "cat: /etc: Is a directory\n")
    assert h.cmd("cd /etc/app; cat app.conf; pwd") == "port=80\n/etc/app\n"


def test_rt_tables_written_by_a_here_document_name_a_table() -> None:
    h = _node()
    r = h.run("mkdir -p /etc/iproute2\ncat >> /etc/iproute2/rt_tables <<EOF\n100 blue\nEOF\n"
              "ip rule add from 10.1.0.0/16 lookup blue && ip rule show | grep -c blue")
    assert (r.status, r.output, r.error) == (0, "1\n", "")


def test_proc_sys_writes_set_the_sysctl() -> None:
    h = _node()
    assert h.cmd("echo 1 > /proc/sys/net/ipv4/ip_forward; sysctl -n net.ipv4.ip_forward") == "1\n"
    r = h.run("echo 1 > /proc/sys/net/ipv4/nosuch")
    assert (r.status, r.error) == (1, "bash: line 1: /proc/sys/net/ipv4/nosuch: No such file or directory\n")
    r = h.run("echo 1 > /sys/class/net/lo/mtu")
    assert r.status == 2 and "writing /sys/class/net/lo/mtu is not supported" in r.error


def test_a_loop_of_veths_and_globbing_over_files() -> None:
    h = _node()
    assert h.cmd("for i in $(seq 1 10); do ip link add v$i type veth peer name p$i; done; "
                 "ip -o link show type veth | wc -l") == "20\n"
    assert h.cmd("cd /tmp && touch b.rules a.rules x.txt && echo *.rules /tmp/*.txt *.none") == \
        "a.rules b.rules /tmp/x.txt *.none\n"


def test_background_daemon_is_a_process_kill_and_wait() -> None:
    h = _node()
    out = h.cmd("docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 10.0.0.2 "
                "-container-port 80 & echo $!; pidof docker-proxy")
    pid, pidof = out.split()
    assert pid == pidof
    assert h.cmd(f"kill {pid}; wait {pid}; echo $?") == "143\n"
    assert h.cmd("false & wait $!; echo $? $!") .split()[0] == "1"
    r = h.run("docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8081 -container-ip 10.0.0.2 "
              "-container-port 80 & wait")
    assert r.status == 2 and "a daemon that is still running, would never return" in r.error


def test_endless_loops_and_recursion_are_stopped_with_a_message() -> None:
    h = _node()
    r = h.run("while true; do :; done; echo never")
    assert (r.status, r.output) == (2, "")
    assert r.error == (f"netplex: loop stopped after {MAX_LOOP_ITERATIONS} iterations: netplex does not run "
                       "loops that never end (they would hang the simulation)\n")
    r = h.run("f() { f; }; f")
    assert (r.status, r.error) == (2, "netplex: f: functions nested deeper than 40 calls\n")


def test_iptables_restore_and_save_through_files() -> None:
    h = _node()
    h.cmd("iptables -A INPUT -s 10.0.0.0/8 -j DROP; iptables-save > /etc/rules.v4; iptables -F")
    assert h.cmd("iptables-restore < /etc/rules.v4 && iptables -S INPUT") == \
        "-P INPUT ACCEPT\n-A INPUT -s 10.0.0.0/8 -j DROP\n"
    assert h.cmd("iptables -F; iptables-restore /etc/rules.v4 && iptables -S INPUT | tail -1") == \
        "-A INPUT -s 10.0.0.0/8 -j DROP\n"


def test_modelled_proc_and_sys_folders_list_and_glob() -> None:
    net = Network()
    h = net.add_node("h1")
    net.add_node("h2")
    net.add_link("h1:eth0", "h2:eth0")
    assert h.cmd("ls /sys/class/net") == "eth0\nlo\n"
    assert h.cmd("for d in /sys/class/net/*; do echo $(basename $d) $(cat $d/mtu); done") == "eth0 1500\nlo 65536\n"
    h.cmd("ip link add eth0.100 link eth0 type vlan id 100")
    assert h.cmd("ls /proc/sys/net/ipv4/conf") == "all\ndefault\neth0\neth0.100\nlo\n"
    assert h.cmd("echo /proc/sys/net/ipv4/conf/e*/forwarding") == \
        "/proc/sys/net/ipv4/conf/eth0.100/forwarding /proc/sys/net/ipv4/conf/eth0/forwarding\n"
    assert h.cmd("cat /proc/sys/net/ipv4") == "cat: /proc/sys/net/ipv4: Is a directory\n"
    assert h.cmd("ip netns add red; ip netns exec red ls /sys/class/net") == "lo\n"
    assert h.cmd("ls /sys/class/net/nosuch; echo $?") == \
        "2\nls: cannot access '/sys/class/net/nosuch': No such file or directory\n"
