"""Record the kernel's answers to the generated netfilter cases (run as root).

    .venv/bin/python tests/differential/netfilter/record.py [--sim]

Writes kernel_results.json next to this file; with --sim, prints the cases
where the simulator disagrees instead.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nf_cases import build, make_cases, run_case

OUT = Path(__file__).resolve().parent / "kernel_results.json"


def main(argv: list[str]) -> int:
    cases = make_cases()
    if "--sim" in argv:
        from netplex.scenario.sim import SimBackend
        be = SimBackend(seed=1)
    else:
        from netplex.twin.backend import LinuxBackend
        be = LinuxBackend()
    try:
        build(be)
        results = {c.name: run_case(be, c).to_json() for c in cases}
    finally:
        be.close()
    if "--sim" in argv:
        rec = json.loads(OUT.read_text())
        bad = 0
        for c in cases:
            if results[c.name] != rec[c.name]:
                bad += 1
                print(f"== {c.name} {c.rules} {c.probes}")
                for k in ("setup_error", "probes", "counters", "conntrack"):
                    if results[c.name][k] != rec[c.name][k]:
                        print(f"  {k}\n    sim    {results[c.name][k]}\n    kernel {rec[c.name][k]}")
        print(f"{len(cases) - bad}/{len(cases)} agree")
        return 0
    OUT.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(results)} cases in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
