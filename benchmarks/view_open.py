"""V1 — the web view opens a recorded run of 100 nodes and 10,000 traced packets (issue 18).

A star of 99 hosts on one bridge node (100 nodes), `cmd` probes pinging across it until
at least 10,000 packets are traced; recorded with `netplex.view.record_scenario`, saved as
`.npx`, served by `ViewServer`, opened in headless Chromium (Selenium). Figures: the
recording's size, the time from navigation to the page being drawn (`data-ready`, the
topology laid out and every list filled), and the time to step a packet's journey (a click
on ▶ until the hop's table is there), each the median of RUNS page loads.

    .venv/bin/python benchmarks/view_open.py [RUNS]
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from netplex.scenario.loader import load_scenario_text
from netplex.view import ViewServer, load_recording, record_scenario, save_recording

HOSTS = 99


def scenario_text(pings: int) -> str:
    lines = ["name: view-star", "nodes:", "  sw:", "    setup: |", "      ip link add br0 type bridge",
             "      ip link set br0 up"]
    lines += [f"      ip link set p{i} master br0\n      ip link set p{i} up" for i in range(1, HOSTS + 1)]
    for i in range(1, HOSTS + 1):
        lines += [f"  h{i}:", "    setup: |", f"      ip addr add 10.0.{i // 250}.{i % 250 + 1}/16 dev eth0",
                  "      ip link set eth0 up"]
    lines.append("links:")
    lines += [f"  - ends: [h{i}:eth0, sw:p{i}]" for i in range(1, HOSTS + 1)]
    lines.append("probes:")
    for i in range(1, pings + 1):
        src, dst = i % HOSTS + 1, (i * 7) % HOSTS + 1
        if src == dst:
            dst = dst % HOSTS + 1
        lines.append(f'  - cmd: {{node: h{src}, run: "ping -c 20 -i 0.01 10.0.{dst // 250}.{dst % 250 + 1}"}}')
    return "\n".join(lines) + "\n"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    t0 = time.perf_counter()
    result, rec = record_scenario(load_scenario_text(scenario_text(260), "view-star.yaml"))
    record_s = time.perf_counter() - t0
    assert result.passed, result.error
    folder = Path(tempfile.mkdtemp())
    path = folder / "star.npx"
    save_recording(rec, path)
    rec = load_recording(path)
    print(f"nodes {len(rec['nodes'])}, packets {len(rec['packets'])}, "
          f"events {sum(len(h['events']) for p in rec['packets'] for h in p['hops'])}, "
          f"file {path.stat().st_size / 1e6:.2f} MB, JSON {len(__import__('json').dumps(rec)) / 1e6:.1f} MB, "
          f"recorded in {record_s:.1f} s")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        opts.add_argument(arg)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver") or ""), options=opts)
    server = ViewServer(rec)
    server.start()
    loads, steps = [], []
    try:
        for _ in range(runs):
            browser.get("about:blank")
            browser.get(server.url + "#tab=packets")
            WebDriverWait(browser, 60).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
            loads.append(browser.execute_script("return performance.now()") / 1000)
            packet = next(p for p in rec["packets"] if len(p["hops"]) >= 3)
            browser.find_element(By.ID, f"packet-{packet['id']}").click()
            t = time.perf_counter()
            browser.find_element(By.ID, "next").click()
            WebDriverWait(browser, 10).until(lambda b: b.find_element(By.CSS_SELECTOR, "#hop-detail h3").text
                                             .startswith("Hop 2"))
            steps.append(time.perf_counter() - t)
    finally:
        browser.quit()
        server.close()
        shutil.rmtree(folder)
    print("page drawn (s): " + " / ".join(f"{x:.2f}" for x in loads) + f"  median {statistics.median(loads):.2f}")
    print("journey step (s): " + " / ".join(f"{x:.3f}" for x in steps) + f"  median {statistics.median(steps):.3f}")


if __name__ == "__main__":
    main()
