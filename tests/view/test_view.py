"""netplex view: a recorded run (what the page shows), the read-only server over HTTP, and the
page itself in headless Chromium (driven by Selenium: load, step a packet's journey, open a node)."""
from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from netplex.cli import app
from netplex.scenario.loader import load_scenario
from netplex.view import ViewServer, load_recording, record_scenario

ROOT = Path(__file__).resolve().parent.parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def vxlan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """examples/vxlan-multicast.yaml recorded through the command users type."""
    path = tmp_path_factory.mktemp("rec") / "vx.npx"
    r = runner.invoke(app, ["run", str(ROOT / "examples" / "vxlan-multicast.yaml"), "--record", str(path)])
    assert r.exit_code == 0, r.stderr
    assert f"recorded: {path}" in r.stdout
    return path, load_recording(path)


def test_recording_holds_topology_journeys_counters_and_tables(vxlan: tuple[Path, dict]) -> None:
    _, rec = vxlan
    assert rec["scenario"] == "vxlan-multicast" and rec["passed"] is True
    roles = {n["name"]: n["role"] for n in rec["nodes"]}
    assert roles["underlay"] == "switch" and roles["vm1"] == "host"
    vtep1 = next(n for n in rec["nodes"] if n["name"] == "vtep1")
    assert any("192.168.1.1/24" in i["addresses"] for i in vtep1["interfaces"])
    assert {tuple(sorted((lk["a"][0], lk["b"][0]))) for lk in rec["links"]} >= {("underlay", "vtep1"), ("vm1", "vtep1")}
    # the ping's packets: a VXLAN-encapsulated one decapsulated on a VTEP, hop by hop
    stages = [(h["node"], e["stage"]) for p in rec["packets"] for h in p["hops"] for e in h["events"]]
    assert ("vtep3", "vxlan_rcv") in stages and any(s == "ip_local_out" for _, s in stages)
    ping = rec["probes"][1]
    assert ping["kind"] == "ping" and ping["passed"] and ping["packets"]
    # counters per interface, one sample before each probe and one after the last
    assert len(rec["counters"]["times"]) == len(rec["probes"]) + 1
    assert rec["counters"]["series"]["vm1:eth0"]["tx_packets"][-1] > 0
    # a node's tables as it prints them
    assert "dst 192.168.1.2" in rec["tables"]["vtep1"]["bridge fdb show"] or \
        "vxlan0" in rec["tables"]["vtep1"]["bridge fdb show"]
    assert rec["tables"]["vtep1"]["ip route"].startswith(("10.", "192.", "default"))


def test_recording_is_deterministic() -> None:
    sc = ROOT / "examples" / "docker-port-mapping.yaml"
    a = record_scenario(load_scenario(sc))[1]
    b = record_scenario(load_scenario(sc))[1]
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    nat = [e for p in a["packets"] for h in p["hops"] for e in h["events"] if e.get("table") == "nat"]
    assert any(e.get("verdict") == "DNAT" or "DNAT" in e["text"] for e in nat)


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_server_serves_page_and_run_read_only(vxlan: tuple[Path, dict]) -> None:
    _, rec = vxlan
    server = ViewServer(rec)
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        status, headers, body = get(server.url)
        assert status == 200 and b'<script src="view.js"' in body
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        status, _, body = get(server.url + "view.js")
        assert status == 200 and b"/api/run" in body and b"http" not in body.replace(b'"http://www.w3.org', b"")
        status, _, body = get(server.url + "api/run")
        assert status == 200 and json.loads(body) == rec
        for method in ("POST", "PUT", "DELETE"):
            assert get(server.url + "api/run", method)[0] == 405
        assert get(server.url + "../netplex/cli.py")[0] == 404
        assert get(server.url + "static/../record.py")[0] == 404
    finally:
        server.close()


def test_view_refuses_what_is_not_a_recording(tmp_path: Path) -> None:
    bad = tmp_path / "x.npx"
    bad.write_text("hello")
    r = runner.invoke(app, ["view", str(bad), "--no-browser"])
    assert r.exit_code == 2 and "not a netplex recording" in r.stderr


ROUTED = """\
name: twin-record
nodes:
  h1: {setup: "ip addr add 10.0.1.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.1.1"}
  r: {setup: "ip addr add 10.0.1.1/24 dev eth0; ip addr add 10.0.2.1/24 dev eth1; ip link set eth0 up;
      ip link set eth1 up; sysctl -w net.ipv4.ip_forward=1"}
  h2: {setup: "ip addr add 10.0.2.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.2.1"}
links: [{ends: [h1:eth0, r:eth0]}, {ends: [r:eth1, h2:eth0]}]
probes:
  - ping: {from: h1, to: 10.0.2.2}
"""


@pytest.mark.linux
def test_record_on_the_kernel_twin_from_its_captures(tmp_path: Path) -> None:
    """`--record --backend linux`: the packets are what the twin's capture saw on every interface."""
    if os.geteuid() != 0:
        pytest.skip("the kernel twin needs root")
    f = tmp_path / "routed.yaml"
    f.write_text(ROUTED)
    r = runner.invoke(app, ["run", str(f), "--record", str(tmp_path / "t.npx"), "--backend", "linux"])
    assert r.exit_code == 0, r.stderr
    rec = load_recording(tmp_path / "t.npx")
    assert rec["backend"] == "linux" and [n["name"] for n in rec["nodes"]] == ["h1", "r", "h2"]
    echo = next(p for p in rec["packets"] if "ICMP echo-request" in p["summary"])
    assert [h["node"] for h in echo["hops"]] == ["h1", "r", "h2"]
    assert [e["dev"] for e in echo["hops"][1]["events"]] == ["eth0", "eth1"]      # in on eth0, out on eth1
    assert echo["summary"].startswith("IPv4 10.0.1.2 > 10.0.2.2 proto 1 ttl 64 | ICMP echo-request")
    assert "10.0.2.0/24 dev eth1" in rec["tables"]["r"]["ip route"]
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return                    # the page's own test (below) names what is missing
    from selenium.webdriver.common.by import By
    browser, server, shots = _open_page(rec, tmp_path)
    try:
        browser.find_element(By.CSS_SELECTOR, '#tabs [data-tab="packets"]').click()
        browser.find_element(By.ID, f"packet-{echo['id']}").click()
        browser.find_element(By.ID, "next").click()
        detail = browser.find_element(By.ID, "hop-detail").text
        assert browser.find_element(By.CSS_SELECTOR, "#hop-detail h3").text.endswith("r")
        assert "capture" in detail and "eth1: IPv4 10.0.1.2 > 10.0.2.2" in detail
        browser.save_screenshot(str(shots / "twin-journey.png"))
    finally:
        browser.quit()
        server.close()


def _browser():
    """Headless Chromium through Selenium, or a skip naming what is missing."""
    try:
        from selenium import webdriver
    except ImportError:
        pytest.skip("needs selenium (pip install selenium)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("needs chromium and chromium-driver (Debian packages)")
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=opts)


def _open_page(rec: dict, tmp_path: Path) -> tuple[Any, ViewServer, Path]:
    """The recording served and loaded in headless Chromium; where screenshots go."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    shots = Path(os.environ.get("NETPLEX_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    browser = _browser()
    server = ViewServer(rec)
    server.start()
    try:
        browser.get(server.url)
        WebDriverWait(browser, 10).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    except BaseException:
        browser.quit()
        server.close()
        raise
    return browser, server, shots


def test_page_in_headless_chromium(vxlan: tuple[Path, dict], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    _, rec = vxlan
    browser, server, shots = _open_page(rec, tmp_path)
    try:
        assert browser.find_element(By.ID, "status").text == "PASSED"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#nodes .node")) == len(rec["nodes"])
        assert len(browser.find_elements(By.CSS_SELECTOR, "#probes tr")) == len(rec["probes"]) + 1
        browser.save_screenshot(str(shots / "1-loaded.png"))
        # a packet's journey: the encapsulated ping request reaching vtep3, stepped hop by hop
        browser.find_element(By.CSS_SELECTOR, '#tabs [data-tab="packets"]').click()
        target = next(p for p in rec["packets"] if any(h["node"] == "vtep3" and
                                                         any(e["stage"] == "vxlan_rcv" for e in h["events"])
                                                         for h in p["hops"]))
        browser.find_element(By.ID, f"packet-{target['id']}").click()
        assert browser.find_element(By.ID, "journey-title").text == f"packet #{target['id']}: hop 1 of {len(target['hops'])}"
        for _ in range(len(target["hops"]) - 1):
            browser.find_element(By.ID, "next").click()
        last = target["hops"][-1]
        assert browser.find_element(By.CSS_SELECTOR, "#hop-detail h3").text.endswith(last["node"])
        assert "current" in browser.find_element(By.ID, f"node-{last['node']}").get_attribute("class")
        detail = browser.find_element(By.ID, "hop-detail").text
        assert all(e["stage"] in detail for e in last["events"])
        assert "#packet=" in browser.current_url or "packet=" in browser.current_url
        browser.save_screenshot(str(shots / "2-journey.png"))
        # a node's tables, opened by clicking the node on the drawing
        browser.find_element(By.CSS_SELECTOR, "#node-vtep1 circle").click()
        tables = browser.find_element(By.ID, "node-tables").text
        assert "vtep1# ip route" in tables and "vtep1# bridge fdb show" in tables
        assert rec["tables"]["vtep1"]["ip route"].splitlines()[0] in tables
        browser.save_screenshot(str(shots / "3-node.png"))
        # the guided tour: the run's notable moments explained, one click each
        captions = []
        for _ in range(40):
            browser.find_element(By.ID, "tour-next").click()
            caption = browser.find_element(By.ID, "tour-caption").text
            if captions and caption == captions[-1]:
                break
            captions.append(caption)
        assert captions[0].startswith("1/")
        assert any("VXLAN decapsulation" in c and c.split(" · ")[2].startswith("vtep") for c in captions)
        assert any("Bridge flooding" in c for c in captions) and any("ARP request" in c for c in captions)
        browser.save_screenshot(str(shots / "4-tour.png"))
        browser.find_element(By.CSS_SELECTOR, '#tabs [data-tab="counters"]').click()
        assert browser.find_elements(By.CSS_SELECTOR, "#counter-plot path")
        assert all((shots / f).stat().st_size > 10_000 for f in ("1-loaded.png", "2-journey.png", "3-node.png", "4-tour.png"))
    finally:
        browser.quit()
        server.close()


# A tunnelled packet drawn as nested boxes (the outer headers around the inner packet) at the hop
# where the encapsulation is added, crossed and removed, and the tunnel's span dashed on the drawing.
# The expected header text comes from the scenario file (the VNI, SPI, label a user configured).
# An MPLS frame is rebuilt by every LSR, so its journey is the one hop that pops the label.
TUNNELS = [
    ("vxlan-multicast", "VXLAN vni 101", "ICMP echo-request", "vtep1", "VNI 101"),
    ("ipsec-manual-xfrm", "ESP spi 0x00001000", "encrypted", "gw1", "spi 0x00001000"),
    ("mpls-lsp", "MPLS label 300 ttl 61", "ICMP echo-request", "r4", "label 300"),
    ("mobile/lte-attach", "GTP-U teid 0x", "IPv4 10.45.", "enb1", ":2152"),
]


@pytest.mark.parametrize(("example", "header", "inner", "origin", "traced"), TUNNELS, ids=[t[0].split("/")[-1] for t in TUNNELS])
def test_tunnel_drawn_as_nested_headers(example: str, header: str, inner: str, origin: str, traced: str,
                                        tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    name = example.split("/")[-1]
    path = tmp_path / f"{name}.npx"
    r = runner.invoke(app, ["run", str(ROOT / "examples" / f"{example}.yaml"), "--record", str(path)])
    assert r.exit_code == 0, r.stderr
    rec = load_recording(path)
    target = next(p for p in rec["packets"] if any(x.startswith(header) for x in p.get("layers", []))
                  and p["hops"][0]["node"] == origin and inner in " ".join(p["layers"]))
    # the stack's own trace text (vxlan_rcv, xfrm_input, mpls_forward) names the same VNI/SPI/label
    assert any(traced in e["text"] for h in target["hops"] for e in h["events"])
    browser, server, shots = _open_page(rec, tmp_path)
    try:
        browser.find_element(By.CSS_SELECTOR, '#tabs [data-tab="packets"]').click()
        browser.find_element(By.ID, "packet-filter").send_keys(f"#{target['id']} ")
        browser.find_element(By.ID, f"packet-{target['id']}").click()
        roles = []
        for i, hop in enumerate(target["hops"]):
            if i:
                browser.find_element(By.ID, "next").click()
            box = browser.find_element(By.ID, "encap")
            browser.execute_script("arguments[0].scrollIntoView()", box)
            title = box.find_element(By.TAG_NAME, "h4").text
            roles.append(title.split(" at ")[0])
            assert title.endswith(f"at {hop['node']}")
            # the tunnel header is drawn outside the inner packet's box, the inner headers inside it
            outer = box.find_element(By.CSS_SELECTOR, ".pkt:not(.inner) > .hdr.tunnel")
            assert outer.text.startswith(header)
            nested = box.find_element(By.CSS_SELECTOR, ".pkt:not(.inner) > .pkt.inner")
            assert inner in nested.text and header not in nested.text
            span = browser.find_elements(By.ID, "tunnel-span")
            if target["hops"][0]["node"] != target["hops"][-1]["node"]:
                assert span and span[0].get_attribute("data-from") == origin
                assert header in span[0].text
            if i == 0:
                browser.save_screenshot(str(shots / f"5-encap-{name}.png"))
        kind = header.split()[0]
        if len(target["hops"]) > 2:
            assert f"{kind} inside the tunnel" in roles
        if len(target["hops"]) > 1:
            assert roles[0] == f"{kind} encapsulation added"
        assert roles[-1] == f"{kind} encapsulation removed"
        browser.save_screenshot(str(shots / f"6-decap-{name}.png"))
        # the inner packet's own journey names the tunnel packet it was wrapped into, at the hop it entered
        wrapped = next(((p, i, h) for p in rec["packets"] for i, h in enumerate(p["hops"])
                        if h.get("wrapped_in") == target["id"]), None)
        if wrapped is not None:
            p, i, h = wrapped
            browser.find_element(By.ID, "packet-filter").send_keys(Keys.CONTROL, "a", Keys.DELETE, f"#{p['id']} ")
            browser.find_element(By.ID, f"packet-{p['id']}").click()
            for _ in range(i):
                browser.find_element(By.ID, "next").click()
            title = browser.find_element(By.CSS_SELECTOR, "#encap h4").text
            assert title == f"{kind} encapsulation added at {h['node']} (packet #{target['id']})"
        assert (shots / f"5-encap-{name}.png").stat().st_size > 10_000
    finally:
        browser.quit()
        server.close()
