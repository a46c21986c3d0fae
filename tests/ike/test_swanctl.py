"""charon and swanctl in the simulator: what a user sees when it works and when it does not."""
from __future__ import annotations

from pathlib import Path

from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]


def _net(tmp_path: Path, edit=lambda s: s):
    """The site-to-site example, edited, run in the simulator: (result, network)."""
    path = tmp_path / "s2s.yaml"
    path.write_text(edit((ROOT / "examples" / "ipsec-site-to-site-psk.yaml").read_text()))
    b = SimBackend()
    return run_scenario(load_scenario(path), b), b.net


def test_swanctl_without_charon_and_charon_twice(tmp_path) -> None:
    _res, net = _net(tmp_path)
    pc = net.nodes["pc1"]
    r = pc.run("swanctl --list-sas")
    assert (r.status, r.error) == (1, "connecting to 'unix:///var/run/charon.vici' failed: No such file or "
                                      "directory\nError: connecting to 'default' URI failed: No such file or "
                                      "directory\n")
    r = net.nodes["gw1"].run("charon")
    assert r.status == 1 and "charon already running" in r.error


def test_wrong_psk_is_authentication_failed_and_installs_nothing(tmp_path) -> None:
    def edit(s: str) -> str:
        i = s.rindex('secret = "0sv3ry-s3cr3t"')
        return s[:i] + 'secret = "guess"' + s[i + len('secret = "0sv3ry-s3cr3t"'):]
    res, net = _net(tmp_path, edit)
    assert not res.passed
    gw2 = net.nodes["gw2"]
    r = gw2.run("swanctl --initiate --child offices")
    assert r.status == 1 and "received AUTHENTICATION_FAILED notify error" in r.output
    assert r.error == "initiate failed: establishing CHILD_SA 'offices' failed\n"
    assert gw2.cmd("ip xfrm state count") == "\t SAD count 0\n"
    assert net.nodes["gw1"].cmd("swanctl --list-sas") == ""


def test_trap_policy_starts_the_connection_on_traffic(tmp_path) -> None:
    def edit(s: str) -> str:
        s = s.replace("      swanctl --initiate --child offices\n", "")
        return s.replace("mode = tunnel", "mode = tunnel\n                start_action = trap", 1)
    res, net = _net(tmp_path, edit)
    # nobody ran swanctl --initiate: the probes' first packet hit gw1's trap policy, whose ACQUIRE started IKE
    assert res.passed
    assert "offices: #1, reqid 1, INSTALLED, TUNNEL, ESP:AES_GCM_16-128" in net.nodes["gw1"].cmd("swanctl --list-sas")


def test_unsupported_config_is_refused_by_name(tmp_path) -> None:
    _res, net = _net(tmp_path)
    gw1 = net.nodes["gw1"]
    gw1.run("sed -i 's/auth = psk/auth = eap-md5/' /etc/swanctl/swanctl.conf")
    r = gw1.run("swanctl --load-all")
    assert r.status == 1 and "local.auth = eap-md5 is not supported" in r.error
    r = gw1.run("swanctl --stats")
    assert (r.status, r.error) == (2, "netplex: swanctl --stats is not supported\n")
    gw1.run("sed -i 's/auth = eap-md5/auth = psk/; s/esp_proposals = aes128gcm16-x25519/ah_proposals = sha256/' "
            "/etc/swanctl/swanctl.conf")
    r = gw1.run("swanctl --load-all")
    assert r.status == 1 and "children.offices.ah_proposals is not supported (netplex's charon negotiates ESP only" \
        in r.error, r.error


def test_terminate_deletes_both_sides(tmp_path) -> None:
    _res, net = _net(tmp_path)
    r = net.nodes["gw1"].run("swanctl --terminate --ike site2site")
    assert r.status == 0 and r.output.endswith("terminate completed successfully\n")
    assert net.nodes["gw2"].cmd("swanctl --list-sas; ip xfrm state count") == "\t SAD count 0\n"


def test_swanctl_rekey_ike_gives_new_spis_and_keeps_the_child_sa(tmp_path) -> None:
    res, net = _net(tmp_path)
    assert res.passed
    gw1, gw2 = net.nodes["gw1"], net.nodes["gw2"]
    before = gw1.cmd("swanctl --list-sas")
    r = gw1.run("swanctl --rekey --ike site2site")
    assert (r.status, r.output) == (0, "rekey completed successfully\n")
    after, other = gw1.cmd("swanctl --list-sas"), gw2.cmd("swanctl --list-sas")
    head = [line for line in after.splitlines() if "ESTABLISHED" in line]
    # one IKE SA, #2, with SPIs neither side had before; gw1 asked, so it is the new SA's initiator
    assert len(head) == 1 and head[0].startswith("site2site: #2, ESTABLISHED, IKEv2, ")
    spii, spir = head[0].split(", ")[-1].split(" ")
    assert spii.endswith("_i*") and spii[:16] not in before and spir[:16] not in before
    assert f"{spii[:16]}_i {spir[:16]}_r*" in other
    # the CHILD SA is the same one (same SPIs), and the tunnel still carries traffic
    spis = [line for line in before.splitlines() if line.startswith(("    in ", "    out "))]
    assert [line for line in after.splitlines() if line.startswith(("    in ", "    out "))][0][:14] == spis[0][:14]
    assert "offices: #1, reqid 1, INSTALLED" in after
    assert net.nodes["pc1"].run("ping -c 2 10.2.0.10").status == 0
    assert gw2.run("swanctl --rekey --child offices").status == 0
    assert net.nodes["pc2"].run("ping -c 2 10.1.0.10").status == 0


def test_swanctl_rekey_errors(tmp_path) -> None:
    _res, net = _net(tmp_path)
    gw1 = net.nodes["gw1"]
    assert gw1.run("swanctl --rekey --ike nosuch").error == "rekey failed: no matching SAs to rekey found\n"
    assert gw1.run("swanctl --rekey").error == "rekey failed: please specify an SA to rekey\n"
