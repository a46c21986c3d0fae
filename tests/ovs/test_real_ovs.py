"""netplex's Open vSwitch against the real one (Debian's openvswitch-switch 3.1, userspace
datapath, private daemons in namespaces: netplex.twin.ovs): the same command lines on
both, each line's status, output and error compared after `normalise`. Every line of
every case below is one comparison; docs/ovs.md keeps the count."""
from __future__ import annotations

import os

import pytest

from netplex import Network
from netplex.twin.ovs import RealOvsLab, normalise, real_ovs_missing

pytestmark = pytest.mark.linux

MACS = {"h1": "02:00:00:00:00:01", "h2": "02:00:00:00:00:02", "h3": "02:00:00:00:00:03"}
HOSTS = ("h1", "h2", "h3")
SETUP = [("s1", f"ip link set p{i} up") for i in (1, 2, 3)] + [
    (h, f"ip link set eth0 address {MACS[h]} && ip addr add 10.0.0.{i}/24 dev eth0 && ip link set eth0 up")
    for i, h in enumerate(HOSTS, 1)]

# the packets h1 has sent into p1 that have not yet left by p2 or p3, once none are (at most 5 s):
# the real ovs-vswitchd's userspace datapath forwards them from its main thread, which a loaded
# machine may not run for a while, so the bucket counters are read only when the packet is out
_IN_FLIGHT = ("n=0; d() { echo $(( $(cat /sys/class/net/p1/statistics/rx_packets) - "
              "$(cat /sys/class/net/p2/statistics/tx_packets) - $(cat /sys/class/net/p3/statistics/tx_packets) )); }; "
              "while [ $(d) -gt 0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done; d")

# cases outside the suite's twin budget (make test-twin-all runs them)
BEYOND_BUDGET = ("queue-stats",)

# (node, line): what a user types; each is compared
CASES: dict[str, list[tuple[str, str]]] = {
    "bridges": [("s1", c) for c in (
        "ovs-vsctl add-br br0", "ovs-vsctl add-br br0", "ovs-vsctl --may-exist add-br br0", "ovs-vsctl add-br br1",
        "ovs-vsctl list-br", "ovs-vsctl br-exists br1; echo $?", "ovs-vsctl br-exists nope; echo $?",
        "ovs-vsctl br-to-vlan br0", "ovs-vsctl br-to-parent br0", "ovs-vsctl del-br br1", "ovs-vsctl del-br br1",
        "ovs-vsctl --if-exists del-br br1", "ovs-vsctl add-br ''", "ovs-vsctl foo", "ovs-vsctl add-br",
        "ovs-vsctl list-ports br9", "ovs-vsctl show")],
    "ports": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- add-port br0 p1 tag=10",
        "ovs-vsctl add-port br0 p2 -- set port p2 trunks=10,20 vlan_mode=trunk",
        "ovs-vsctl list-ports br0", "ovs-vsctl get port p1 tag", "ovs-vsctl get port p2 trunks",
        "ovs-vsctl get port p2 vlan_mode", "ovs-vsctl port-to-br p1", "ovs-vsctl iface-to-br p2",
        "ovs-vsctl port-to-br br0", "ovs-vsctl add-port br0 p1", "ovs-vsctl add-br br1",
        "ovs-vsctl --may-exist add-port br1 p1", "ovs-vsctl --may-exist add-port br0 p1",
        "ovs-vsctl del-port br0 zz", "ovs-vsctl --if-exists del-port br0 zz", "ovs-vsctl del-port br1 p1",
        "ovs-vsctl list-ifaces br0", "ovs-vsctl show", "ovs-vsctl add-port br0 nope",
        "ovs-vsctl get interface nope ofport", "ovs-vsctl get interface nope error", "ovs-vsctl get interface p1 ofport",
        "ovs-vsctl del-port nope", "ovs-vsctl del-br br1", "ovs-vsctl show")],
    "database": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- add-port br0 p1 tag=10",
        "ovs-vsctl get port p1 foo", "ovs-vsctl get prt p1 tag", "ovs-vsctl get port p9 tag",
        "ovs-vsctl set port p1 tag=5000", "ovs-vsctl set port p1 vlan_mode=foo", "ovs-vsctl set port p1 tag=abc",
        "ovs-vsctl get interface p1 options:foo", "ovs-vsctl get port p1 ta",
        "ovs-vsctl set bridge br0 other_config:a=b other-config:c=d", "ovs-vsctl get bridge br0 other_config",
        "ovs-vsctl get bridge br0 other_config:a", "ovs-vsctl remove bridge br0 other_config a=b",
        "ovs-vsctl get bridge br0 other_config", "ovs-vsctl clear bridge br0 other_config",
        "ovs-vsctl get interface p1 type", "ovs-vsctl --bare --columns=name,tag list port p1",
        "ovs-vsctl --columns=name,tag list port p1", "ovs-vsctl --bare --columns=name find port tag=10",
        "ovs-vsctl --columns=name,tag,trunks,vlan_mode,qos,external_ids,other_config list port p1",
        "ovs-vsctl set port p1 trunks=1,2,3 -- get port p1 trunks", "ovs-vsctl add port p1 trunks 7",
        "ovs-vsctl get port p1 trunks", "ovs-vsctl remove port p1 trunks 2", "ovs-vsctl get port p1 trunks",
        "ovs-vsctl set-fail-mode br0 foo", "ovs-vsctl set-fail-mode br0 secure", "ovs-vsctl get-fail-mode br0",
        "ovs-vsctl del-fail-mode br0", "ovs-vsctl get-fail-mode br0",
        "ovs-vsctl set-controller br0 tcp:127.0.0.1:6653 ptcp:6654", "ovs-vsctl get-controller br0",
        "ovs-vsctl list controller br0", "ovs-vsctl del-controller br0", "ovs-vsctl get-controller br0",
        "ovs-vsctl destroy qos 00000000-0000-0000-0000-000000000000",
        "ovs-vsctl -- set port p1 qos=@q -- --id=@q create qos type=linux-htb other-config:max-rate=1000000 "
        "queues:1=@q1 -- --id=@q1 create queue other-config:max-rate=300000 >/dev/null",
        "ovs-vsctl --bare --columns=type,other_config list qos", "ovs-vsctl --bare --columns=other_config list queue",
        "ovs-vsctl clear port p1 qos", "ovs-vsctl -- --all destroy qos -- --all destroy queue",
        "ovs-vsctl list qos", "ovs-vsctl br-set-external-id br0 k v", "ovs-vsctl br-get-external-id br0 k",
        "ovs-vsctl br-get-external-id br0")],
    "flows": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- add-port br0 p1", "ovs-vsctl add-port br0 p2",
        "ovs-ofctl add-flow br0 'table=0,priority=100,ct_state=-trk,tcp,actions=ct(table=1)'",
        "ovs-ofctl add-flow br0 'in_port=p1,dl_src=00:11:22:33:44:55,dl_type=0x0800,nw_src=10.0.0.0/24,"
        "nw_dst=10.0.0.2,actions=mod_vlan_vid:5,output:p2'",
        "ovs-ofctl add-flow br0 'priority=200,udp,tp_dst=53,idle_timeout=30,hard_timeout=60,cookie=0x12,"
        "actions=drop'",
        "ovs-ofctl add-flow br0 arp,actions=FLOOD", "ovs-ofctl add-flow br0 icmp,dl_vlan=10,actions=strip_vlan,NORMAL",
        "ovs-ofctl add-flow br0 'table=1,ip,nw_proto=6,actions=set_field:10.1.1.1->nw_dst,"
        "mod_dl_src:00:00:00:00:00:01,resubmit(,2),goto_table:3'",
        "ovs-ofctl add-flow br0 'table=1,tcp,tp_src=0x100/0xff00,actions=ct(commit,zone=5,nat(src=1.2.3.4)),"
        "controller'",
        "ovs-ofctl add-flow br0 'table=2,vlan_tci=0x1000/0x1000,actions=output:1,mod_nw_tos:16,mod_tp_dst:80,"
        "load:0x1->NXM_NX_REG0[],resubmit(p1,2)'",
        "ovs-ofctl add-flow br0 'table=3,udp,nw_dst=192.168.0.0/16,actions=mod_nw_src:1.1.1.1,mod_tp_src:5,"
        "dec_ttl,output:LOCAL'",
        "ovs-ofctl add-flow br0 'table=3,priority=7,arp,arp_tpa=10.0.0.1,arp_op=1,actions=IN_PORT'",
        "ovs-ofctl add-flow br0 'table=3,reg3=0x10/0xf0,metadata=0x5,actions=write_metadata:0x1/0xff,"
        "set_field:7->reg2'",
        "ovs-ofctl add-flow br0 'table=4,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=ALL'",
        "ovs-ofctl add-flow br0 'table=4,icmp,icmp_type=8,icmp_code=0,nw_tos=16,nw_ttl=3,actions=controller:128'",
        "ovs-ofctl add-flow br0 'table=4,tcp,tcp_flags=+syn-ack,actions=mod_vlan_pcp:3,push_vlan:0x8100,set_queue:1'",
        "ovs-ofctl dump-flows br0 --no-stats", "ovs-ofctl -O OpenFlow13 dump-flows br0",
        "ovs-ofctl dump-flows br0 | sed 1d", "ovs-ofctl dump-flows br0 table=1 --no-stats",
        "ovs-ofctl --no-stats dump-flows br0 udp",
        "ovs-ofctl add-flow br0 foo=1,actions=drop", "ovs-ofctl add-flow br0 tcp,actions=bar",
        "ovs-ofctl add-flow br0 in_port=nope,actions=drop", "ovs-ofctl add-flow br0 priority=70000,actions=drop",
        "ovs-ofctl add-flow br0 dl_src=zz,actions=drop", "ovs-ofctl add-flow br0 tcp,tp_dst=99999,actions=drop",
        "ovs-ofctl add-flow br0 actions=output:p9", "ovs-ofctl add-flow br0 ip",
        "ovs-ofctl add-flow br0 ip,nw_proto=abc,actions=drop", "ovs-ofctl add-flow br0 ct_state=+foo,actions=drop",
        "ovs-ofctl add-flow br0 ip,nw_src=1.2.3,actions=drop", "ovs-ofctl add-flow br0 actions=mod_vlan_vid:5000",
        "ovs-ofctl add-flow br0 idle_timeout=x,actions=drop", "ovs-ofctl add-flow br0 actions=drop,output:1",
        "ovs-ofctl add-flow br0 actions=goto_table:1,output:1", "ovs-ofctl add-flow br0 table=1,actions=goto_table:1",
        "ovs-ofctl add-flow br9 actions=drop",
        "ovs-ofctl add-flow br0 ct_state=+trk,tp_dst=80,actions=drop 2>/dev/null",
        "ovs-ofctl add-flow br0 ip,nw_src=1.2.3.4/255.0.255.0,actions=drop",
        "ovs-ofctl del-flows br0 --strict 'ip,actions=drop'", "ovs-ofctl del-flows br0 table=1",
        "ovs-ofctl --strict del-flows br0 priority=200,udp,tp_dst=53", "ovs-ofctl dump-flows br0 --no-stats",
        "ovs-ofctl mod-flows br0 arp,actions=NORMAL", "ovs-ofctl mod-flows br0 rarp,actions=drop",
        "ovs-ofctl dump-flows br0 --no-stats", "ovs-ofctl del-flows br0",
        "ovs-ofctl dump-flows br0 --no-stats")],
    "normal-vlans": [
        # three tries each: the real ovs-vswitchd applies a new tag or flow table asynchronously,
        # so one ping right after `ovs-vsctl set port` can be lost there (a reply counts: status 0)
        ("s1", "ovs-vsctl add-br br0 -- add-port br0 p1 tag=10"), ("s1", "ovs-vsctl add-port br0 p2 tag=20"),
        ("s1", "ovs-vsctl add-port br0 p3 tag=10"),
        ("h1", "ping -c 3 -i 0.2 -W 1 10.0.0.3 >/dev/null; echo $?"), ("h1", "ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null; echo $?"),
        ("s1", "ovs-appctl fdb/show br0 | sed 's/ *[0-9]*$//' | sort"),
        ("s1", "ovs-vsctl set port p2 tag=10"), ("h1", "ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null; echo $?"),
        # the real one's revalidators (every 500 ms) re-learn MACs from datapath flows whose
        # stats are still unpushed when fdb/flush comes (xlate cache XC_NORMAL): a second first
        ("s1", "sleep 1"), ("s1", "ovs-appctl fdb/flush br0"), ("s1", "ovs-appctl fdb/show br0"),
        ("s1", "ovs-ofctl add-flow br0 priority=100,icmp,actions=drop"),
        ("h1", "ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null; echo $?"),
        ("s1", "ovs-ofctl dump-flows br0 icmp | sed 1d"),
        ("s1", "ovs-ofctl del-flows br0 icmp"), ("h1", "ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null; echo $?"),
        ("s1", "ovs-ofctl show br0 | grep -c addr:"), ("s1", "ovs-appctl fdb/show br9"),
    ],
    # learn and move (ovs-actions(7)): a MAC-learning switch made of flows, as OVS's advanced
    # tutorial builds one: table 0 learns where each source lives into table 10 and resubmits
    # there; table 10's learned flows output to the port, its default floods
    "learn-move": [
        ("s1", "ovs-vsctl add-br br0 -- set-fail-mode br0 secure"), ("s1", "ovs-vsctl add-port br0 p1"),
        ("s1", "ovs-vsctl add-port br0 p2"), ("s1", "ovs-vsctl add-port br0 p3"),
        ("s1", "ovs-ofctl add-flow br0 'table=0,actions=learn(table=10,hard_timeout=300,priority=10,"
               "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,10)'"),
        ("s1", "ovs-ofctl add-flow br0 table=10,priority=0,actions=FLOOD"),
        ("s1", "ovs-ofctl add-flow br0 'table=0,priority=50000,arp,actions=learn(table=20,eth_type=0x806,"
               "NXM_OF_ARP_TPA[]=NXM_OF_ARP_SPA[],load:NXM_OF_IN_PORT[]->NXM_NX_REG1[0..15],"
               "load:0x2a->NXM_NX_REG2[8..15]),resubmit(,10)'"),
        ("s1", "ovs-ofctl dump-flows br0 --no-stats"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p1,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02"),
        ("s1", "ovs-ofctl dump-flows br0 table=10 --no-stats"),        # a trace learns nothing
        ("h1", "ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null; echo $?"),
        ("s1", "ovs-ofctl dump-flows br0 table=10 --no-stats"),
        ("s1", "ovs-ofctl dump-flows br0 table=20 --no-stats"),
        ("s1", "ovs-ofctl -O OpenFlow13 dump-flows br0 table=20 --no-stats"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p2,dl_src=02:00:00:00:00:02,dl_dst=02:00:00:00:00:01"),
        ("s1", "ovs-ofctl add-flow br0 'table=0,priority=40000,ip,nw_dst=10.0.0.9,actions=move:NXM_OF_ETH_SRC[]->"
               "NXM_OF_ETH_DST[],move:NXM_OF_IP_SRC[]->NXM_NX_REG3[],move:NXM_OF_IN_PORT[]->NXM_NX_REG4[0..15],"
               "move:NXM_NX_REG3[0..7]->NXM_NX_REG5[8..15],IN_PORT'"),
        ("s1", "ovs-ofctl dump-flows br0 ip --no-stats"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p3,icmp,dl_src=02:00:00:00:00:03,dl_dst=02:00:00:00:00:09,"
               "nw_src=10.0.0.3,nw_dst=10.0.0.9"),
        ("s1", "ovs-ofctl add-flow br0 'actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG3[]'"),
        ("s1", "ovs-ofctl add-flow br0 'actions=learn(NXM_OF_IP_SRC[])'"),
        ("s1", "ovs-ofctl add-flow br0 'actions=learn(table=255)'"),
        ("s1", "ovs-ofctl add-flow br0 'actions=move:reg0[0..15]->reg1[0..7]'"),
        ("s1", "ovs-ofctl del-flows br0 table=10"), ("s1", "ovs-ofctl dump-flows br0 table=10 --no-stats"),
    ],
    "trace": [
        ("s1", "ovs-vsctl add-br br0 -- add-port br0 p1 tag=10"),
        ("s1", "ovs-vsctl add-port br0 p2 -- set port p2 trunks=10,20 vlan_mode=trunk"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p1,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p2,dl_vlan=30"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p2,dl_vlan=20,dl_dst=ff:ff:ff:ff:ff:ff"),
        ("s1", "ovs-ofctl add-flow br0 'priority=100,tcp,actions=resubmit(,1)'"),
        ("s1", "ovs-ofctl add-flow br0 'table=1,priority=10,tcp,tp_dst=22,actions=mod_vlan_vid:7,output:2'"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=22"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=23"),
        ("s1", "ovs-ofctl add-flow br0 'priority=300,ip,actions=mod_dl_src:00:00:00:00:00:09,mod_nw_dst:1.1.1.1,"
               "mod_tp_dst:99,output:1,dec_ttl,output:2'"),
        ("s1", "ovs-appctl ofproto/trace br0 in_port=p1,tcp,nw_ttl=64"),
        ("s1", "ovs-appctl ofproto/trace br9 in_port=1"),
    ],
    # OpenFlow 1.1+ action sets: write_actions/clear_actions in add-flow, dump-flows and the trace
    # (ofpacts_execute_action_set's order), a group's bucket run as an action set, the errors
    # the spelling of mod_tp_*, mod_nw_tos, mod_vlan_*, set_tunnel and pop_vlan in a rule added over
    # OpenFlow 1.3 (set_field, one push_vlan) and 1.0, as dump-flows over 1.0/1.3 and ofproto/trace print it
    "of12-spelling": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure -- add-port br0 p1",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=4,tcp,actions=mod_tp_src:5,mod_tp_dst:6,mod_nw_src:1.2.3.4,"
        "mod_dl_src:00:00:00:00:00:01,mod_nw_tos:16,mod_vlan_vid:5,mod_vlan_pcp:3'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=4,udp,actions=mod_tp_src:5,mod_tp_dst:6,set_tunnel:0x5'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=4,udp,dl_vlan=7,actions=mod_vlan_pcp:3,strip_vlan,mod_vlan_vid:5'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=4,icmp,actions=push_vlan:0x8100,mod_vlan_vid:5'",
        "ovs-ofctl add-flow br0 'table=5,icmp,actions=push_vlan:0x8100,mod_vlan_vid:5'",
        "ovs-ofctl add-flow br0 'table=5,tcp,actions=mod_vlan_vid:5,mod_vlan_pcp:3,set_tunnel:0x5'",
        "ovs-ofctl -O OpenFlow13 --no-stats dump-flows br0", "ovs-ofctl --no-stats dump-flows br0",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=1,actions=resubmit(,4),resubmit(,5)'",
        "ovs-appctl ofproto/trace br0 in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=8,tp_dst=9",
        "ovs-appctl ofproto/trace br0 in_port=1,udp,dl_vlan=7,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=8,udp_dst=9",
        "ovs-appctl ofproto/trace br0 in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
        "ovs-ofctl -O OpenFlow13 parse-flow 'tcp,actions=mod_vlan_vid:5,mod_vlan_pcp:3,mod_tp_src:1'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,actions=set_field:10.0.0.9->ip_src'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,udp,actions=set_field:9->tcp_src'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,actions=write_actions(set_field:10.0.0.9->ip_src)'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,actions=mod_nw_src:10.0.0.9'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'ip,actions=mod_tp_src:9'",
        "ovs-ofctl add-flow br0 'table=2,actions=mod_nw_src:10.0.0.9'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,ip,actions=write_actions(mod_tp_src:9)'",
        "ovs-ofctl -O OpenFlow13 --no-stats dump-flows br0 table=2")],
    # the action set's output in the Final flow (actset_output), a group in it that must exist, and
    # a ct(table=) with an action set, where Open vSwitch 3.1 aborts (recirc_alloc_id__'s assertion)
    "action-set-ct": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure -- add-port br0 p1",
        "ovs-vsctl add-port br0 p2", "ovs-vsctl add-port br0 p3",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=2,tcp,actions=write_actions(output:3),goto_table:2'",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=8,tp_dst=9",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=1,tcp,actions=write_actions(output:3),goto_table:2'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,in_port=1,tcp,actions=clear_actions'",
        "ovs-appctl ofproto/trace br0 in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=8,tp_dst=9",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=3,tcp,actions=write_actions(output:1,group:5)'",
        "ovs-ofctl -O OpenFlow13 add-group br0 group_id=5,type=all,bucket=output:2",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=3,tcp,actions=write_actions(output:1,group:5)'",
        "ovs-appctl ofproto/trace br0 in_port=3,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=8,tp_dst=9",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,in_port=2,tcp,actions=ct(table=3)'",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=8,tp_dst=9",
        "pidof ovs-vswitchd >/dev/null; echo $?")],
    # a patch port's peer bridge in a trace: a blank line before it, at its output action's
    # indentation (or a level out when nothing follows in the table), its goto_table chain nested
    # as the first bridge's when an action set runs, a miss there shown as the peer's hidden rule
    "patch-trace": [("s1", c) for c in (
        'ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure -- add-port br0 p1',
        'ovs-vsctl add-port br0 p2',
        'ovs-vsctl add-port br0 p3',
        'ovs-vsctl add-br br1 -- set bridge br1 fail-mode=secure -- add-port br0 pa -- set interface pa type=patch options:peer=pb -- add-port br1 pb -- set interface pb type=patch options:peer=pa',
        'ovs-vsctl add-port br1 q1 -- set interface q1 type=internal',
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=1,actions=write_actions(output:2),goto_table:1'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=1,actions=output:pa,goto_table:2'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,actions=write_actions(output:3)'",
        "ovs-ofctl -O OpenFlow13 add-flow br1 'table=0,actions=write_actions(output:q1),goto_table:1'",
        "ovs-ofctl -O OpenFlow13 add-flow br1 'table=1,actions=goto_table:2'",
        "ovs-ofctl -O OpenFlow13 add-flow br1 'table=2,ip,actions=write_actions(set_field:10.0.0.9->ip_src)'",
        'ovs-appctl ofproto/trace br0 in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2',
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=1,actions=output:pa'",
        'ovs-appctl ofproto/trace br0 in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2',
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=2,actions=output:pa,output:1'",
        "ovs-ofctl -O OpenFlow13 add-flow br1 'table=0,priority=50000,in_port=pb,actions=output:q1'",
        'ovs-appctl ofproto/trace br0 in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2',
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=3,actions=output:1,output:pa'",
        'ovs-appctl ofproto/trace br0 in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2',
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=3,actions=resubmit(,5),output:1'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=5,actions=output:pa'",
        'ovs-appctl ofproto/trace br0 in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2',
        "ovs-ofctl -O OpenFlow13 add-flow br1 'table=0,priority=60000,in_port=pb,actions=goto_table:3'",
        'ovs-appctl ofproto/trace br0 in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2')],
    # push and pop: their parse errors, their spelling in dumps, traces (`is now`, `stack underflow`)
    "stack": [("s1", c) for c in (
        'ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure -- add-port br0 p1',
        'ovs-vsctl add-port br0 p2',
        "ovs-ofctl add-flow br0 'in_port=1,actions=load:0x5->NXM_NX_REG1[],push:NXM_NX_REG1[],push:reg1[0..7],load:0x7->NXM_NX_REG1[],pop:NXM_NX_REG2[0..15],pop:reg3,output:2'",
        "ovs-ofctl add-flow br0 'in_port=2,actions=pop:reg3,push:NXM_OF_IN_PORT[],pop:NXM_NX_REG4[0..3],output:1'",
        "ovs-ofctl add-flow br0 'actions=push:NXM_NX_REG0[]x'",
        "ovs-ofctl add-flow br0 'actions=push:foo'",
        "ovs-ofctl add-flow br0 'actions=pop:NXM_OF_IN_PORT[]'",
        'ovs-ofctl --no-stats dump-flows br0',
        'ovs-ofctl -O OpenFlow13 --no-stats dump-flows br0',
        'ovs-appctl ofproto/trace br0 in_port=1,icmp',
        'ovs-appctl ofproto/trace br0 in_port=2,icmp')],
    "action-set": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- set bridge br0 fail-mode=secure -- add-port br0 p1",
        "ovs-vsctl add-port br0 p2", "ovs-vsctl add-port br0 p3",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=1,ip,actions=output:2,"
        "write_actions(set_field:10.0.0.9->ip_src,output:3),goto_table:1'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=1,ip,actions=write_actions(mod_dl_dst:00:00:00:00:00:07,"
        "dec_ttl,strip_vlan,output:2,set_field:10.0.0.8->ip_dst),goto_table:2'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=2,ip,actions=set_field:10.0.0.7->ip_src,output:1'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=2,tcp,actions=write_actions(output:3),goto_table:3'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=3,tcp,actions=set_field:91->tcp_src,output:1,clear_actions'",
        "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=5,type=all,bucket=output:1,set_field:10.0.0.5->ip_src,"
        "bucket=output:2,bucket=mod_dl_src:00:00:00:00:00:05'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=3,ip,actions=write_actions(output:1,group:5)'",
        "ovs-ofctl -O OpenFlow13 --no-stats dump-flows br0 | LC_ALL=C sort",
        "ovs-ofctl --no-stats dump-flows br0 | LC_ALL=C sort",
        "ovs-ofctl add-flow br0 'table=5,actions=write_actions(output:1)'",
        "ovs-ofctl -O OpenFlow13 dump-flows br0 table=5 | tail -1",
        "ovs-appctl ofproto/trace br0 in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=8,tp_dst=9",
        "ovs-appctl ofproto/trace br0 in_port=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2",
        "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=7,type=all,bucket=output:1,move:NXM_NX_REG1[]->NXM_OF_IP_SRC[],"
        "bucket=output:3'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'table=0,in_port=2,udp,actions=write_actions(load:0xffffffff->NXM_NX_REG1[],"
        "move:NXM_NX_REG1[]->NXM_NX_REG2[],group:7)'",
        "ovs-appctl ofproto/trace br0 in_port=2,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=1,udp_dst=2",
        "ovs-appctl ofproto/trace br0 in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2 | tail -2",
        "ovs-ofctl del-flows br0", "ovs-ofctl -O OpenFlow13 add-flow br0 'ip,actions=write_actions(group:5)'",
        "ovs-appctl ofproto/trace br0 in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2 | tail -2",
        "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=8,type=all,bucket=output:1,set_field:10.0.0.5->ip_src'",
        "ovs-ofctl del-flows br0", "ovs-ofctl -O OpenFlow13 add-flow br0 'ip,actions=group:8'",
        "ovs-appctl ofproto/trace br0 in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2 | tail -2",
        "ovs-ofctl del-flows br0", "ovs-ofctl -O OpenFlow13 add-flow br0 'ip,actions=set_field:10.0.0.5->ip_src,output:1'",
        "ovs-appctl ofproto/trace br0 in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2 | tail -2",
        "ovs-ofctl del-flows br0", "ovs-ofctl -O OpenFlow13 add-flow br0 'ip,actions=load:0xa000005->NXM_NX_REG1[],"
        "move:NXM_NX_REG1[]->NXM_OF_IP_SRC[],output:1'",
        "ovs-appctl ofproto/trace br0 in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2 | tail -2",
        "ovs-appctl ofproto/trace br0 table=7,in_port=2,icmp", "ovs-appctl ofproto/trace br0 in_port=2,udp,tp_src=1",
        "ovs-ofctl del-flows br0",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'ip,actions=write_actions(load:0xffffffff->NXM_NX_REG1[],"
        "move:NXM_NX_REG1[]->NXM_NX_REG2[],group:7)'",
        "ovs-appctl ofproto/trace br0 in_port=2,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2 | tail -2",
        # ofproto/trace --ct-next: the state each conntrack recirculation resumes with
        "ovs-ofctl del-flows br0", "ovs-ofctl add-flow br0 'table=0,tcp,actions=ct(table=1)'",
        "ovs-ofctl add-flow br0 'table=1,ct_state=+trk+est,tcp,actions=output:3'",
        "ovs-ofctl add-flow br0 'table=1,ct_state=+trk+new,tcp,actions=output:1'",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp --ct-next trk,est",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp --ct-next 'trk new'", "ovs-appctl ofproto/trace br0 in_port=2,tcp",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp --ct-next new,est",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp --ct-next foo",
        "ovs-appctl ofproto/trace br0 in_port=2,tcp --ct-next",
        "ovs-appctl -vpoll_loop:off ofproto/trace br0 in_port=2,udp | tail -1",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'actions=goto_table:1,write_actions(output:1)'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'actions=write_actions(output:1),clear_actions'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'actions=write_actions(goto_table:1)'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'actions=write_actions(output:1),write_actions(output:2)'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'actions=clear_actions,output:1'",
        "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=6,type=all,bucket=actions=clear_actions'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'actions=apply_actions(output:1)'")],
    # which bucket of a select group each packet takes: OVS's dp_hash (the userspace datapath's
    # hash(sym_l4(0)): addresses, protocol, TCP ports) into the group's Webster-dealt hash table
    "select-buckets": [
        ("s1", "ovs-vsctl add-br br0 -- add-port br0 p1 -- set interface p1 ofport_request=1 -- add-port br0 p2 "
               "-- set interface p2 ofport_request=2 -- add-port br0 p3 -- set interface p3 ofport_request=3"),
        ("s1", "ovs-ofctl del-flows br0"),
        ("s1", "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=1,type=select,bucket=weight:10,actions=output:2,"
               "bucket=weight:30,actions=output:3'"),
        ("s1", "ovs-ofctl -O OpenFlow13 add-flow br0 in_port=1,ip,actions=group:1"),
        ("h1", "for i in $(seq 100 123); do ip neigh add 10.0.0.$i lladdr 02:00:00:00:00:99 dev eth0; done"),
        # one packet each: ICMP to 24 addresses, then UDP (whose ports sym_l4 leaves out) to 8
        *[line for probe in [*(f"ping -c 1 -W 0.2 10.0.0.{i}" for i in range(100, 124)),
                             *(f"echo x | nc -u -w0 10.0.0.{i} {port}" for i, port in zip(range(104, 112),
                                                                                        (53, 53, 67, 123, 4789,
                                                                                         5001, 6081, 9)))]
          for line in (("h1", f"{probe} >/dev/null 2>&1"), ("s1", _IN_FLIGHT),
                       ("h2", "cat /sys/class/net/eth0/statistics/rx_packets"),
                       ("h3", "cat /sys/class/net/eth0/statistics/rx_packets"))],
    ],
    # queue statistics (the real OpenFlow 1.3+ durations are uninitialised memory: not compared)
    "queue-stats": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- add-port br0 p1 -- set interface p1 ofport_request=1 -- add-port br0 p2 "
        "-- set interface p2 ofport_request=2", "ovs-ofctl queue-stats br0",
        "ovs-vsctl -- set port p2 qos=@q -- --id=@q create qos type=linux-htb other-config:max-rate=1000000 "
        "queues:1=@q1 queues:3=@q3 -- --id=@q1 create queue other-config:max-rate=300000 -- --id=@q3 create queue "
        "other-config:max-rate=300000 >/dev/null",
        "ovs-ofctl queue-stats br0", "ovs-ofctl -O OpenFlow13 queue-stats br0 | sed -E 's/duration=[0-9.]+s/duration=?/'",
        "ovs-ofctl queue-stats br0 2", "ovs-ofctl queue-stats br0 p2 3", "ovs-ofctl queue-stats br0 1",
        "ovs-ofctl queue-stats br0 1 7", "ovs-ofctl queue-stats br0 9", "ovs-ofctl queue-stats br0 ALL 1",
        "ovs-ofctl queue-stats br0 all 5", "ovs-ofctl queue-stats br0 LOCAL", "ovs-ofctl queue-stats br0 p9",
        "ovs-ofctl queue-stats br0 2 x", "ovs-ofctl -O OpenFlow13 queue-stats br0 2 7", "ovs-ofctl queue-stats br9",
        "ovs-ofctl -O OpenFlow11 queue-stats br0 1", "ovs-ofctl queue-stats br0 1 2 3")],
    "groups": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- add-port br0 p1", "ovs-vsctl add-port br0 p2", "ovs-vsctl add-port br0 p3",
        "ovs-ofctl add-group br0 group_id=1,type=all,bucket=output:1,bucket=output:2",
        "ovs-ofctl add-group br0 group_id=1,type=all,bucket=output:1",
        "ovs-ofctl -O OpenFlow13 add-group br0 group_id=1,type=all,bucket=output:3",
        "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=2,type=select,bucket=weight:10,actions=output:1,"
        "bucket=weight:20,actions=mod_dl_src:00:00:00:00:00:01,output:2'",
        "ovs-ofctl -O OpenFlow13 add-group br0 'group_id=3,type=ff,bucket=watch_port:1,actions=output:1,"
        "bucket=watch_port:2,actions=output:2'",
        "ovs-ofctl -O OpenFlow13 add-group br0 group_id=4,type=indirect,bucket=actions=output:3",
        "ovs-ofctl add-group br0 group_id=5,type=indirect,bucket=output:1,bucket=output:2",
        "ovs-ofctl add-group br0 group_id=6,type=foo,bucket=output:3", "ovs-ofctl add-group br0 type=all",
        "ovs-ofctl add-group br0 group_id=7,type=all,bucket=output:p9", "ovs-ofctl add-group br0 group_id=7",
        "ovs-ofctl add-group br0 group_id=0xffffff01,type=all", "ovs-ofctl add-group br0 group_id=7,type=ff,bucket=output:1",
        "ovs-ofctl add-group br0 'group_id=7,type=all,bucket=weight:x,actions=drop'",
        "ovs-ofctl add-group br0 group_id=7,type=all,foo=1",
        "ovs-ofctl add-group br0 group_id=8,type=all,bucket=output:1,bucket=drop",
        "ovs-ofctl add-group br0 group_id=9,type=all",
        "ovs-ofctl -O OpenFlow13 dump-groups br0 | sort", "ovs-ofctl dump-groups br0 | sort",
        "ovs-ofctl -O OpenFlow15 dump-groups br0 | sort", "ovs-ofctl -O OpenFlow13 dump-groups br0 2 | sort",
        "ovs-ofctl -O OpenFlow15 dump-groups br0 2", "ovs-ofctl dump-groups br0 3 | sort",
        "ovs-ofctl -O OpenFlow13 dump-group-stats br0 | sed 's/duration=[0-9.]*s/duration=Xs/' | sort",
        "ovs-ofctl -O OpenFlow13 add-flow br0 priority=10,in_port=3,actions=group:1",
        "ovs-ofctl -O OpenFlow13 add-flow br0 priority=10,in_port=2,actions=group:2",
        "ovs-ofctl -O OpenFlow13 add-flow br0 priority=10,in_port=1,actions=group:3",
        "ovs-ofctl add-flow br0 priority=12,udp,in_port=1,actions=group:4",
        "ovs-ofctl -O OpenFlow13 add-flow br0 priority=11,tcp,in_port=1,actions=group:99",
        "ovs-ofctl add-flow br0 in_port=1,actions=group:99",
        "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats | sort", "ovs-ofctl dump-flows br0 --no-stats | sort",
        "ovs-appctl ofproto/trace br0 in_port=3", "ovs-appctl ofproto/trace br0 in_port=1",
        "ovs-appctl ofproto/trace br0 in_port=1,udp", "ovs-appctl ofproto/trace br0 in_port=2,ip",
        "ovs-ofctl -O OpenFlow13 mod-group br0 group_id=1,type=all,bucket=output:1,bucket=output:3",
        "ovs-ofctl mod-group br0 group_id=50,type=all,bucket=output:3",
        "ovs-ofctl -O OpenFlow13 mod-group br0 group_id=50,type=all,bucket=output:3",
        "ovs-appctl ofproto/trace br0 in_port=3", "ovs-ofctl -O OpenFlow13 del-groups br0 group_id=4",
        "ovs-ofctl del-groups br0 group_id=1", "ovs-ofctl -O OpenFlow13 dump-groups br0 | sort",
        "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats | sort",
        "ovs-ofctl -O OpenFlow13 dump-group-stats br0 | sed 's/duration=[0-9.]*s/duration=Xs/' | sort",
        "ovs-ofctl del-groups br0", "ovs-ofctl dump-groups br0", "ovs-ofctl dump-flows br0 --no-stats")],
    "meters": [("s1", c) for c in (
        "ovs-vsctl add-br br0 -- add-port br0 p1",
        "ovs-ofctl add-meter br0 meter=1,kbps,band=type=drop,rate=1000",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=1,kbps,band=type=drop,rate=1000",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=1,kbps,band=type=drop,rate=2000",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=2,pktps,burst,stats,band=type=drop,rate=10,burst_size=20",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=3,band=type=drop,rate=10",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=4,kbps",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=5,kbps,band=type=foo,rate=1",
        "ovs-ofctl -O OpenFlow13 add-meter br0 kbps,band=type=drop,rate=1",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=x,kbps,band=type=drop,rate=1",
        "ovs-ofctl -O OpenFlow13 add-meter br0 meter=6,kbps,band=type=drop",
        "ovs-ofctl -O OpenFlow13 dump-meters br0", "ovs-ofctl -O OpenFlow13 dump-meters br0 meter=2",
        "ovs-ofctl -O OpenFlow13 meter-stats br0 | sed 's/duration:[0-9.]*s/duration:Xs/'",
        "ovs-ofctl -O OpenFlow13 meter-features br0",
        "ovs-ofctl -O OpenFlow13 add-flow br0 priority=5,ip,actions=meter:1,output:1",
        "ovs-ofctl -O OpenFlow13 add-flow br0 priority=5,udp,actions=meter:9,output:1",
        "ovs-ofctl add-flow br0 priority=6,tcp,actions=meter:1,output:1",
        "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats | sort",
        "ovs-appctl ofproto/trace br0 in_port=LOCAL,ip",
        "ovs-ofctl -O OpenFlow13 mod-meter br0 meter=1,kbps,band=type=drop,rate=3000",
        "ovs-ofctl -O OpenFlow13 mod-meter br0 meter=9,kbps,band=type=drop,rate=3000",
        "ovs-ofctl -O OpenFlow13 dump-meters br0 meter=1", "ovs-ofctl -O OpenFlow13 del-meter br0 meter=1",
        "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats", "ovs-ofctl -O OpenFlow13 del-meter br0 meter=7",
        "ovs-ofctl -O OpenFlow13 del-meters br0", "ovs-ofctl -O OpenFlow13 dump-meters br0",
        "ovs-ofctl dump-meters br0")],
    "tunnels": [("s1", "ip addr add 192.168.1.1/24 dev p1")] + [("s1", c) for c in (
        "ovs-vsctl add-br br0",
        "ovs-vsctl add-port br0 vx1 -- set interface vx1 type=vxlan options:remote_ip=192.168.1.2 options:key=flow",
        "ovs-vsctl add-port br0 vx2 -- set interface vx2 type=vxlan options:remote_ip=192.168.1.3 options:key=5",
        "ovs-vsctl add-port br0 gre0 -- set interface gre0 type=gre options:remote_ip=192.168.1.4",
        "ovs-vsctl add-port br0 gnv0 -- set interface gnv0 type=geneve options:remote_ip=flow options:key=flow",
        "ovs-vsctl add-port br0 bad0 -- set interface bad0 type=vxlan",
        "ovs-vsctl add-port br0 bad1 -- set interface bad1 type=gre options:remote_ip=foo",
        "ovs-vsctl add-port br0 vx3 -- set interface vx3 type=vxlan options:remote_ip=192.168.1.2 "
        "options:key=7 options:dst_port=8472 options:ttl=5 options:csum=true",
        "ovs-vsctl add-port br0 dup -- set interface dup type=vxlan options:remote_ip=192.168.1.3 options:key=5 "
        "options:foo=1",
        "ovs-vsctl show", "ovs-vsctl get interface vx1 ofport error status",
        "ovs-vsctl get interface bad0 ofport error", "ovs-vsctl get interface gnv0 status",
        "ovs-vsctl --columns=admin_state,error,ifindex,link_resets,link_state,mtu,name,ofport,options,statistics,"
        "status,type list interface vx3",
        "ovs-ofctl show br0 | sed 's/addr:.*//'", "ovs-ofctl -O OpenFlow13 show br0 | sed 's/addr:.*//'",
        "ovs-vsctl set interface gre0 options:remote_ip=192.168.1.9 -- get interface gre0 ofport",
        "ovs-ofctl add-flow br0 'in_port=vx1,tun_id=5,tun_src=192.168.1.2,actions=set_field:7->tun_id,"
        "set_field:10.0.0.9->tun_dst,output:vx1'",
        "ovs-ofctl add-flow br0 'tun_id=0x10/0xf0,actions=load:5->NXM_NX_TUN_ID[],output:LOCAL'",
        "ovs-ofctl add-flow br0 'priority=5,in_port=LOCAL,actions=set_tunnel:9,set_field:1.2.3.4->tun_src,drop'",
        "ovs-ofctl add-flow br0 'priority=6,tcp,actions=set_tunnel64:9'",
        "ovs-ofctl add-flow br0 'priority=7,tun_dst=10.0.0.0/8,actions=drop'",
        "ovs-ofctl -O OpenFlow13 add-flow br0 'priority=8,tun_id=0x99,actions=set_field:7->tun_id,"
        "set_field:7->reg2,set_field:1.2.3.4->tun_dst'",
        "ovs-ofctl add-flow br0 tun_id=x,actions=drop", "ovs-ofctl add-flow br0 tun_src=1.2.3,actions=drop",
        "ovs-ofctl add-flow br0 actions=set_tunnel:x",
        "ovs-ofctl dump-flows br0 --no-stats | sort", "ovs-ofctl -O OpenFlow13 dump-flows br0 --no-stats | sort",
        "ovs-appctl ofproto/trace br0 in_port=vx1,tun_id=5,tun_src=192.168.1.2,tun_dst=192.168.1.1",
        "ovs-appctl ofproto/trace br0 in_port=vx2,tun_id=0x15",
        "ovs-appctl ofproto/trace br0 in_port=LOCAL,tun_id=0x99,tun_src=10.0.0.1",
        "ovs-appctl ofproto/trace br0 in_port=gnv0,tun_id=0x99,tun_src=192.168.1.2,tun_dst=192.168.1.1",
        "ovs-appctl ofproto/trace br0 in_port=gnv0,tcp,tun_dst=10.1.1.1",
        "ovs-vsctl del-port vx1 -- del-port bad0 -- del-port bad1", "ovs-vsctl list-ports br0")],
}


def _sim_lab() -> tuple[Network, dict[str, object]]:
    net = Network()
    nodes = {n: net.add_node(n) for n in ("s1", *HOSTS)}
    for i, h in enumerate(HOSTS, 1):
        net.add_link(f"s1:p{i}", f"{h}:eth0")
    return net, nodes


# MACs are random; the aggregation key is the port number of the member whose Interface row's
# UUID is smallest (bridge.c registers a port's members in the database's UUID order)
_MACS = r"sed -E 's/([0-9a-f]{2}:){5}[0-9a-f]{2}/<mac>/g; s/(aggregation key|actor key|partner key): [0-9]+/\1: K/'"
# two bridges bonded to each other over two veth pairs (q1-r1, q2-r2), both speaking LACP
BOND_LINKS = [("s1:q1", "s1:r1", None), ("s1:q2", "s1:r2", None)]
BOND_CASE = [("s1", c) for c in (
    "for p in q1 q2 r1 r2; do ip link set $p up; done",
    # (ofport_request: OVS numbers the ports of one transaction in its name hash's order)
    "ovs-vsctl add-br br1", "ovs-vsctl add-bond br1 ba q1 q2 lacp=active other_config:lacp-time=fast "
    "-- set interface q1 ofport_request=1 -- set interface q2 ofport_request=2",
    "ovs-vsctl add-br br2",
    "ovs-vsctl add-bond br2 bb r1 r2 lacp=active bond_mode=balance-slb other_config:lacp-time=fast "
    "-- set interface r1 ofport_request=1 -- set interface r2 ofport_request=2",
    "sleep 4", "ovs-vsctl show",
    f"ovs-appctl lacp/show | {_MACS}", f"ovs-appctl lacp/show bb | {_MACS}",
    f"ovs-appctl bond/show ba | grep -v 'active member' | {_MACS}",
    f"ovs-appctl bond/show bb | grep -v -e 'active member' -e 'next rebalance' | {_MACS}",
    "ovs-appctl bond/list | cut -f1-3", "ovs-vsctl get interface q1 lacp_current",
    "ovs-vsctl get port ba lacp bond_mode", "ovs-appctl ofproto/trace br1 in_port=q1,dl_dst=ff:ff:ff:ff:ff:ff",
    "ovs-appctl lacp/show nope", "ovs-appctl bond/show nope",
    "ovs-vsctl add-bond br1 b3 q9", "ovs-vsctl add-bond br1 b3 q9 lacp=active",
    "ovs-vsctl add-bond br1 b3 q8 q9 bond_mode=foo", "ovs-vsctl add-bond br1 b3 q1 q9",
    "ovs-vsctl add-bond br1 ba q8 q9", "ovs-vsctl --may-exist add-bond br1 ba q2 q1",
    "ovs-vsctl --may-exist add-bond br1 ba q1 q9", "ovs-vsctl --may-exist add-bond br2 ba q1 q2",
    "ovs-vsctl add-bond-iface ba r1", "ovs-vsctl del-bond-iface bb q1", "ovs-vsctl del-bond-iface zz",
    "ovs-vsctl del-bond-iface ba q2 -- del-bond-iface ba q1",
    "ovs-vsctl set port ba lacp=off -- set port bb lacp=off", "sleep 1",
    f"ovs-appctl bond/show ba | grep -v 'active member' | {_MACS}", "ovs-appctl lacp/show",
    "ovs-vsctl get interface q1 lacp_current", "ovs-vsctl del-port ba", "ovs-appctl bond/list | cut -f1-3")]


def test_bonds_between_two_bridges_agree():
    """Two of Open vSwitch's own bonds negotiate LACP with each other, on both."""
    missing = real_ovs_missing()
    if missing is not None:
        pytest.skip(missing)
    lab = RealOvsLab(["s1"], BOND_LINKS)
    try:
        net = Network()
        s1 = net.add_node("s1")
        for a, b, _m in BOND_LINKS:
            net.add_link(a, b)
        differences = []
        for node, line in BOND_CASE:
            real = lab.run(node, line)
            r = s1.run(line)
            want = (real[0], normalise(real[1], str(lab.dir)), normalise(real[2], str(lab.dir)))
            got = (r.status, normalise(r.output), normalise(r.error))
            if want != got:
                differences.append(f"{node}$ {line}\n  real: {want!r}\n  sim:  {got!r}")
    finally:
        lab.close()
    assert not differences, f"{len(differences)} of {len(BOND_CASE)} lines differ:\n" + "\n".join(differences)


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_commands_same_answers(case):
    if case in BEYOND_BUDGET and os.environ.get("NETPLEX_OVS_TWIN") != "1":
        pytest.skip("the twin's budget: NETPLEX_OVS_TWIN=1 runs it")
    missing = real_ovs_missing()
    if missing is not None:
        pytest.skip(missing)
    lab = RealOvsLab(["s1", *HOSTS], [(f"s1:p{i}", f"{h}:eth0", None) for i, h in enumerate(HOSTS, 1)])
    try:
        _net, nodes = _sim_lab()
        for node, line in SETUP:
            assert lab.run(node, line)[0] == 0, line
            assert nodes[node].run(line).status == 0, line   # type: ignore[attr-defined]
        differences = lab.differences(nodes, CASES[case])
    finally:
        lab.close()
    assert not differences, f"{len(differences)} of {len(CASES[case])} lines differ:\n" + "\n".join(differences)
