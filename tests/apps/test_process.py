"""The process model through its public API: a toy daemon on a node appears in
`ps`, `pidof` finds it, `kill` ends it and closes its sockets."""
from __future__ import annotations

from netplex.apps.process import SIGKILL, Program, ProgramExit
from netplex.network import Network


class Echo(Program):
    """A toy UDP echo daemon on `port`, with a timer that counts ticks."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.ticks = 0
        self.stopped = False

    def start(self) -> None:
        sk = self.own(self.ns.sockets.udp_socket())
        if sk.bind(0, self.port):
            raise ProgramExit(1, "echo: bind: Address already in use\n")
        sk.on_recv = lambda data, src, sport: sk.sendto(data, src, sport)
        self.after(1_000_000, self.tick)

    def tick(self) -> None:
        self.ticks += 1
        self.after(1_000_000, self.tick)

    def stop(self) -> None:
        self.stopped = True


def _net() -> tuple[Network, object]:
    net = Network()
    h1 = net.add_node("h1")
    return net, h1


def test_toy_daemon_ps_pidof_kill_frees_its_port() -> None:
    net, h1 = _net()
    procs = h1.machine.procs
    p = procs.spawn(["/usr/bin/echod", "-p", "7"], h1.ns, Echo(7))
    assert p.alive and p.pid == 2 and procs.get(p.pid) is p
    ps = h1.run("ps -o pid,comm,args")
    assert ps.status == 0
    assert ps.output.splitlines()[0] == "  PID COMMAND         COMMAND"
    assert "    2 echod           /usr/bin/echod -p 7" in ps.output.splitlines()
    assert h1.run("pidof echod").output == "2\n"
    assert 7 in h1.ns.sockets.udp
    net.run_for(5_500_000)
    assert p.program.ticks == 5
    r = h1.run("kill 2")
    assert (r.status, r.error) == (0, "")
    assert not p.alive and p.exit_status == 128 + 15 and p.program.stopped
    assert 7 not in h1.ns.sockets.udp
    net.run_for(5_000_000)
    assert p.program.ticks == 5                # its timers died with it
    assert "echod" not in h1.run("ps -e").output
    assert h1.run("pidof echod").status == 1
    sk = h1.ns.sockets.udp_socket()
    assert sk.bind(0, 7) == 0                  # the port is free again


def test_kill_9_skips_the_programs_clean_up_but_closes_its_sockets() -> None:
    _, h1 = _net()
    p = h1.machine.procs.spawn(["echod"], h1.ns, Echo(9))
    assert h1.run(f"kill -9 {p.pid}").status == 0
    assert p.exit_status == 128 + SIGKILL and not p.program.stopped
    assert 9 not in h1.ns.sockets.udp


def test_failed_start_exits_at_once_with_its_message() -> None:
    _, h1 = _net()
    busy = h1.ns.sockets.udp_socket()
    assert busy.bind(0, 7) == 0
    p = h1.machine.procs.spawn(["echod"], h1.ns, Echo(7))
    assert not p.alive and p.exit_status == 1 and "Address already in use" in p.error
    assert h1.machine.procs.get(p.pid) is None
    assert h1.ns.sockets.udp[7] is busy


def test_pids_increase_and_stop_cont() -> None:
    _, h1 = _net()
    procs = h1.machine.procs
    a = procs.spawn(["a"], h1.ns, Echo(1))
    b = procs.spawn(["b"], h1.ns, Echo(2))
    assert b.pid > a.pid > 1
    h1.run(f"kill -STOP {a.pid}")
    assert a.state == "T" and a.alive
    assert h1.run(f"ps -o pid,stat -p {a.pid}").output.splitlines()[1] == f"{a.pid:5d} T"
    h1.run(f"kill -s CONT {a.pid}")
    assert a.state == "S"
    c = procs.spawn(["c"], h1.ns, Echo(3))
    assert c.pid > b.pid + 1              # `ps` had a pid of its own in between


def test_kill_and_ps_errors() -> None:
    _, h1 = _net()
    r = h1.run("kill 123")
    assert (r.status, r.error) == (1, "bash: kill: (123) - No such process\n")
    assert h1.run("kill -l 9").output == "KILL\n"
    assert h1.run("kill -FOO 1").error == "bash: kill: FOO: invalid signal specification\n"
    assert h1.run("kill").status == 2
    r = h1.run("ps -Q")
    assert r.status == 1 and r.error.startswith("error: unsupported SysV option\n")
    r = h1.run("ps -o pid,foo")
    assert r.error.startswith('error: unknown user-defined format specifier "foo"\n')
    assert h1.run("ps -p 999").status == 1
    assert h1.run("pidof init").output == "1\n"


def test_ps_formats() -> None:
    _, h1 = _net()
    h1.machine.procs.spawn(["/usr/sbin/echod", "-f"], h1.ns, Echo(5))
    assert h1.run("ps").output == ("  PID TTY          TIME CMD\n"
                                   "    1 ?        00:00:00 init\n"
                                   "    2 ?        00:00:00 echod\n"
                                   "    3 ?        00:00:00 ps\n")
    ef = h1.run("ps -ef").output.splitlines()
    assert ef[0] == "UID        PID  PPID  C STIME TTY          TIME CMD"
    assert ef[2] == "root         2     1  0 00:00 ?        00:00:00 /usr/sbin/echod -f"
    aux = h1.run("ps aux").output.splitlines()
    assert aux[0] == "USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND"
    assert aux[2].startswith("root         2  0.0  0.0 ") and aux[2].endswith(" ?        S    00:00   0:00 /usr/sbin/echod -f")


def test_netns_pids() -> None:
    _, h1 = _net()
    procs = h1.machine.procs
    p = procs.spawn(["echod"], h1.ns, Echo(5))
    assert procs.in_netns(h1.ns) == [p]


def test_ps_help_and_version() -> None:
    _, h1 = _net()
    r = h1.run("ps --help")
    assert r.status == 0 and r.output.startswith("\nUsage:\n ps [options]\n")
    assert h1.run("ps -V").output == "ps from procps-ng 4.0.2\n"


def test_pgrep_pkill_killall() -> None:
    _, h1 = _net()
    procs = h1.machine.procs
    a = procs.spawn(["/usr/sbin/echod", "-p", "5"], h1.ns, Echo(5))
    b = procs.spawn(["echod", "-p", "6"], h1.ns, Echo(6))
    assert h1.run("pgrep echo").output == f"{a.pid}\n{b.pid}\n"
    assert h1.run("pgrep -x echo").status == 1
    assert h1.run("pgrep -a -f 'p 6'").output == f"{b.pid} echod -p 6\n"
    assert h1.run("pgrep -l -n echod").output == f"{b.pid} echod\n"
    assert h1.run("pkill -9 -f 'p 5'").status == 0
    assert a.exit_status == 128 + 9 and b.alive
    assert h1.run("pkill nothing").status == 1
    r = h1.run("killall nothing")
    assert (r.status, r.error) == (1, "nothing: no process found\n")
    assert h1.run("killall echod").status == 0 and not b.alive
    assert h1.run("pkill -Q x").error.startswith("pkill: invalid option -- 'Q'\n")


def test_ps_refuses_what_it_does_not_model_and_selects_by_parent() -> None:
    _, h1 = _net()
    assert h1.run("ps -eo pid --sort=pid").error == "netplex: ps: --sort is not supported\n"
    assert h1.run("ps -l").error == "netplex: ps: option -l is not supported\n"
    assert h1.run("ps -ejH").error == "netplex: ps: option -j is not supported\n"
    assert h1.run("ps axjf").status == 1
    assert h1.run("ps --ppid 0 -o pid=").output == "    1\n"
