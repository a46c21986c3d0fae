"""Gratuitous ARP on the external network (issue 14, scope 2): the L3 agent announces each
address it puts on a router's port (neutron ip_lib.send_ip_addr_adv_notif: three rounds of
`arping -U` and `arping -A`), so an upstream's neighbour cache follows a floating IP that
moved to another router at once. examples/cloud-garp agrees with the kernel twin
(tests/differential, NETPLEX_CLOUD_TWIN=1)."""
from __future__ import annotations

from pathlib import Path

from netplex.cloud.agent import host_lines
from netplex.cloud.scenario import build_controller, local_ips
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_l3_agent_announces_the_gateway_the_floating_ips_and_its_interfaces() -> None:
    scenario = load_scenario(EXAMPLES / "cloud-floating-ip.yaml")
    ctl, _ = build_controller(scenario)
    (r,) = ctl.routers.values()
    lines, _ = host_lines(ctl, "network1", local_ips(scenario))
    gw, qr = ctl.ports[r.gateway_port], ctl.ports[r.interfaces[0]]
    ns = f"qrouter-{r.id}"
    for dev, address in ((qr.device("qr-"), qr.ip), (gw.device("qg-"), gw.ip), (gw.device("qg-"), "198.51.100.10")):
        garps = [ln for ln in lines if ln.startswith(f"ip netns exec {ns} arping ") and ln.endswith(f" {address}")]
        assert garps == [f"ip netns exec {ns} arping {m} -I {dev} -c 1 -w 2 {address}" for m in ("-U", "-A")] * 3
        # announced once the address is on the port
        added = next(i for i, ln in enumerate(lines) if ln.startswith(f"ip -n {ns} addr add {address}/"))
        assert lines.index(garps[0]) > added
    assert not any("arping" in ln for ln in host_lines(ctl, "compute1", local_ips(scenario))[0])


def test_an_upstream_cache_follows_a_moved_floating_ip() -> None:
    scenario = load_scenario(EXAMPLES / "cloud-garp.yaml")
    ctl, _ = build_controller(scenario)
    macs = {r.name: ctl.ports[r.gateway_port].mac for r in ctl.routers.values()}
    text = (EXAMPLES / "cloud-garp.yaml").read_text()
    assert f"lladdr {macs['r1']} dev eth0 nud stale" in text                     # the cache held r1's MAC
    assert f'expect_output: "198.51.100.10 dev eth0 lladdr {macs["r2"]} STALE"' in text   # and holds r2's
    result = run_scenario(scenario, SimBackend())
    assert result.error is None and all(p.passed for p in result.probes), result.probes
    # a permanent entry is the admin's: no GARP moves it, the internet's packets for the address still
    # go to r1, which no longer holds it, and the connection fails (what the GARP spares a stale entry)
    pinned = load_scenario_text(text.replace(f"lladdr {macs['r1']} dev eth0 nud stale",
                                             f"lladdr {macs['r1']} dev eth0 nud permanent"), "pinned.yaml")
    result = run_scenario(pinned, SimBackend())
    assert [p.passed for p in result.probes] == [False, True, False]
    assert result.probes[0].observed["output"] == f"198.51.100.10 dev eth0 lladdr {macs['r1']} PERMANENT \n"
