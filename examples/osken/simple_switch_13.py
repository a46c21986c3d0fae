"""A MAC-learning switch as an os-ken application, over OpenFlow 1.3 (written for netplex's
sdn-os-ken example; the same idea as the learning switch of os-ken's and Ryu's books).

Each switch that connects gets a table-miss flow (priority 0: everything to the
controller). A PACKET_IN teaches the switch's table where its source MAC lives; a packet
to a MAC already learned gets a flow (priority 1: in_port, eth_src, eth_dst -> that port)
and is sent there, anything else is flooded. After each flow it installs, the application
asks the switch for its flow and port statistics (OFPMP_FLOW, OFPMP_PORT_STATS) and logs
them; a PORT_STATUS makes it log the port and forget the MACs learned on a port that went
away or down. Run it with netplex's osken-manager:

    osken-manager --ofp-tcp-listen-port 6653 examples/osken/simple_switch_13.py
"""
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class LearningSwitch13(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.where = {}          # dpid -> {mac: port}

    def flow(self, dp, priority, match, actions, idle_timeout=0):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, priority=priority, match=match, instructions=inst,
                                      idle_timeout=idle_timeout))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        self.logger.info("switch %016x connected", dp.id)
        self.flow(dp, 0, parser.OFPMatch(), [parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)])

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        table = self.where.setdefault(dp.id, {})
        table[eth.src] = in_port
        out = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out)]
        if out != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_src=eth.src, eth_dst=eth.dst)
            self.flow(dp, 1, match, actions)
            self.logger.info("flow dpid=%016x in_port=%d %s -> %s output:%d", dp.id, in_port, eth.src, eth.dst, out)
            dp.send_msg(parser.OFPFlowStatsRequest(dp))
            dp.send_msg(parser.OFPPortStatsRequest(dp, 0, ofp.OFPP_ANY))
        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=msg.buffer_id, in_port=in_port, actions=actions,
                                        data=data))

    @set_ev_cls(ofp_event.EventOFPFlowStatsReply, MAIN_DISPATCHER)
    def on_flow_stats(self, ev):
        for st in sorted(ev.msg.body, key=lambda s: (s.table_id, -s.priority, str(s.match))):
            fields = ",".join(f"{k}={v}" for k, v in sorted(st.match.items()))
            self.logger.info("flow-stats dpid=%016x table=%d priority=%d %s packets=%d bytes=%d",
                             ev.msg.datapath.id, st.table_id, st.priority, fields or "any", st.packet_count,
                             st.byte_count)

    @set_ev_cls(ofp_event.EventOFPPortStatsReply, MAIN_DISPATCHER)
    def on_port_stats(self, ev):
        for st in sorted(ev.msg.body, key=lambda s: s.port_no):
            self.logger.info("port-stats dpid=%016x port=%d rx_packets=%d tx_packets=%d rx_bytes=%d tx_bytes=%d",
                             ev.msg.datapath.id, st.port_no, st.rx_packets, st.tx_packets, st.rx_bytes,
                             st.tx_bytes)

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def on_port_status(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp = dp.ofproto
        reason = {ofp.OFPPR_ADD: "add", ofp.OFPPR_DELETE: "delete", ofp.OFPPR_MODIFY: "modify"}.get(msg.reason, "?")
        port = msg.desc
        down = bool(port.state & ofp.OFPPS_LINK_DOWN)
        self.logger.info("port-status dpid=%016x %s port=%d name=%s config=%s link=%s curr=%#x speed=%d", dp.id,
                         reason, port.port_no, port.name.decode(),
                         "PORT_DOWN" if port.config & ofp.OFPPC_PORT_DOWN else "0", "down" if down else "up",
                         port.curr, port.curr_speed)
        if msg.reason == ofp.OFPPR_DELETE or down:
            table = self.where.get(dp.id, {})
            for mac in [m for m, p in table.items() if p == port.port_no]:
                del table[mac]
