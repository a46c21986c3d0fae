"""netplex's exception tree: every error a tool, the loader or a backend reports.

A configuration error raises one of these; a data-plane failure never does (it
is a drop with a reason, counted and traced). Each carries what the real
program would give: `message` as it prints it, `errno` as the kernel returned
it (0 when no system call failed) and `status`, the exit status of the tool.

    NetplexError                 message, errno, status (default 1)
     ├── ScenarioError           a bad scenario file: file, line, field (status 2)       scenario/loader.py
     ├── EventsOptionError       a clause of `netplex run --events` (status 2)           scenario/events.py
     ├── FabricError             a `netplex fabric` builder's arguments (status 2)        fabric/builders.py
 ├── SweepUsage              a `netplex sweep` command line (status 2)                sweep/grid.py
     ├── EventStorm              the simulation stopped itself (zero-delay loop)         engine/scheduler.py
     ├── XtError                 iptables: PARAMETER_PROBLEM (2) / OTHER_PROBLEM (1)     stack/netfilter/core.py
     ├── IpError                 ip, bridge: iproute2's message and status               shell/iproute_fmt.py
     ├── IpsetError              ipset: its message and status (1 refused, 2 usage)      stack/netfilter/ipset.py
     ├── TcExit                  tc: its message and status                              shell/tc/tc_util.py
     ├── TcError                 the kernel refused a qdisc/class/filter request (2)     stack/qdisc/core.py
     ├── ConntrackUsage          conntrack: a bad command line (status 2)                shell/conntrack.py
     ├── Usage                   a coreutils tool's bad command line                     shell/coreutils/common.py
     ├── RegexError              a pattern GNU grep rejects (status 2; also ValueError)  shell/coreutils/regex.py
     ├── ArithError              a `$(( ))` expression bash refuses                     shell/arith.py
     ├── BashSyntaxError         a script bash would not parse (bash's message, 2)      shell/parse.py
     ├── Unsupported             a shell construct netplex refuses to run (status 2)    shell/parse.py
     ├── FsError                 a file operation on a machine's filesystem (errno)    machine/fs.py
     ├── FileReadError           a file that exists but cannot be read (strerror)        shell/registry.py
     ├── ProgramExit             a program (daemon) that exits at once: status, message apps/process.py
     ├── NetnsError              `ip netns` on a machine: iproute2's message           machine/machine.py
     ├── GtpUError               a datagram on UDP 2152 that is not GTPv1-U (also ValueError) packet/gtpu.py
     ├── MessageError            a datagram that is not a modelled RRC/GMM/SM/RANAP/BSSGP/MAP message mobile/messages.py
     ├── Gtpv2Error              a GTPv2-C message that cannot be read: its §8.4 cause    packet/gtpv2c.py
     ├── Gtpv1Error              a GTPv1-C message that cannot be read: its §7.7.1 cause  packet/gtpv1c.py
     ├── DiameterError           a Diameter message that cannot be read: its Result-Code packet/diameter.py
     ├── SctpError               bytes that are not an SCTP packet (checksum, chunk lengths) packet/sctp.py
     ├── PerError                bytes aligned PER cannot read as the type says          packet/aper.py
     │    ├── S1apError          an S1AP message that cannot be read                     packet/s1ap.py
     │    └── X2apError          an X2AP message that cannot be read                     packet/x2ap.py
     ├── NasError                an EPS NAS message that cannot be read: its §7 cause    packet/nas_eps.py
     ├── DnsError                a DNS message that cannot be read or a name too long    packet/dns.py
     ├── UnknownNodeKind         a node kind no system registered                       network.py
     ├── BackendUnavailable      the chosen backend cannot be loaded here (status 2)     cli.py
     ├── BackendUnsupported      the backend cannot do what was asked                    scenario/backend.py
     ├── DockerError             docker/dockerd: the CLI's message and status (125, 1)  container/engine.py
     ├── FlannelError            flanneld's fatal message (exit 1)                       container/flannel.py
     │    └── LeaseRevoked       its own subnet lease gone from etcd: flanneld stops     container/flannel.py
     ├── EtcdUnreachable         no etcd endpoint answered (etcdctl, flanneld)           container/etcdctl.py
     ├── DbError                 ovs-vsctl: an OVSDB/ovs-vsctl refusal (1; br-exists 2)  ovs/ovsdb.py
     ├── FlowError               ovs-ofctl: a flow or action it refuses (status 1)      ovs/flow.py
     │    └── GroupModError      the switch's OFPT_ERROR to a flow/group mod (its code)  ovs/ofproto.py
     ├── RoleError               the switch's OFPT_ERROR to a ROLE_REQUEST (its code)    ovs/ofrole.py
     ├── RecordError             a file `netplex view` cannot read as a recorded run (2)  view/record.py
     ├── ClabError               netplex clab: containerlab's `Error: ...` message (1)      clab/lab.py
     ├── MininetUnsupported      a Mininet script's call netplex does not run (status 2)  mininet/session.py
     ├── CloudError              openstack: an API refusal (1) or a usage error (2)     cloud/controller.py
     │    ├── IdentityError      keystone's/nova's refusal, (HTTP n) (Request-ID: ...)  cloud/controller.py
     │    └── CloudStateError    a --cloud-state DB netplex cannot resume (status 2)     cloud/state.py
     ├── DnsmasqError            dnsmasq: a command line or file it rejects (status 1)  apps/dnsmasq.py
     ├── OfctlError              ovs-ofctl: a bridge it cannot reach (status 1)         ovs/ofctl.py
     ├── SwitchError             ovs-ofctl: an OFPT_ERROR printed with its request (1)  ovs/ofctl.py
     ├── AppError                a match/action an OpenFlow application asked for that 1.3 cannot say ovs/ofapp.py
     ├── AppLoadError            netplex-controller: an application it cannot load (1)  ovs/ofapps/__init__.py
     ├── BgpError                a BGP message that earns a NOTIFICATION (code/subcode) packet/bgp.py
     ├── FrrConfigError          frr.conf/vtysh: FRR's refusal or netplex's "not supported" frr/config.py
     └── TwinError               the kernel twin failed to build or run something        twin/__init__.py
          ├── TwinUnavailable    the twin cannot run here at all (not root, no netns)
          └── NetlinkError       the kernel refused a netlink request (errno, request)   twin/netlink.py

A new tool's error derives from NetplexError (or the family it belongs to),
passes the real tool's message and exit status, and is added to this map.
"""
from __future__ import annotations

import errno as _errno
from typing import Any

__all__ = ["NetplexError", "ScenarioError"]


class NetplexError(Exception):
    """A configuration error: `errno` as the kernel would return it, `message` exactly
    as the real tool prints it (e.g. `Cannot find device "eth9"`) and `status`, the
    tool's exit status."""

    def __init__(self, message: str, errno: int = 0, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno
        self.status = status

    def __str__(self) -> str:
        return self.message


class ScenarioError(NetplexError):
    """A scenario file netplex cannot run, located to one place in it.

    str() is the one line users see: `FILE:LINE: FIELD: message`.
    """

    def __init__(self, file: str, line: int, field: str, message: str) -> None:
        message = message.replace("\n", "\\n")   # a value quoted in the message may hold a newline: one line
        self.file = file
        self.line = line
        self.field = field
        super().__init__(f"{file}:{line}: {field}: {message}", _errno.EINVAL, status=2)
        self.message = message

    def __str__(self) -> str:
        if self.line <= 0:  # the file itself could not be read
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.field}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The `error` object of a result for a bad file (SCENARIO.md, Results)."""
        return {"file": self.file, "file_line": self.line, "field": self.field, "message": self.message}
