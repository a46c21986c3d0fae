"""netplex.packet — layer 1: wire formats.

One module per protocol family; each header is a slotted dataclass that the
simulator creates per packet and turns into exact bytes only when bytes are
needed (pcap, encapsulation, tests).  Nothing here imports another netplex
package.

The layer graph — which class decodes what follows a header — is the tables
below, filled in this one place; adding a protocol is one class and one line.
"""
from __future__ import annotations

from .addr import (
    BROADCAST_MAC,
    bytes_to_mac,
    int_to_ip,
    ip_to_int,
    mac_to_bytes,
    mask_to_prefix,
    prefix_to_mask,
)
from .arp import ARPOP_REPLY, ARPOP_REQUEST, Arp
from .checksum import inet_checksum, pseudo_header, transport_checksum
from .esp import IPPROTO_AH, IPPROTO_ESP, Esp
from .ethernet import (
    ETH_P_8021AD,
    ETH_P_8021Q,
    ETH_P_ARP,
    ETH_P_IP,
    ETH_P_IPV6,
    Dot1Q,
    Ethernet,
)
from .geneve import GENEVE_PORT, Geneve
from .gre import ETH_P_TEB, GRE_CSUM, GRE_KEY, GRE_SEQ, Gre
from .icmp import (
    ICMP_DEST_UNREACH,
    ICMP_ECHO,
    ICMP_ECHOREPLY,
    ICMP_EXC_FRAGTIME,
    ICMP_EXC_TTL,
    ICMP_FRAG_NEEDED,
    ICMP_HOST_ANO,
    ICMP_HOST_UNREACH,
    ICMP_NET_ANO,
    ICMP_NET_UNREACH,
    ICMP_PARAMETERPROB,
    ICMP_PKT_FILTERED,
    ICMP_PORT_UNREACH,
    ICMP_PROT_UNREACH,
    ICMP_REDIRECT,
    ICMP_TIME_EXCEEDED,
    Icmp,
)
from .igmp import Igmp
from .ipv4 import (
    IP_DF,
    IP_MF,
    IPPROTO_GRE,
    IPPROTO_ICMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPv4,
    fragment,
)
from .lacp import ETH_P_SLOW, Lacpdu
from .mpls import ETH_P_MPLS_UC, Mpls
from .pcap import PcapWriter, read_pcap
from .registry import ETHERTYPES, IP_PROTOS
from .stp import STP_CONFIG_LEN, STP_TCN_LEN, Bpdu
from .tcp import ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, Tcp
from .udp import UDP_PORTS, Udp
from .vxlan import VXLAN_PORT_IANA, VXLAN_PORT_LINUX, Vxlan

# ---- the layer graph --------------------------------------------------------
ETHERTYPES.update({
    ETH_P_IP: IPv4,
    ETH_P_ARP: Arp,
    ETH_P_SLOW: Lacpdu,
    ETH_P_MPLS_UC: Mpls,
    # IEEE 802.3 frames carry a length, not a type: the two BPDU sizes Linux sends
    STP_CONFIG_LEN: Bpdu,
    STP_TCN_LEN: Bpdu,
})
IP_PROTOS.update({
    IPPROTO_ICMP: Icmp,
    2: Igmp,
    IPPROTO_TCP: Tcp,
    IPPROTO_UDP: Udp,
    IPPROTO_GRE: Gre,
    IPPROTO_ESP: Esp,
})
# Encapsulations over UDP bind their ports: VXLAN on IANA's 4789 and Linux's default 8472.
UDP_PORTS.update({
    VXLAN_PORT_IANA: Vxlan,
    VXLAN_PORT_LINUX: Vxlan,
    GENEVE_PORT: Geneve,
})
# -----------------------------------------------------------------------------

__all__ = [
    "ETH_P_MPLS_UC", "Mpls",
    "ACK", "ETH_P_SLOW", "Lacpdu", "ARPOP_REPLY", "ARPOP_REQUEST", "Arp", "BROADCAST_MAC", "Bpdu", "CWR", "Dot1Q",
    "ETH_P_TEB", "GRE_CSUM", "GRE_KEY", "GRE_SEQ", "Gre", "Igmp", "Vxlan", "VXLAN_PORT_IANA",
    "VXLAN_PORT_LINUX", "GENEVE_PORT", "Geneve",
    "ECE", "ETHERTYPES", "Esp", "IPPROTO_AH", "IPPROTO_ESP", "ETH_P_8021AD", "ETH_P_8021Q", "ETH_P_ARP", "ETH_P_IP",
    "ETH_P_IPV6", "Ethernet", "FIN", "ICMP_DEST_UNREACH", "ICMP_ECHO",
    "ICMP_ECHOREPLY", "ICMP_EXC_FRAGTIME", "ICMP_EXC_TTL", "ICMP_FRAG_NEEDED",
    "ICMP_HOST_ANO", "ICMP_HOST_UNREACH", "ICMP_NET_ANO", "ICMP_NET_UNREACH",
    "ICMP_PARAMETERPROB", "ICMP_PKT_FILTERED", "ICMP_PORT_UNREACH",
    "ICMP_PROT_UNREACH", "ICMP_REDIRECT", "ICMP_TIME_EXCEEDED", "IPPROTO_GRE",
    "IPPROTO_ICMP", "IPPROTO_TCP", "IPPROTO_UDP", "IP_DF", "IP_MF", "IP_PROTOS",
    "IPv4", "Icmp", "PSH", "PcapWriter", "RST", "SYN", "Tcp", "UDP_PORTS", "URG",
    "Udp", "bytes_to_mac", "fragment", "inet_checksum", "int_to_ip", "ip_to_int",
    "mac_to_bytes", "mask_to_prefix", "prefix_to_mask", "pseudo_header",
    "read_pcap", "transport_checksum",
]
