"""ns-3 side of benchmark T1: one TCP CUBIC flow, h0 - r1 - r2 - r3 - h1, 10 simulated seconds.

Run with the Python of a venv holding `pip install ns3` (3.44). The topology
and every setting matched to benchmarks/t1_tcp.py (netplex's side):
PointToPoint links of 0.5 ms, 10 Gbit/s except r2 - r3 at 1 Gbit/s, MTU 1500;
queue: the traffic-control layer's default pfifo_fast (1000 packets) over a
device queue of 1 packet (netplex: one FIFO of txqueuelen 1000); TcpCubic,
SegmentSize 1448 (1500 - 20 - 20 - 12 bytes of timestamps, Linux's MSS with
timestamps), SACK and timestamps on (ns-3 defaults), initial cwnd 10, delayed
ACK every 2 segments, RcvBufSize 1 MiB (netplex's advertised window), a send
buffer large enough never to limit. BulkSend h0 -> PacketSink h1 from t = 0
for SECONDS; goodput = bytes the sink received / SECONDS.
Times only Simulator.Run(); prints one JSON line.

Usage: python t1_tcp.py [seconds]
"""
import json
import sys
import time

from ns import ns

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0

t0 = time.perf_counter()
ns.Config.SetDefault("ns3::TcpL4Protocol::SocketType", ns.StringValue("ns3::TcpCubic"))
ns.Config.SetDefault("ns3::TcpSocket::SegmentSize", ns.UintegerValue(1448))
ns.Config.SetDefault("ns3::TcpSocket::InitialCwnd", ns.UintegerValue(10))
ns.Config.SetDefault("ns3::TcpSocket::DelAckCount", ns.UintegerValue(2))
ns.Config.SetDefault("ns3::TcpSocket::RcvBufSize", ns.UintegerValue(1 << 20))
ns.Config.SetDefault("ns3::TcpSocket::SndBufSize", ns.UintegerValue(1 << 24))
ns.Config.SetDefault("ns3::TcpSocketBase::Sack", ns.BooleanValue(True))
ns.Config.SetDefault("ns3::TcpSocketBase::Timestamp", ns.BooleanValue(True))

nodes = ns.NodeContainer()
nodes.Create(5)  # h0 r1 r2 r3 h1
ns.InternetStackHelper().Install(nodes)

tch = ns.TrafficControlHelper()
tch.SetRootQueueDisc("ns3::PfifoFastQueueDisc", "MaxSize", ns.QueueSizeValue(ns.QueueSize("1000p")))

addr = ns.Ipv4AddressHelper()
ifaces = []
for i in range(4):
    p2p = ns.PointToPointHelper()
    p2p.SetDeviceAttribute("DataRate", ns.StringValue("1Gbps" if i == 2 else "10Gbps"))
    p2p.SetDeviceAttribute("Mtu", ns.UintegerValue(1500))
    p2p.SetChannelAttribute("Delay", ns.StringValue("500us"))
    p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", ns.QueueSizeValue(ns.QueueSize("1p")))
    pair = ns.NodeContainer()
    pair.Add(nodes.Get(i))
    pair.Add(nodes.Get(i + 1))
    devs = p2p.Install(pair)
    tch.Install(devs)
    addr.SetBase(ns.Ipv4Address(f"10.0.{i}.0"), ns.Ipv4Mask("255.255.255.0"))
    ifaces.append(addr.Assign(devs))
ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()

port = 5001
dst = ns.InetSocketAddress(ifaces[3].GetAddress(1), port)
sink_helper = ns.PacketSinkHelper("ns3::TcpSocketFactory",
                                  ns.InetSocketAddress(ns.Ipv4Address.GetAny(), port).ConvertTo())
sink_apps = sink_helper.Install(nodes.Get(4))
sink_apps.Start(ns.Seconds(0.0))
bulk = ns.BulkSendHelper("ns3::TcpSocketFactory", dst.ConvertTo())
bulk.SetAttribute("MaxBytes", ns.UintegerValue(0))
bulk.SetAttribute("SendSize", ns.UintegerValue(1 << 17))
bulk_apps = bulk.Install(nodes.Get(0))
bulk_apps.Start(ns.Seconds(0.0))
ns.Simulator.Stop(ns.Seconds(SECONDS))
t_setup = time.perf_counter() - t0

ev0 = ns.Simulator.GetEventCount()
t1 = time.perf_counter()
c1 = time.process_time()
ns.Simulator.Run()
t_run = time.perf_counter() - t1
c_run = time.process_time() - c1
events = ns.Simulator.GetEventCount() - ev0
sink = sink_apps.Get(0).GetObject[ns.PacketSink]()
received = int(sink.GetTotalRx())
ns.Simulator.Destroy()

print(json.dumps({
    "scenario": "T1_tcp_cubic",
    "sim_seconds": SECONDS,
    "setup_s": round(t_setup, 3),
    "run_s": round(t_run, 3),
    "run_cpu_s": round(c_run, 3),     # CPU seconds of the run: steadier on a shared machine
    "events": int(events),
    "goodput_bps": round(received * 8 / SECONDS),
    "sim_s_per_wall_s": round(SECONDS / t_run, 4),
}))
