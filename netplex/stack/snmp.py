"""The namespace's SNMP MIB counters and their /proc files (net/ipv4/proc.c, net/ipv6/proc.c).

`Mib` holds the counters of one namespace (struct netns_mib): `ip`, `icmp`, `tcp`, `udp`,
`ipext`, name -> value, and the ICMP message counters by type (`icmp_in`,
`icmp_out`: ICMPMSG_MIB). The stack counts where the kernel does:

- Ip InReceives / IpExt InOctets, InNoECTPkts... in ip_rcv; InBcastPkts, InMcastPkts in
  ip_rcv_finish; InAddrErrors (no route, not a router), IpExt InNoRoutes (no route, a router),
  InHdrErrors (TTL exceeded), ForwDatagrams, InUnknownProtos, InDelivers; OutRequests in
  ip_local_out, OutTransmits / IpExt OutOctets (and OutBcastPkts, OutMcastPkts) where a
  datagram goes to its device (ip_finish_output2); FragOKs, FragCreates, FragFails;
  ReasmReqds, ReasmOKs;
- Icmp InMsgs and the In<type> counter in icmp_rcv, OutMsgs and Out<type> for every ICMP
  datagram the namespace sends (icmp_out_count: its own replies and errors, raw and ping
  sockets), both kept as the ICMPMSG counter of the type alone and summed when the file is read;
  OutRateLimitGlobal / OutRateLimitHost for an error the rate limits held back;
- Udp InDatagrams, NoPorts, IgnoredMulti, RcvbufErrors/InErrors, OutDatagrams;
- Tcp ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab (the sockets in
  ESTABLISHED or CLOSE_WAIT), InSegs, OutSegs, RetransSegs, OutRsts.

Not modelled (they stay 0): TcpExt and MPTcpExt (the kernel's TCP implementation details:
delayed ACKs, fast paths, coalescing), checksum and header errors (the simulator makes none),
IPv6 (/proc/net/snmp6: the nodes run IPv4 only, as the twin's namespaces with IPv6 disabled).

`proc_net_snmp`, `proc_net_netstat`, `proc_net_snmp6` print the files as kernel 6.18 does (the
field lists are its own, read from a fresh namespace of the reference machine).
"""
from __future__ import annotations

from collections import defaultdict

__all__ = ["ICMP_MIB_IN", "ICMP_MIB_OUT", "Mib", "proc_net_netstat", "proc_net_snmp", "proc_net_snmp6"]

IP_FIELDS = (
    "Forwarding", "DefaultTTL", "InReceives", "InHdrErrors", "InAddrErrors", "ForwDatagrams",
    "InUnknownProtos", "InDiscards", "InDelivers", "OutRequests", "OutDiscards", "OutNoRoutes",
    "ReasmTimeout", "ReasmReqds", "ReasmOKs", "ReasmFails", "FragOKs", "FragFails", "FragCreates",
    "OutTransmits",
)

ICMP_FIELDS = (
    "InMsgs", "InErrors", "InCsumErrors", "InDestUnreachs", "InTimeExcds", "InParmProbs", "InSrcQuenchs",
    "InRedirects", "InEchos", "InEchoReps", "InTimestamps", "InTimestampReps", "InAddrMasks",
    "InAddrMaskReps", "OutMsgs", "OutErrors", "OutRateLimitGlobal", "OutRateLimitHost", "OutDestUnreachs",
    "OutTimeExcds", "OutParmProbs", "OutSrcQuenchs", "OutRedirects", "OutEchos", "OutEchoReps",
    "OutTimestamps", "OutTimestampReps", "OutAddrMasks", "OutAddrMaskReps",
)

TCP_FIELDS = (
    "RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn", "ActiveOpens", "PassiveOpens", "AttemptFails",
    "EstabResets", "CurrEstab", "InSegs", "OutSegs", "RetransSegs", "InErrs", "OutRsts", "InCsumErrors",
)

UDP_FIELDS = (
    "InDatagrams", "NoPorts", "InErrors", "OutDatagrams", "RcvbufErrors", "SndbufErrors", "InCsumErrors",
    "IgnoredMulti", "MemErrors",
)

TCPEXT_FIELDS = (
    "SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed", "EmbryonicRsts", "PruneCalled", "RcvPruned",
    "OfoPruned", "OutOfWindowIcmps", "LockDroppedIcmps", "ArpFilter", "TW", "TWRecycled", "TWKilled",
    "PAWSActive", "PAWSEstab", "BeyondWindow", "TSEcrRejected", "PAWSOldAck", "PAWSTimewait", "DelayedACKs",
    "DelayedACKLocked", "DelayedACKLost", "ListenOverflows", "ListenDrops", "TCPHPHits", "TCPPureAcks",
    "TCPHPAcks", "TCPRenoRecovery", "TCPSackRecovery", "TCPSACKReneging", "TCPSACKReorder",
    "TCPRenoReorder", "TCPTSReorder", "TCPFullUndo", "TCPPartialUndo", "TCPDSACKUndo", "TCPLossUndo",
    "TCPLostRetransmit", "TCPRenoFailures", "TCPSackFailures", "TCPLossFailures", "TCPFastRetrans",
    "TCPSlowStartRetrans", "TCPTimeouts", "TCPLossProbes", "TCPLossProbeRecovery", "TCPRenoRecoveryFail",
    "TCPSackRecoveryFail", "TCPRcvCollapsed", "TCPBacklogCoalesce", "TCPDSACKOldSent", "TCPDSACKOfoSent",
    "TCPDSACKRecv", "TCPDSACKOfoRecv", "TCPAbortOnData", "TCPAbortOnClose", "TCPAbortOnMemory",
    "TCPAbortOnTimeout", "TCPAbortOnLinger", "TCPAbortFailed", "TCPMemoryPressures",
    "TCPMemoryPressuresChrono", "TCPSACKDiscard", "TCPDSACKIgnoredOld", "TCPDSACKIgnoredNoUndo",
    "TCPSpuriousRTOs", "TCPMD5NotFound", "TCPMD5Unexpected", "TCPMD5Failure", "TCPSackShifted",
    "TCPSackMerged", "TCPSackShiftFallback", "TCPBacklogDrop", "PFMemallocDrop", "TCPMinTTLDrop",
    "TCPDeferAcceptDrop", "IPReversePathFilter", "TCPTimeWaitOverflow", "TCPReqQFullDoCookies",
    "TCPReqQFullDrop", "TCPRetransFail", "TCPRcvCoalesce", "TCPOFOQueue", "TCPOFODrop", "TCPOFOMerge",
    "TCPChallengeACK", "TCPSYNChallenge", "TCPFastOpenActive", "TCPFastOpenActiveFail",
    "TCPFastOpenPassive", "TCPFastOpenPassiveFail", "TCPFastOpenListenOverflow", "TCPFastOpenCookieReqd",
    "TCPFastOpenBlackhole", "TCPSpuriousRtxHostQueues", "BusyPollRxPackets", "TCPAutoCorking",
    "TCPFromZeroWindowAdv", "TCPToZeroWindowAdv", "TCPWantZeroWindowAdv", "TCPSynRetrans",
    "TCPOrigDataSent", "TCPHystartTrainDetect", "TCPHystartTrainCwnd", "TCPHystartDelayDetect",
    "TCPHystartDelayCwnd", "TCPACKSkippedSynRecv", "TCPACKSkippedPAWS", "TCPACKSkippedSeq",
    "TCPACKSkippedFinWait2", "TCPACKSkippedTimeWait", "TCPACKSkippedChallenge", "TCPWinProbe",
    "TCPKeepAlive", "TCPMTUPFail", "TCPMTUPSuccess", "TCPDelivered", "TCPDeliveredCE", "TCPAckCompressed",
    "TCPZeroWindowDrop", "TCPRcvQDrop", "TCPWqueueTooBig", "TCPFastOpenPassiveAltKey", "TcpTimeoutRehash",
    "TcpDuplicateDataRehash", "TCPDSACKRecvSegs", "TCPDSACKIgnoredDubious", "TCPMigrateReqSuccess",
    "TCPMigrateReqFailure", "TCPPLBRehash", "TCPAORequired", "TCPAOBad", "TCPAOKeyNotFound", "TCPAOGood",
    "TCPAODroppedIcmps",
)

IPEXT_FIELDS = (
    "InNoRoutes", "InTruncatedPkts", "InMcastPkts", "OutMcastPkts", "InBcastPkts", "OutBcastPkts",
    "InOctets", "OutOctets", "InMcastOctets", "OutMcastOctets", "InBcastOctets", "OutBcastOctets",
    "InCsumErrors", "InNoECTPkts", "InECT1Pkts", "InECT0Pkts", "InCEPkts", "ReasmOverlaps",
)

MPTCPEXT_FIELDS = (
    "MPCapableSYNRX", "MPCapableSYNTX", "MPCapableSYNACKRX", "MPCapableACKRX", "MPCapableFallbackACK",
    "MPCapableFallbackSYNACK", "MPCapableSYNTXDrop", "MPCapableSYNTXDisabled", "MPCapableEndpAttempt",
    "MPFallbackTokenInit", "MPTCPRetrans", "MPJoinNoTokenFound", "MPJoinSynRx", "MPJoinSynBackupRx",
    "MPJoinSynAckRx", "MPJoinSynAckBackupRx", "MPJoinSynAckHMacFailure", "MPJoinAckRx",
    "MPJoinAckHMacFailure", "MPJoinRejected", "MPJoinSynTx", "MPJoinSynTxCreatSkErr", "MPJoinSynTxBindErr",
    "MPJoinSynTxConnectErr", "DSSNotMatching", "DSSCorruptionFallback", "DSSCorruptionReset",
    "InfiniteMapTx", "InfiniteMapRx", "DSSNoMatchTCP", "DataCsumErr", "OFOQueueTail", "OFOQueue",
    "OFOMerge", "NoDSSInWindow", "DuplicateData", "AddAddr", "AddAddrTx", "AddAddrTxDrop", "EchoAdd",
    "EchoAddTx", "EchoAddTxDrop", "PortAdd", "AddAddrDrop", "MPJoinPortSynRx", "MPJoinPortSynAckRx",
    "MPJoinPortAckRx", "MismatchPortSynRx", "MismatchPortAckRx", "RmAddr", "RmAddrDrop", "RmAddrTx",
    "RmAddrTxDrop", "RmSubflow", "MPPrioTx", "MPPrioRx", "MPFailTx", "MPFailRx", "MPFastcloseTx",
    "MPFastcloseRx", "MPRstTx", "MPRstRx", "SubflowStale", "SubflowRecover", "SndWndShared", "RcvWndShared",
    "RcvWndConflictUpdate", "RcvWndConflict", "MPCurrEstab", "Blackhole", "MPCapableDataFallback",
    "MD5SigFallback", "DssFallback", "SimultConnectFallback", "FallbackFailed", "WinProbe",
)

SNMP6_FIELDS = (
    "Ip6InReceives", "Ip6InHdrErrors", "Ip6InTooBigErrors", "Ip6InNoRoutes", "Ip6InAddrErrors",
    "Ip6InUnknownProtos", "Ip6InTruncatedPkts", "Ip6InDiscards", "Ip6InDelivers", "Ip6OutForwDatagrams",
    "Ip6OutRequests", "Ip6OutDiscards", "Ip6OutNoRoutes", "Ip6ReasmTimeout", "Ip6ReasmReqds", "Ip6ReasmOKs",
    "Ip6ReasmFails", "Ip6FragOKs", "Ip6FragFails", "Ip6FragCreates", "Ip6InMcastPkts", "Ip6OutMcastPkts",
    "Ip6InOctets", "Ip6OutOctets", "Ip6InMcastOctets", "Ip6OutMcastOctets", "Ip6InBcastOctets",
    "Ip6OutBcastOctets", "Ip6InNoECTPkts", "Ip6InECT1Pkts", "Ip6InECT0Pkts", "Ip6InCEPkts",
    "Ip6OutTransmits", "Icmp6InMsgs", "Icmp6InErrors", "Icmp6OutMsgs", "Icmp6OutErrors",
    "Icmp6InCsumErrors", "Icmp6OutRateLimitHost", "Icmp6InDestUnreachs", "Icmp6InPktTooBigs",
    "Icmp6InTimeExcds", "Icmp6InParmProblems", "Icmp6InEchos", "Icmp6InEchoReplies",
    "Icmp6InGroupMembQueries", "Icmp6InGroupMembResponses", "Icmp6InGroupMembReductions",
    "Icmp6InRouterSolicits", "Icmp6InRouterAdvertisements", "Icmp6InNeighborSolicits",
    "Icmp6InNeighborAdvertisements", "Icmp6InRedirects", "Icmp6InMLDv2Reports", "Icmp6OutDestUnreachs",
    "Icmp6OutPktTooBigs", "Icmp6OutTimeExcds", "Icmp6OutParmProblems", "Icmp6OutEchos",
    "Icmp6OutEchoReplies", "Icmp6OutGroupMembQueries", "Icmp6OutGroupMembResponses",
    "Icmp6OutGroupMembReductions", "Icmp6OutRouterSolicits", "Icmp6OutRouterAdvertisements",
    "Icmp6OutNeighborSolicits", "Icmp6OutNeighborAdvertisements", "Icmp6OutRedirects",
    "Icmp6OutMLDv2Reports", "Udp6InDatagrams", "Udp6NoPorts", "Udp6InErrors", "Udp6OutDatagrams",
    "Udp6RcvbufErrors", "Udp6SndbufErrors", "Udp6InCsumErrors", "Udp6IgnoredMulti", "Udp6MemErrors",
    "UdpLite6InDatagrams", "UdpLite6NoPorts", "UdpLite6InErrors", "UdpLite6OutDatagrams",
    "UdpLite6RcvbufErrors", "UdpLite6SndbufErrors", "UdpLite6InCsumErrors", "UdpLite6MemErrors",
)

# icmp_pointers[type].input_entry / ICMP_MIB_OUT*: the Icmp counter of each message type
_ICMP_NAMES = {0: "EchoReps", 3: "DestUnreachs", 4: "SrcQuenchs", 5: "Redirects", 8: "Echos", 11: "TimeExcds",
               12: "ParmProbs", 13: "Timestamps", 14: "TimestampReps", 17: "AddrMasks", 18: "AddrMaskReps"}
ICMP_MIB_IN = {t: "In" + n for t, n in _ICMP_NAMES.items()}
ICMP_MIB_OUT = {t: "Out" + n for t, n in _ICMP_NAMES.items()}
ICMPMSG_PERLINE = 16   # icmpmsg_put: at most 16 counters on a line pair
RTO_MIN_MS, RTO_MAX_MS = 200, 120_000


class Mib:
    """struct netns_mib of one namespace: the counters by name (the gauges Ip Forwarding,
    DefaultTTL, Tcp RtoAlgorithm..., CurrEstab are computed when the file is read)."""

    __slots__ = ("fwd_ecn", "fwd_octets", "icmp", "icmp_in", "icmp_out", "ip", "ipext", "loc_plain", "out_fast",
                 "out_octets", "rcv_octets", "rcv_plain", "tcp", "udp")

    def __init__(self) -> None:
        # sparse: a counter is a key only once counted (a namespace at rest holds seven empty
        # dicts, not ~250 zeros: ten thousand hosts are ten thousand of these)
        self.ip: defaultdict[str, int] = defaultdict(int)
        self.icmp: defaultdict[str, int] = defaultdict(int)        # the rate limits' (InMsgs... from icmp_in)
        self.icmp_in: defaultdict[int, int] = defaultdict(int)     # ICMPMSG InType<type>
        self.icmp_out: defaultdict[int, int] = defaultdict(int)
        self.tcp: defaultdict[str, int] = defaultdict(int)
        self.udp: defaultdict[str, int] = defaultdict(int)
        self.ipext: defaultdict[str, int] = defaultdict(int)
        # plain increments on the hot paths, added in when the files are read (`ip_counters`,
        # `ipext_counters`), so a datagram costs two increments where it cost calls and dict updates:
        # the forwarding fast path's datagrams (fastpath.fast_rx), by ECN codepoint, and their
        # octets: each is one InReceives, ForwDatagrams and OutTransmits, its length InOctets and
        # OutOctets;
        self.fwd_ecn = [0, 0, 0, 0]
        self.fwd_octets = 0
        # the datagrams ip_rcv_core counts without ECN (Not-ECT): InReceives and InNoECTPkts, those
        # ip_local_fast delivers in one step also InDelivers (the ECN-marked ones count in the
        # dicts); InOctets of every datagram received (not the forwarding fast path's)
        self.rcv_plain = 0
        self.loc_plain = 0
        self.rcv_octets = 0
        # the host output fast path's datagrams (ip_local_out → _output_fast): OutRequests and
        # OutTransmits; OutOctets of every datagram sent out (not the forwarding fast path's)
        self.out_fast = 0
        self.out_octets = 0

    def ip_counters(self) -> dict[str, int]:
        """The Ip counters, the hot paths' plain increments included."""
        ip = {k: self.ip.get(k, 0) for k in IP_FIELDS}
        n = sum(self.fwd_ecn)
        ip["InReceives"] += n + self.rcv_plain + self.loc_plain
        ip["InDelivers"] += self.loc_plain
        ip["ForwDatagrams"] += n
        ip["OutRequests"] += self.out_fast
        ip["OutTransmits"] += n + self.out_fast
        return ip

    def ipext_counters(self) -> dict[str, int]:
        """The IpExt counters, the hot paths' plain increments included."""
        ext = {k: self.ipext.get(k, 0) for k in IPEXT_FIELDS}
        ext["InOctets"] += self.fwd_octets + self.rcv_octets
        ext["OutOctets"] += self.fwd_octets + self.out_octets
        ext["InNoECTPkts"] += self.rcv_plain + self.loc_plain
        for name, n in zip(_ECN_IN, self.fwd_ecn):
            ext[name] += n
        return ext

    def icmp_counters(self) -> dict[str, int]:
        """The Icmp counters: InMsgs, OutMsgs and the per-type ones from the ICMPMSG counters
        (icmp_put reads its In<type>/Out<type> from icmpmsg_statistics too)."""
        icmp = {k: self.icmp.get(k, 0) for k in ICMP_FIELDS}
        for by_type, total, names in ((self.icmp_in, "InMsgs", ICMP_MIB_IN), (self.icmp_out, "OutMsgs", ICMP_MIB_OUT)):
            for t, n in by_type.items():
                icmp[total] += n
                name = names.get(t)
                if name is not None:
                    icmp[name] += n
        return icmp

    def ip_in(self, length: int, tos: int) -> None:
        """ip_rcv_core: IPSTATS_MIB_IN (packets, octets) and the ECN codepoint's counter."""
        self.rcv_octets += length
        if tos & 3:
            self.ip["InReceives"] += 1
            self.ipext[_ECN_IN[tos & 3]] += 1
        else:
            self.rcv_plain += 1

    def ip_out(self, length: int, kind: str = "unicast") -> None:
        """ip_finish_output2: IPSTATS_MIB_OUTPKTS (OutTransmits) and OUTOCTETS; a broadcast or
        multicast datagram also its own pair."""
        self.ip["OutTransmits"] += 1
        self.out_octets += length
        if kind != "unicast":
            key = "Mcast" if kind == "multicast" else "Bcast"
            ext = self.ipext
            ext[f"Out{key}Pkts"] += 1
            ext[f"Out{key}Octets"] += length


_ECN_IN = ("InNoECTPkts", "InECT1Pkts", "InECT0Pkts", "InCEPkts")


def _pair(prefix: str, names: tuple[str, ...] | list[str], values: list[int]) -> str:
    return f"{prefix}: {' '.join(names)}\n{prefix}: {' '.join(str(v) for v in values)}\n"


def proc_net_snmp(mib: Mib, forwarding: bool, default_ttl: int, curr_estab: int) -> str:
    """/proc/net/snmp (snmp_seq_show_ipstats, icmp_put, icmpmsg_put, snmp_seq_show_tcp_udp)."""
    ip = mib.ip_counters()
    ip.update(Forwarding=1 if forwarding else 2, DefaultTTL=default_ttl)
    out = [_pair("Ip", IP_FIELDS, [ip[k] for k in IP_FIELDS]),
           _pair("Icmp", ICMP_FIELDS, list(map(mib.icmp_counters().__getitem__, ICMP_FIELDS)))]
    msgs = [(f"InType{t}", v) for t, v in sorted(mib.icmp_in.items()) if v]
    msgs += [(f"OutType{t}", v) for t, v in sorted(mib.icmp_out.items()) if v]
    for i in range(0, len(msgs), ICMPMSG_PERLINE):
        chunk = msgs[i:i + ICMPMSG_PERLINE]
        out.append(_pair("IcmpMsg", [k for k, _ in chunk], [v for _, v in chunk]))
    tcp = dict({k: mib.tcp.get(k, 0) for k in TCP_FIELDS}, RtoAlgorithm=1, RtoMin=RTO_MIN_MS, RtoMax=RTO_MAX_MS, MaxConn=-1, CurrEstab=curr_estab)
    out.append(_pair("Tcp", TCP_FIELDS, [tcp[k] for k in TCP_FIELDS]))
    out.append(_pair("Udp", UDP_FIELDS, [mib.udp.get(k, 0) for k in UDP_FIELDS]))
    out.append(_pair("UdpLite", UDP_FIELDS, [0] * len(UDP_FIELDS)))
    return "".join(out)


def proc_net_netstat(mib: Mib) -> str:
    """/proc/net/netstat (netstat_seq_show): TcpExt, IpExt, MPTcpExt."""
    return (_pair("TcpExt", TCPEXT_FIELDS, [0] * len(TCPEXT_FIELDS))   # not modelled (module docstring)
            + _pair("IpExt", IPEXT_FIELDS, list(map(mib.ipext_counters().__getitem__, IPEXT_FIELDS)))
            + _pair("MPTcpExt", MPTCPEXT_FIELDS, [0] * len(MPTCPEXT_FIELDS)))


def proc_net_snmp6() -> str:
    """/proc/net/snmp6 (snmp6_seq_show): "%-32s\\t%lu" per counter; all 0 (no IPv6)."""
    return "".join(f"{name:<32}\t0\n" for name in SNMP6_FIELDS)
