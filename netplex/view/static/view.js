// netplex view: draws one recorded run (GET /api/run). Plain JavaScript and SVG, no build step,
// nothing fetched from elsewhere. State lives in the URL's hash (#tab=packets&packet=3&step=2&node=r1),
// so a view can be shared and tests can open a given state.
"use strict";
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const state = { tab: "probes", packet: null, step: 0, node: null, probe: null, playing: false, tour: null };
let tour = [];

// The guided tour: what a stage means, in the words of the seed's walk-throughs.
const EXPLAIN = {
  arp_solicit: "ARP request: the sender does not know the next hop's MAC address yet, so it broadcasts who-has.",
  arp_process: "ARP: the request or reply is processed and the neighbour table learns the MAC address.",
  br_fdb_update: "Bridge learning: the bridge records behind which port this source MAC address is (its FDB).",
  br_flood: "Bridge flooding: the destination MAC is unknown (or broadcast), so the frame leaves by every other port.",
  br_multicast_flood: "Multicast flooding: the bridge sends the frame to the ports of the group's members.",
  br_forward: "Bridge forwarding: the FDB knows the destination's port; the frame leaves by that port only.",
  br_pass_frame_up: "The bridge passes the frame up to its own IP stack (the bridge device has an address).",
  vxlan_xmit: "VXLAN encapsulation: the inner Ethernet frame is wrapped in outer IP/UDP 4789 with the VNI, sent to the remote VTEP or the VTEPs' multicast group.",
  vxlan_rcv: "VXLAN decapsulation: the VTEP strips the outer IP/UDP/VXLAN headers and hands the inner frame to its bridge.",
  vxlan_snoop: "VTEP learning (flood-and-learn): the inner source MAC is remembered as behind the outer source IP.",
  ip_tunnel_xmit: "Tunnel encapsulation (GRE/IPIP): the packet gets an outer IP header towards the tunnel's remote end.",
  gre_rcv: "GRE decapsulation: the outer headers are removed and the inner packet is received again.",
  xfrm_output: "IPsec: the packet matches a policy (SPD); the SA encrypts it into ESP.",
  xfrm_input: "IPsec: the ESP packet is authenticated and decrypted with its SA; the inner packet continues.",
  mpls_xmit: "MPLS: a label stack is pushed (the route's encap mpls).",
  mpls_forward: "MPLS label switching: the top label is swapped or popped (PHP).",
  ip_forward: "Routing: the router forwards the packet to its next hop, TTL decremented.",
  ovs_table: "Open vSwitch: the highest-priority matching flow in the table decides the actions.",
  igmp: "IGMP: a host reports (or leaves) a multicast group.",
  icmp_send: "ICMP error: the stack answers with an ICMP message (unreachable, time exceeded).",
  tcp_v4_send_reset: "TCP reset: nothing listens on the port, the stack answers RST.",
  drop: "Dropped: the packet ends here, for the reason shown.",
};
function explain(e) {
  if (e.table === "nat" && e.verdict && /SNAT|DNAT|MASQUERADE|REDIRECT/.test(e.verdict + " " + e.text)) {
    return `NAT in ${e.chain}: the rule rewrites the ${/DNAT|REDIRECT|PREROUTING|OUTPUT/.test(e.chain + e.verdict) ? "destination" : "source"} address (${e.text}).`;
  }
  if (e.hook && e.verdict && /DROP|REJECT/.test(e.verdict)) return `Firewall: ${e.table} ${e.chain} ${e.rule ? "rule " + e.rule : "policy"} says ${e.verdict}.`;
  return EXPLAIN[e.stage] || null;
}
function buildTour() {
  const seen = new Set();
  for (const p of run.packets) {
    p.hops.forEach((h, i) => {
      for (const e of h.events) {
        const why = explain(e); if (!why) continue;
        const key = `${e.stage}|${h.node}|${e.table || ""}|${e.verdict || ""}`;
        if (seen.has(key) || tour.length >= 60) continue;
        seen.add(key);
        tour.push({ packet: p.id, step: i, node: h.node, caption: `${h.node}: ${why}` });
      }
    });
  }
}
function tourGo(k) {
  if (!tour.length) { $("tour-caption").textContent = "Nothing notable was traced in this run."; return; }
  state.tour = Math.max(0, Math.min(tour.length - 1, k));
  const t = tour[state.tour];
  showTab("packets");
  selectPacket(t.packet, t.step);
  $("tour-caption").textContent = `${state.tour + 1}/${tour.length} · packet #${t.packet} · ${t.caption}`;
  writeHash();
}
let run = null, pos = {}, packetsById = new Map();

function el(tag, attrs, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("tab")) state.tab = h.get("tab");
  if (h.get("packet")) state.packet = Number(h.get("packet"));
  if (h.get("step")) state.step = Number(h.get("step"));
  if (h.get("node")) state.node = h.get("node");
  if (h.get("probe")) state.probe = Number(h.get("probe"));
  if (h.get("tour")) state.tour = Number(h.get("tour"));
}
function writeHash() {
  const h = new URLSearchParams();
  h.set("tab", state.tab);
  if (state.packet !== null) { h.set("packet", state.packet); h.set("step", state.step); }
  if (state.node) h.set("node", state.node);
  if (state.probe !== null) h.set("probe", state.probe);
  if (state.tour !== null) h.set("tour", state.tour);
  history.replaceState(null, "", "#" + h.toString());
}

// --- layout: a deterministic force-directed placement ----------------------------------------
function layout(nodes, links, w, h) {
  const n = nodes.length, p = {};
  nodes.forEach((nd, i) => { const a = 2 * Math.PI * i / Math.max(1, n);
    p[nd.name] = { x: w / 2 + (w / 3) * Math.cos(a), y: h / 2 + (h / 3) * Math.sin(a), vx: 0, vy: 0 }; });
  const iters = n > 150 ? 60 : 250, k = Math.sqrt((w * h) / Math.max(1, n)) * 0.8;
  for (let it = 0; it < iters; it++) {
    const t = 0.1 * (1 - it / iters) * k;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
      const a = p[nodes[i].name], b = p[nodes[j].name];
      let dx = a.x - b.x, dy = a.y - b.y, d = Math.hypot(dx, dy) || 0.01;
      const f = (k * k) / d; dx /= d; dy /= d;
      a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
    }
    for (const l of links) {
      const a = p[l.a[0]], b = p[l.b[0]]; if (!a || !b) continue;
      let dx = a.x - b.x, dy = a.y - b.y, d = Math.hypot(dx, dy) || 0.01;
      const f = (d * d) / k; dx /= d; dy /= d;
      a.vx -= dx * f; a.vy -= dy * f; b.vx += dx * f; b.vy += dy * f;
    }
    for (const nd of nodes) { const q = p[nd.name], v = Math.hypot(q.vx, q.vy) || 1;
      q.x += (q.vx / v) * Math.min(v, t); q.y += (q.vy / v) * Math.min(v, t); q.vx = q.vy = 0;
      q.x = Math.min(w - 40, Math.max(40, q.x)); q.y = Math.min(h - 30, Math.max(30, q.y)); }
  }
  return p;
}

function addrOf(node, ifname) {
  const nd = run.nodes.find((x) => x.name === node);
  const i = nd && nd.interfaces.find((x) => x.name === ifname);
  return i && i.addresses.length ? i.addresses[0] : "";
}

function drawTopology() {
  const svg = $("topo"); svg.innerHTML = "";
  const w = svg.clientWidth || 800, h = svg.clientHeight || 600;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  pos = layout(run.nodes, run.links, w, h);
  const gl = el("svg:g", { id: "links" }); svg.appendChild(gl);
  run.links.forEach((l, i) => {
    const a = pos[l.a[0]], b = pos[l.b[0]]; if (!a || !b) return;
    const g = el("svg:g", { class: "link", id: `link-${i}`, "data-a": l.a[0], "data-b": l.b[0] });
    g.appendChild(el("svg:line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
    for (const [end, p, q] of [[l.a, a, b], [l.b, b, a]]) {
      const x = p.x + (q.x - p.x) * 0.25, y = p.y + (q.y - p.y) * 0.25;
      const addr = addrOf(end[0], end[1]);
      g.appendChild(el("svg:text", { x, y: y - 3 }, end[1]));
      if (addr) g.appendChild(el("svg:text", { x, y: y + 9 }, addr));
    }
    const rate = l.rate_bps ? `${l.rate_bps / 1e6} Mbit/s` : "", delay = l.delay_ns ? ` ${l.delay_ns / 1e6} ms` : "";
    if (rate || delay) g.appendChild(el("svg:text", { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 4 }, rate + delay));
    gl.appendChild(g);
  });
  const gn = el("svg:g", { id: "nodes" }); svg.appendChild(gn);
  for (const nd of run.nodes) {
    const p = pos[nd.name];
    const g = el("svg:g", { class: `node ${nd.role}`, id: `node-${nd.name}`, transform: `translate(${p.x},${p.y})` });
    if (nd.role === "router") g.appendChild(el("svg:polygon", { points: "0,-18 20,0 0,18 -20,0" }));
    else if (nd.role === "switch") g.appendChild(el("svg:rect", { x: -20, y: -12, width: 40, height: 24 }));
    else g.appendChild(el("svg:circle", { r: 16 }));
    g.appendChild(el("svg:text", { y: 32 }, nd.name));
    g.appendChild(el("svg:title", {}, `${nd.name} (${nd.kind}, ${nd.role})`));
    g.addEventListener("click", () => { state.node = nd.name; showTab("node"); renderNode(); writeHash(); });
    gn.appendChild(g);
  }
  svg.appendChild(el("svg:circle", { id: "dot", class: "dot", r: 7, cx: -100, cy: -100 }));
}

// --- probes --------------------------------------------------------------------------------------
function observedText(p) {
  const o = p.observed || {};
  if (p.kind === "ping") return `${o.replies || 0}/${o.sent || 0} replies` + (o.rtt_ms != null ? `, rtt ${o.rtt_ms} ms` : "");
  if (p.kind === "tcp" || p.kind === "udp") return o.peer ? `peer ${o.peer}:${o.peer_port}` : (o.error || "no answer");
  if (p.kind === "cmd") return `exit ${o.exit}`;
  if (p.kind === "iperf") return (o.flows || []).map((f) => `${(f.wire_bps / 1e6).toFixed(2)} Mbit/s`).join(", ");
  return JSON.stringify(o);
}
function renderProbes() {
  const t = $("probes"); t.innerHTML = "";
  const head = el("tr"); ["#", "probe", "expect", "result", "observed", "packets"].forEach((c) => head.appendChild(el("th", {}, c)));
  t.appendChild(head);
  for (const p of run.probes) {
    const tr = el("tr", { id: `probe-${p.index}` });
    tr.appendChild(el("td", {}, String(p.index)));
    tr.appendChild(el("td", {}, p.what));
    tr.appendChild(el("td", {}, p.expect));
    tr.appendChild(el("td", { class: p.passed ? "pass" : "fail" }, p.passed ? "PASS" : "FAIL"));
    tr.appendChild(el("td", {}, observedText(p)));
    const a = el("td", {}, p.traced ? `${p.packets.length} traced` : "not traced (plotted)");
    a.style.cursor = "pointer";
    a.addEventListener("click", () => { state.probe = p.index; showTab("packets"); renderPackets(); writeHash(); });
    tr.appendChild(a);
    t.appendChild(tr);
  }
  const notes = $("notes"); notes.innerHTML = "";
  for (const n of run.notes || []) notes.appendChild(el("p", {}, "note: " + n));
  if (run.error) notes.appendChild(el("p", { class: "fail" }, "error: " + JSON.stringify(run.error)));
  if (run.truncated) notes.appendChild(el("p", {}, "the trace was cut at the recording's limit"));
}

// --- packets and their journey -------------------------------------------------------------------
function packetLabel(p) {
  const nodes = [...new Set(p.hops.map((h) => h.node))].join("→");
  return `#${p.id} ${p.summary}  [${nodes}]` + (p.dropped ? "  DROPPED" : "");
}
function renderPackets() {
  const ol = $("packets"); ol.innerHTML = "";
  const f = $("packet-filter").value.trim().toLowerCase();
  let shown = 0;
  for (const p of run.packets) {
    if (state.probe !== null && p.probe !== state.probe) continue;
    const label = packetLabel(p);
    if (f && !label.toLowerCase().includes(f)) continue;
    if (++shown > 500) { ol.appendChild(el("li", {}, "… more: narrow the filter")); break; }
    const li = el("li", { value: p.id, id: `packet-${p.id}`, class: (p.dropped ? "dropped " : "") + (p.id === state.packet ? "selected" : "") }, label);
    li.addEventListener("click", () => { selectPacket(p.id, 0); });
    ol.appendChild(li);
  }
}
function selectPacket(id, step) {
  state.packet = id; state.step = step; state.playing = false;
  renderPackets(); renderJourney(); writeHash();
}
function eventLine(e) {
  const parts = [e.stage];
  if (e.dev || e.out_dev) parts.push(`${e.dev || ""}${e.out_dev ? " → " + e.out_dev : ""}`);
  if (e.hook) parts.push(`${e.table || ""} ${e.chain || e.hook}${e.rule ? " rule " + e.rule : " policy"}`);
  if (e.verdict) parts.push(e.verdict);
  if (e.reason) parts.push("reason " + e.reason);
  return parts.join(" · ");
}
function renderJourney() {
  const box = $("journey"), detail = $("hop-detail");
  box.innerHTML = ""; detail.innerHTML = "";
  document.querySelectorAll(".node").forEach((n) => n.classList.remove("current", "visited"));
  document.querySelectorAll(".link").forEach((n) => n.classList.remove("active"));
  const p = packetsById.get(state.packet);
  if (!p) { $("journey-title").textContent = "pick a packet"; return; }
  state.step = Math.max(0, Math.min(state.step, p.hops.length - 1));
  $("journey-title").textContent = `packet #${p.id}: hop ${state.step + 1} of ${p.hops.length}`;
  box.appendChild(el("h3", {}, `Journey of packet #${p.id}`));
  const ol = el("ol");
  p.hops.forEach((h, i) => {
    const li = el("li", { class: i === state.step ? "current" : "", "data-step": i }, `${h.node}: ` + h.events.map((e) => e.stage).join(", "));
    li.addEventListener("click", () => { state.step = i; renderJourney(); writeHash(); });
    ol.appendChild(li);
  });
  box.appendChild(ol);
  const hop = p.hops[state.step];
  detail.appendChild(el("h3", {}, `Hop ${state.step + 1}: ${hop.node}`));
  const t = el("table");
  const head = el("tr"); ["t (µs)", "stage", "decision", "what"].forEach((c) => head.appendChild(el("th", {}, c))); t.appendChild(head);
  for (const e of hop.events) {
    const tr = el("tr", { class: e.stage === "drop" ? "drop" : (/vxlan|gre|esp|gtp|encap|decap|tunnel|xfrm/i.test(e.stage) ? "encap" : "") });
    tr.appendChild(el("td", {}, (e.t / 1000).toFixed(3)));
    tr.appendChild(el("td", {}, e.stage));
    tr.appendChild(el("td", {}, eventLine(e)));
    tr.appendChild(el("td", {}, e.text));
    t.appendChild(tr);
  }
  detail.appendChild(t);
  renderEncap(p, hop, detail);
  for (let i = 0; i <= state.step; i++) {
    const g = $(`node-${p.hops[i].node}`); if (g) g.classList.add(i === state.step ? "current" : "visited");
  }
  if (state.step > 0) {
    const a = p.hops[state.step - 1].node, b = hop.node;
    document.querySelectorAll(".link").forEach((l) => {
      const la = l.getAttribute("data-a"), lb = l.getAttribute("data-b");
      if ((la === a && lb === b) || (la === b && lb === a)) l.classList.add("active");
    });
    animateDot(pos[a], pos[b]);
  } else if (pos[hop.node]) { $("dot").setAttribute("cx", pos[hop.node].x); $("dot").setAttribute("cy", pos[hop.node].y); }
}
// --- tunnels: the headers drawn around the inner packet, and the tunnel's span on the drawing ---
const TUNNEL = /^(VXLAN|Geneve|GRE|ESP|GTP-U|MPLS)\b/;
const DECAP = new Set(["vxlan_rcv", "geneve_rcv", "gre_rcv", "xfrm_input", "gtp_rcv"]);
// GTP-U is removed by the gateway's userspace: the stack's last stage is the local delivery to its socket.
function isDecap(e, t) {
  return DECAP.has(e.stage) || (e.stage === "mpls_forward" && /popped/.test(e.text)) ||
    (e.stage === "ip_local_deliver" && t && t.layers.some((x) => x.startsWith("GTP-U")));
}
// Nested boxes: every layer after a tunnel header is the inner packet, drawn inside its own box.
function layerBoxes(layers) {
  const box = el("div", { class: "pkt" });
  for (let i = 0; i < layers.length; i++) {
    const kind = layers[i].split(" ")[0];
    box.appendChild(el("div", { class: "hdr" + (TUNNEL.test(layers[i]) ? " tunnel" : ""), "data-kind": kind }, layers[i]));
    if (TUNNEL.test(layers[i]) && i + 1 < layers.length) {
      const inner = layerBoxes(layers.slice(i + 1));
      inner.classList.add("inner");
      box.appendChild(inner);
      break;
    }
  }
  return box;
}
// The tunnel packet seen at this hop, what happens to its encapsulation here, and the span's ends.
function tunnelAt(p, hop, stepIndex) {
  if (hop.wrapped_in !== undefined) {
    const t = packetsById.get(hop.wrapped_in);
    if (t && t.layers) return { t, role: "added", from: hop.node, to: tunnelEnd(t) };
  }
  if (!p.layers) return null;
  let role = "crossed";
  if (hop.events.some((e) => isDecap(e, p))) role = "removed";
  else if (stepIndex === 0 && hop.events.some((e) => e.stage === "ip_local_out" || e.stage === "mpls_xmit")) role = "added";
  return { t: p, role, from: p.hops[0].node, to: tunnelEnd(p) };
}
function tunnelEnd(t) {
  const h = t.hops.find((x) => x.events.some((e) => isDecap(e, t)));
  return (h || t.hops[t.hops.length - 1]).node;
}
function renderEncap(p, hop, detail) {
  const old = $("tunnel-span"); if (old) old.remove();
  const tun = tunnelAt(p, hop, state.step);
  if (!tun) return;
  const header = tun.t.layers.find((x) => TUNNEL.test(x));
  const words = { added: "encapsulation added", crossed: "inside the tunnel", removed: "encapsulation removed" };
  const box = el("div", { id: "encap", class: "encap-box " + tun.role });
  box.appendChild(el("h4", {}, `${header.split(" ")[0]} ${words[tun.role]} at ${hop.node}` +
    (tun.t !== p ? ` (packet #${tun.t.id})` : "")));
  box.appendChild(layerBoxes(tun.t.layers));
  detail.appendChild(box);
  const a = pos[tun.from], b = pos[tun.to];
  if (!a || !b || tun.from === tun.to) return;
  const g = el("svg:g", { id: "tunnel-span", class: "tunnel-span", "data-from": tun.from, "data-to": tun.to });
  g.appendChild(el("svg:line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y }));
  g.appendChild(el("svg:text", { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 + 14 }, header));
  $("links").appendChild(g);
}

function animateDot(a, b) {
  if (!a || !b) return;
  const dot = $("dot"), t0 = performance.now(), dur = 400;
  function frame(now) {
    const f = Math.min(1, (now - t0) / dur);
    dot.setAttribute("cx", a.x + (b.x - a.x) * f); dot.setAttribute("cy", a.y + (b.y - a.y) * f);
    if (f < 1) requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
}
function step(d) {
  const p = packetsById.get(state.packet); if (!p) return;
  state.step = Math.max(0, Math.min(p.hops.length - 1, state.step + d));
  renderJourney(); writeHash();
}
function play() {
  const p = packetsById.get(state.packet); if (!p) return;
  state.playing = true; state.step = 0; renderJourney();
  const tick = () => {
    if (!state.playing) return;
    if (state.step >= p.hops.length - 1) { state.playing = false; writeHash(); return; }
    step(1); setTimeout(tick, 700);
  };
  setTimeout(tick, 700);
}

// --- counters, iperf and events -------------------------------------------------------------------
function plot(svg, times, series, marks) {
  svg.innerHTML = "";
  const w = svg.clientWidth || 500, h = svg.clientHeight || 220, pad = 34;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  const g = el("svg:g", { class: "plot" }); svg.appendChild(g);
  const tmax = Math.max(1, ...times), vmax = Math.max(1, ...series.flatMap((s) => s.values));
  const X = (t) => pad + (w - 2 * pad) * t / tmax, Y = (v) => h - pad - (h - 2 * pad) * v / vmax;
  g.appendChild(el("svg:line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: "#999" }));
  g.appendChild(el("svg:text", { x: pad, y: pad - 8 }, String(vmax)));
  g.appendChild(el("svg:text", { x: w - pad, y: h - pad + 14 }, `${(tmax / 1e9).toFixed(3)} s`));
  for (const s of series) {
    const d = s.values.map((v, i) => `${i ? "L" : "M"}${X(times[i])},${Y(v)}`).join(" ");
    g.appendChild(el("svg:path", { d, class: s.cls }));
    g.appendChild(el("svg:text", { x: X(times[times.length - 1]) - 20, y: Y(s.values[s.values.length - 1]) - 4, class: s.cls }, s.name));
  }
  for (const m of marks) {
    g.appendChild(el("svg:line", { x1: X(m.t), y1: pad, x2: X(m.t), y2: h - pad, class: "event" }));
    g.appendChild(el("svg:text", { x: X(m.t) + 3, y: pad + 10 }, m.label));
  }
}
function eventMarks() {
  return (run.events || []).filter((e) => e.ran).map((e) => ({ t: e.time_ms * 1e6, label: `${e.action} ${e.target}` }));
}
function renderCounters() {
  const sel = $("counter-select"), keys = Object.keys(run.counters.series);
  if (!sel.options.length) for (const k of keys) sel.appendChild(el("option", { value: k }, k));
  const key = sel.value || keys[0]; if (!key) return;
  const s = run.counters.series[key];
  plot($("counter-plot"), run.counters.times, [{ name: "rx", cls: "rx", values: s.rx_packets }, { name: "tx", cls: "tx", values: s.tx_packets }], eventMarks());
  const t = $("counters"); t.innerHTML = "";
  const head = el("tr"); ["interface", "rx packets", "rx bytes", "rx dropped", "tx packets", "tx bytes", "tx dropped"].forEach((c) => head.appendChild(el("th", {}, c)));
  t.appendChild(head);
  for (const k of keys) {
    const v = run.counters.series[k], last = (a) => String(a[a.length - 1]);
    const tr = el("tr", { id: `counter-${k}` }); tr.appendChild(el("td", {}, k));
    ["rx_packets", "rx_bytes", "rx_dropped", "tx_packets", "tx_bytes", "tx_dropped"].forEach((c) => tr.appendChild(el("td", {}, last(v[c]))));
    t.appendChild(tr);
  }
}
function renderEvents() {
  const box = $("events"); box.innerHTML = "";
  const evs = run.events || [];
  box.appendChild(el("h3", {}, evs.length ? "Scenario events" : "No scenario events"));
  for (const e of evs) box.appendChild(el("p", {}, `${e.at_ms / 1000}s ${e.action} ${e.target}: ` + (e.ran ? `ran at ${e.time_ms / 1000}s` : "not run")));
  const flows = [];
  for (const p of run.probes) (p.observed.flows || []).forEach((f, i) => flows.push({ p, f, i }));
  if (!flows.length) { $("iperf-plot").style.display = "none"; return; }
  const start = flows[0].p.start_ns, n = Math.max(...flows.map((x) => x.f.intervals.length));
  const times = Array.from({ length: n + 1 }, (_, i) => start + i * 1e9);
  const series = flows.map(({ p, f, i }, k) => ({ name: `probe ${p.index} flow ${i}`, cls: k % 2 ? "tx" : "rx", values: [0, ...f.intervals] }));
  box.appendChild(el("h3", {}, "iperf throughput (bits/s per second)"));
  plot($("iperf-plot"), times, series, eventMarks());
}

// --- a node's tables -------------------------------------------------------------------------------
function renderNode() {
  const box = $("node-tables"); box.innerHTML = "";
  document.querySelectorAll(".node").forEach((n) => n.classList.remove("selected"));
  if (!state.node) { box.textContent = "click a node on the drawing"; return; }
  const nd = run.nodes.find((n) => n.name === state.node);
  box.appendChild(el("h3", {}, `${state.node} (${nd ? nd.kind + ", " + nd.role : "?"})`));
  const tables = run.tables[state.node] || {};
  for (const [cmd, out] of Object.entries(tables)) {
    box.appendChild(el("h4", {}, `${state.node}# ${cmd}`));
    box.appendChild(el("pre", { "data-cmd": cmd }, out));
  }
}

function showTab(name) {
  state.tab = name;
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${name}`));
  if (name === "counters") renderCounters();
  if (name === "events") renderEvents();
}

async function main() {
  readHash();
  const r = await fetch("/api/run");
  run = await r.json();
  for (const p of run.packets) packetsById.set(p.id, p);
  $("title").textContent = run.scenario;
  $("status").textContent = run.error ? "could not run" : (run.passed ? "PASSED" : "FAILED");
  $("status").className = "status " + (run.passed ? "pass" : "fail");
  $("subtitle").textContent = `${run.file} · ${run.nodes.length} nodes · ${run.links.length} links · ${run.packets.length} packets traced`;
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => { showTab(b.dataset.tab); writeHash(); }));
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("play").addEventListener("click", play);
  $("packet-filter").addEventListener("input", renderPackets);
  $("tour-next").addEventListener("click", () => tourGo(state.tour === null ? 0 : state.tour + 1));
  $("tour-prev").addEventListener("click", () => tourGo(state.tour === null ? 0 : state.tour - 1));
  buildTour();
  $("counter-select").addEventListener("change", renderCounters);
  drawTopology(); renderProbes(); renderPackets(); renderJourney(); renderNode(); showTab(state.tab);
  if (state.tour !== null) tourGo(state.tour);
  document.body.setAttribute("data-ready", "1");
}
main();
