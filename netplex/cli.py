"""The `netplex` command: run scenario files, the demo, a shell inside a node, traces.

    netplex run FILE... [--backend sim|linux] [--json] [--pcap DIR] [--seed N] [--plot OUT.png]
                        [--events "at 5s cut NODE:IF; at 12s fail NODE"] [--param NAME=VALUE]...
    netplex sweep FILE --param NAME=V1,V2 --param NAME=FIRST..LAST [--workers N | --cluster ADDRESS]
                       [--json OUT]
    netplex demo DIR
    netplex shell FILE NODE
    netplex trace FILE --from NODE --to IP [--proto icmp|udp|tcp] [--dport N]
    netplex diff FILE [--json]
    netplex cloud why FILE SRC DST icmp|tcp|udp [PORT]
    netplex clean
    netplex run FILE --record RUN.npx ; netplex view FILE|RUN.npx [--port N] [--no-browser]
    netplex mininet SCRIPT.py [ARGS...] [--backend sim|linux]
    netplex mn [--topo tree,2,2] [--switch ovsbr] [--link tc,bw=10] [--test pingall]
    netplex fabric three-tier --pods N --racks-per-pod N --hosts-per-rack N [--bonded-hosts] [--isps N] > dc.yaml
    netplex clab deploy|inspect|destroy|exec -t LAB.clab.yml [--backend sim|linux] (containerlab's verbs)
    netplex fabric leaf-spine --spines N --leaves N --hosts-per-leaf N [--ecmp|--bgp] > ls.yaml
    netplex fabric fat-tree --k 4 [--bgp] > ft.yaml

Exit status: 0 everything passed, 1 a probe failed (trace: not delivered;
diff: the backends disagree), 2 a scenario could not be run, 3 (diff) the
scenario uses what this machine's kernel or programs lack, so there is
nothing to compare. Backends are looked up in `BACKENDS`, a plain
table of factories (tests put a fake one there).
"""
from __future__ import annotations

import ipaddress
import json
import os
import readline  # line editing and history for `netplex shell`'s input()
import signal
import sys
import tempfile
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

import netplex.cloud.kinds  # noqa: F401  (registers the cloud-host kind and the scenario's cloud: section)
import netplex.container.kinds  # noqa: F401 - the systems register their node kinds and commands
import netplex.mobile  # noqa: F401  (registers the mobile node kinds ue, enodeb, mme, ... and their commands)
from netplex import __version__
from netplex.clab import is_clab_file, load_clab
from netplex.clab.lab import (
    ClabError,
    LabRecord,
    deployed_labs,
    destroy_lab,
    exec_on_lab,
    find_lab,
    inspect_csv,
    inspect_json,
    inspect_table,
    keep_lab,
    lab_dir,
    log_line,
    spawn_keeper,
)
from netplex.cloud.scenario import resume_cloud, save_cloud
from netplex.cloud.state import CloudStateError
from netplex.cloud.why import check_usage as cloud_why_usage
from netplex.cloud.why import why as cloud_why
from netplex.errors import NetplexError, ScenarioError
from netplex.fabric import FabricError, fat_tree, leaf_spine, three_tier
from netplex.mininet.run import run_mn
from netplex.mininet.run import run_script as run_mininet_script
from netplex.ovs.ofapps import ALLOW_ENV, apps_allowed
from netplex.scenario.backend import Backend
from netplex.scenario.events import EventsOptionError, parse_events_option
from netplex.scenario.loader import load_scenario, read_file_text
from netplex.scenario.model import ATTACH_KINDS, Event, Scenario
from netplex.scenario.params import PARAM_NAME
from netplex.scenario.results import EXIT_ERROR, EXIT_FAILED, EXIT_OK, ProbeResult, ScenarioResult
from netplex.scenario.runner import check_supported, commands_text, prepare, run_scenario
from netplex.sweep.grid import SweepUsage, parse_params, variants
from netplex.sweep.report import summary_line, sweep_json, sweep_table
from netplex.sweep.run import Job, check_variants, run_local
from netplex.twin.features import TWIN_TOOLS, kernel_lacks, needed_by, tool_missing, tools_needed_by
from netplex.units import format_rate
from netplex.view import ViewServer, load_recording, record_scenario, save_recording

__all__ = ["app", "main", "BACKENDS", "BackendUnavailable"]


class BackendUnavailable(NetplexError):
    """The chosen backend cannot be loaded here (not written yet, or missing a dependency)."""


def _sim_backend(seed: int, pcap_dir: Path | None) -> Backend:
    try:
        from netplex.scenario.sim import SimBackend
    except ModuleNotFoundError as e:
        if e.name == "netplex.scenario.sim":
            raise BackendUnavailable("the sim backend is not available yet") from None
        raise BackendUnavailable(f"the sim backend cannot be loaded: {e}") from None
    return SimBackend(seed=seed, pcap_dir=pcap_dir)


def _linux_backend(seed: int, pcap_dir: Path | None) -> Backend:
    try:
        from netplex.twin.backend import LinuxBackend
    except ModuleNotFoundError as e:
        if e.name == "netplex.twin.backend":
            raise BackendUnavailable("the linux backend is not available yet") from None
        raise BackendUnavailable(f"the linux backend cannot be loaded: {e}") from None
    return LinuxBackend(pcap_dir=pcap_dir)


# name -> factory(seed, pcap_dir). The seed is the scenario's unless --seed overrides it.
BACKENDS: dict[str, Callable[[int, Path | None], Backend]] = {
    "sim": _sim_backend,
    "linux": _linux_backend,
}

app = typer.Typer(
    name="netplex",
    help="A cloud network in a box: Linux networking commands in a deterministic simulator or on real namespaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


fabric_app = typer.Typer(help="Write a data-centre fabric as a scenario file (printed on stdout).",
                         no_args_is_help=True)
app.add_typer(fabric_app, name="fabric")
cloud_app = typer.Typer(help="Ask a scenario's cloud (issue 14) what decides a packet's fate.", no_args_is_help=True)
app.add_typer(cloud_app, name="cloud")
clab_app = typer.Typer(help="containerlab's deploy, inspect, destroy and exec for a *.clab.yml lab (docs/containerlab.md).",
                       no_args_is_help=True)
app.add_typer(clab_app, name="clab")


@fabric_app.command("three-tier")
def fabric_three_tier(
    pods: int = typer.Option(2, "--pods", help="Pods (each: two aggregation switches)."),
    racks_per_pod: int = typer.Option(2, "--racks-per-pod", help="Racks per pod (each: a top-of-rack switch)."),
    hosts_per_rack: int = typer.Option(2, "--hosts-per-rack", help="Hosts per rack."),
    bonded_hosts: bool = typer.Option(False, "--bonded-hosts", help="Two TORs per rack; hosts bond a NIC to each (with --stacked: LACP to an MLAG pair)."),
    stacked: bool = typer.Option(False, "--stacked", help="Stacked (MLAG) aggregation and core pairs, LACP uplinks, no STP."),
    isps: int = typer.Option(0, "--isps", help="A border router on core1 taking a default route from N ISPs (BGP)."),
) -> None:
    """Access/aggregation/core bridges with STP, hosts in one flat network."""
    _print_fabric(lambda: three_tier(pods, racks_per_pod, hosts_per_rack, bonded_hosts=bonded_hosts,
                                     stacked=stacked, isps=isps))


@fabric_app.command("leaf-spine")
def fabric_leaf_spine(
    spines: int = typer.Option(2, "--spines", help="Spine switches."),
    leaves: int = typer.Option(4, "--leaves", help="Leaf switches, each wired to every spine."),
    hosts_per_leaf: int = typer.Option(2, "--hosts-per-leaf", help="Hosts per leaf."),
    ecmp: bool = typer.Option(False, "--ecmp", help="Multipath (ECMP) default routes over every spine."),
    bgp: bool = typer.Option(False, "--bgp", help="eBGP in FRR instead of static routes (RFC 7938)."),
    isps: int = typer.Option(0, "--isps", help="With --bgp: a border leaf taking a default route from N ISPs."),
) -> None:
    """A routed leaf-spine fabric (static routes; each leaf through one spine)."""
    _print_fabric(lambda: leaf_spine(spines, leaves, hosts_per_leaf, ecmp=ecmp, bgp=bgp, isps=isps))


@fabric_app.command("fat-tree")
def fabric_fat_tree(
    k: int = typer.Option(4, "--k", help="Ports per switch (even): k pods, (k/2)^2 cores, k^3/4 hosts."),
    bgp: bool = typer.Option(False, "--bgp", help="eBGP in FRR instead of static routes (RFC 7938's five-stage Clos)."),
) -> None:
    """A k-ary fat-tree (Al-Fares et al.): routed, ECMP over every equal path."""
    _print_fabric(lambda: fat_tree(k, bgp=bgp))


def _print_fabric(build: Callable[[], str]) -> None:
    """Print a builder's scenario, or its refusal (exit 2)."""
    try:
        print(build(), end="")
    except FabricError as e:
        raise _fail(e.message) from None


def _stdout() -> Console:
    # Piped output is read by programs and logs: do not wrap it at 80 columns.
    width = None if sys.stdout.isatty() else 200
    return Console(file=sys.stdout, highlight=False, width=width)


def _stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def _fail(message: str, status: int = EXIT_ERROR) -> typer.Exit:
    print(f"netplex: {message}", file=sys.stderr)
    return typer.Exit(status)


def _version(value: bool) -> None:
    if value:
        print(f"netplex {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """netplex — run scenario files on the simulator or the kernel twin."""


# --- shared steps ------------------------------------------------------------------------


def _make_backend(name: str, seed: int, pcap_dir: Path | None) -> Backend:
    factory = BACKENDS.get(name)
    if factory is None:
        raise _fail(f'unknown backend "{name}" (choose {", ".join(BACKENDS)})')
    try:
        return factory(seed, pcap_dir)
    except (BackendUnavailable, NetplexError) as e:  # e.g. the twin needs root
        raise _fail(str(e)) from None


def _load(file: Path) -> Scenario:
    """Load or exit 2 with the one-line error."""
    try:
        return _load_scenario_or_lab(file)
    except ScenarioError as e:
        raise _fail_plain(str(e)) from None


def _load_scenario_or_lab(file: Path, params: dict[str, str] | None = None,
                          prepare: Callable[[Scenario], None] | None = None) -> Scenario:
    """A scenario file (its `${name}` parameters given `params`), or a containerlab topology
    (`*.clab.yml`) read as one (its notes on stderr)."""
    if is_clab_file(file):
        if params:
            raise ScenarioError(str(file), 0, "--param", "a containerlab topology has no parameters")
        lab = load_clab(file)
        for note in lab.notes:
            print(f"{file}: note: {note}", file=sys.stderr)
        return lab.scenario
    return load_scenario(file, params, prepare)


def _fail_plain(line: str) -> typer.Exit:
    print(line, file=sys.stderr)
    return typer.Exit(EXIT_ERROR)


def _run_file(file: Path, backend: str, seed: int | None, pcap: Path | None) -> tuple[Scenario | None, ScenarioResult]:
    try:
        scenario = _load_scenario_or_lab(file)
    except ScenarioError as e:
        return None, ScenarioResult.from_error(e, file.stem, backend)
    be = _make_backend(backend, scenario.seed if seed is None else seed, pcap)
    return scenario, run_scenario(scenario, be)


def _observed_summary(p: ProbeResult) -> str:
    o = p.observed
    if o.get("aborted"):   # the simulation stopped itself: say why, not "0/0 replies"
        return f"aborted: {str(o['aborted']).removeprefix('netplex: ')}"
    if p.kind == "ping":
        s = f"{o.get('replies', 0)}/{o.get('sent', 0)} replies"
        if o.get("rtt_ms") is not None:
            s += f", rtt {o['rtt_ms']:g} ms"
        return s
    if p.kind in ("tcp", "udp"):
        if o.get("peer"):
            return f"peer {o['peer']}:{o.get('peer_port', '?')}"
        return str(o.get("error") or "no answer")
    if p.kind == "cmd":
        s = f"exit {o.get('exit')}"
        if "output_matched" in o:
            s += ", output matched" if o["output_matched"] else ", expected line not in output"
        if o.get("exit") and o.get("error"):
            s += f": {str(o['error']).splitlines()[0]}"
        return s
    flows = o.get("flows") or []
    return ", ".join(format_rate(int(f.get("wire_bps", 0))) for f in flows) or "-"


def _print_human(file: Path, scenario: Scenario | None, result: ScenarioResult) -> None:
    out, err = _stdout(), _stderr()
    error = result.error
    if error is not None:
        if "field" in error:  # a bad file
            print(f"{error['file']}:{error['file_line']}: {error['field']}: {error['message']}", file=sys.stderr)
        elif "command" in error:  # a setup line failed
            print(f"{file}:{error['file_line']}: {error['node']}: setup line {error['line']} failed: "
                  f"{error['command']}", file=sys.stderr)
            if error["message"]:
                print(error["message"], file=sys.stderr)
        else:
            print(f"{file}: {result.backend} backend: {error['message']}", file=sys.stderr)
        err.print(Text(f"{result.scenario}: could not run (exit 2)", style="bold red"))
        return
    out.print(Text.assemble((result.scenario, "bold"), f"  ({file}, backend {result.backend})"), soft_wrap=True)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for col in ("#", "probe", "expect", "result", "observed"):
        table.add_column(col, overflow="fold")
    for p in result.probes:
        verdict = Text("PASS", style="bold green") if p.passed else Text("FAIL", style="bold red")
        expect = p.expect + (f", peer {p.expect_peer}" if p.expect_peer else "")
        table.add_row(str(p.index), p.what or p.kind, expect, verdict, _observed_summary(p))
    if result.probes:
        out.print(table)
    if result.events:
        out.print(_events_table(result))
    n, ok = len(result.probes), sum(p.passed for p in result.probes)
    for note in result.notes:
        out.print(Text(f"note: {note}", style="yellow"), soft_wrap=True)
    if result.passed:
        out.print(Text(f"passed: {ok}/{n} probes", style="green"))
    else:
        out.print(Text(f"FAILED: {n - ok} of {n} probes", style="bold red"))


def _events_table(result: ScenarioResult) -> Table:
    """One row per event: when it ran and the outage of each traffic flow it fell within."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for col in ("event", "at", "ran at", "outage per flow"):
        table.add_column(col, overflow="fold")
    for ev in result.events or []:
        ran = f"{ev['time_ms'] / 1000:g}s" if ev["ran"] else "not run (the probes ended first)"
        if ev.get("error"):
            ran += f": {ev['error'].splitlines()[0]}"
        parts = []
        for f in ev["flows"]:
            s = f"probe {f['probe']} flow {f['flow']}: {f['outage_ms']:g} ms"
            if "lost" in f:
                s += f", {f['lost']} lost"
            if f.get("recovered") is False:
                s += " (not recovered)"
            parts.append(s)
        table.add_row(f"{ev['action']} {ev['target']}", f"{ev['at_ms'] / 1000:g}s", ran, "; ".join(parts) or "-")
    return table


def _prepare_or_exit(scenario: Scenario, be: Backend, file: Path, keep_going: bool = False) -> None:
    try:
        check_supported(scenario, be)
        error = prepare(scenario, be)
    except NetplexError as e:
        be.close()
        raise _fail_plain(str(e) if isinstance(e, ScenarioError) else f"{file}: {be.name} backend: {e}") from None
    if error is not None:
        print(f"{file}:{error['file_line']}: {error['node']}: setup line {error['line']} failed: {error['command']}",
              file=sys.stderr)
        if error["message"]:
            print(error["message"], file=sys.stderr)
        if not keep_going:
            be.close()
            raise typer.Exit(EXIT_ERROR)


# --- commands -------------------------------------------------------------------------------


def _allow_apps(on: bool) -> None:
    """`--allow-apps`: a scenario is untrusted input, its Python files run only when the user says so
    (netplex.ovs.ofapps.apps_allowed reads it; the kernel twin's commands inherit it)."""
    if on:
        os.environ[ALLOW_ENV] = "1"


def _hint_allow_apps(file: Path, scenario: Scenario) -> None:
    """Without --allow-apps, name the setup lines that start one of the scenario's Python files as
    an application (their refusal goes to a background job's standard error, which a run does not show)."""
    if apps_allowed():
        return
    for name, node in scenario.nodes.items():
        py = [path for path in node.file_contents() if path.endswith(".py")]
        for setup in node.setup_lines():
            used = [path for path in py if path in setup.command]
            if used:
                print(f"netplex: {file}:{setup.file_line}: {name} runs the scenario's Python file {used[0]}, "
                      "which runs only with --allow-apps", file=sys.stderr)


@app.command()
def run(
    files: list[Path] = typer.Argument(..., help="Scenario files (YAML).", show_default=False),
    backend: str = typer.Option("sim", "--backend", "-b", help="sim (default) or linux (root, real namespaces)."),
    json_out: bool = typer.Option(False, "--json", help="Print the result object(s) as JSON."),
    pcap: Path | None = typer.Option(None, "--pcap", help="Write packet captures into this directory."),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenarios' RNG seed (sim)."),
    plot: Path | None = typer.Option(None, "--plot", help="Draw iperf throughput per flow and class into this PNG."),
    events: str | None = typer.Option(None, "--events", help='Timed events added to each file\'s `events:`, e.g. '
                                      '"at 5s cut tor1:p3; at 12s restore tor1:p3; at 20s fail agg1".'),
    record: Path | None = typer.Option(None, "--record", help="Record the run (sim; linux: captured on every "
                                       "interface) into this file for `netplex view FILE.npx`.", show_default=False),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE: a value for the scenario's ${NAME} "
                                    "(its `params:`; docs/sweep.md). Repeatable.", show_default=False),
    cloud_state: Path | None = typer.Option(None, "--cloud-state", help="SQLite file holding the cloud: resumed "
                                            "when it exists, saved after the run (docs/cloud.md).",
                                            show_default=False),
    allow_apps: bool = typer.Option(False, "--allow-apps", help="Let the scenario's Python files run as controller "
                                    "applications (netplex-controller, osken-manager; docs/ovs.md)."),
) -> None:
    """Run scenario files and check their probes."""
    if cloud_state is not None and (len(files) != 1 or record is not None):
        raise _fail("--cloud-state takes one scenario file (and no --record)")
    if backend not in BACKENDS:
        raise _fail(f'unknown backend "{backend}" (choose {", ".join(BACKENDS)})')
    _allow_apps(allow_apps)
    params = _run_params(param)
    if record is not None:
        if params:
            raise _fail("--param and --record: a recorded run takes the file's own values")
        _run_recorded(files, backend, seed, record, json_out)
    try:
        extra_events = parse_events_option(events) if events is not None else []
    except EventsOptionError as e:
        raise _fail(str(e)) from None
    results: list[ScenarioResult] = []
    pcap_dirs = _pcap_dirs(files, pcap)
    for file, pcap_dir in zip(files, pcap_dirs):
        scenario, result = _run_file_with_progress(file, backend, seed, pcap_dir, extra_events, params, cloud_state)
        results.append(result)
        if json_out:
            continue
        if len(files) > 1 and results[:-1]:
            print()
        _print_human(file, scenario, result)
    if json_out:
        payload: Any = results[0].to_json() if len(results) == 1 else [r.to_json() for r in results]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    if plot is not None:
        _plot(results, plot)
    raise typer.Exit(max(r.exit_status for r in results))


def _pcap_dirs(files: list[Path], pcap: Path | None) -> list[Path | None]:
    """`--pcap DIR`: DIR for one file; DIR/STEM/ for each of several (captures have the same names)."""
    if pcap is None:
        return [None] * len(files)
    if len(files) == 1:
        return [pcap]
    stems: dict[str, Path] = {}
    for file in files:
        if file.stem in stems:
            raise _fail(f"--pcap: {stems[file.stem]} and {file} would write their captures to the same "
                        f"folder {pcap / file.stem}: run them separately or rename one")
        stems[file.stem] = file
    return [pcap / file.stem for file in files]


def _plot(results: list[ScenarioResult], path: Path) -> None:
    from netplex.traffic.plot import plot_results

    try:
        n = plot_results(results, path)
    except RuntimeError as e:
        raise _fail(str(e)) from None
    if n == 0:
        print(f"netplex: --plot: no iperf probe to draw; {path} not written", file=sys.stderr)


class _ProgressBar:
    """A progress bar on stderr for runs that take more than a second of wall time (a terminal only)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.t0 = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, fraction: float) -> None:
        if self.bar is None:
            if time.monotonic() - self.t0 < 1.0 or not sys.stderr.isatty():
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=1.0)
        self.bar.update(self.task, completed=fraction)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _run_params(specs: list[str]) -> dict[str, str]:
    """`netplex run --param NAME=VALUE`: one value each, taken as written (no lists or ranges)."""
    params: dict[str, str] = {}
    for spec in specs:
        name, eq, value = spec.partition("=")
        if not eq or not PARAM_NAME.fullmatch(name):
            raise _fail(f'--param "{spec}": expected NAME=VALUE')
        if name in params:
            raise _fail(f"--param {name} is given twice")
        params[name] = value
    return params


def _run_file_with_progress(file: Path, backend: str, seed: int | None, pcap: Path | None,
                            extra_events: list[Event] | None = None,
                            params: dict[str, str] | None = None,
                            cloud_state: Path | None = None) -> tuple[Scenario | None, ScenarioResult]:
    """`_run_file`, with a progress bar fed by long probes (iperf) when the run is slow;
    `extra_events` (`--events`) join the file's own; `params` (`--param`) fill its ${NAME}s;
    `cloud_state` (`--cloud-state DB`) resumes the cloud from DB and saves it there after a run
    whose setup succeeded (netplex.cloud.state)."""
    try:
        scenario = _load_scenario_or_lab(file, params, (lambda sc: resume_cloud(sc, cloud_state))
                                         if cloud_state is not None else None)
        if extra_events:
            scenario.events.extend(e.model_copy() for e in extra_events)
            issues = scenario.event_issues()
            if issues:
                loc, message = issues[0]
                n = int(loc[1]) - (len(scenario.events) - len(extra_events)) + 1
                raise ScenarioError(str(file), 0, f"--events: event {n}", message)
    except ScenarioError as e:
        return None, ScenarioResult.from_error(e, file.stem, backend)
    except CloudStateError as e:
        raise _fail(e.message) from None
    _hint_allow_apps(file, scenario)
    be = _make_backend(backend, scenario.seed if seed is None else seed, pcap)
    bar = _ProgressBar(scenario.name)
    be.progress = bar
    try:
        result = run_scenario(scenario, be)
    finally:
        bar.close()
    if cloud_state is not None and result.error is None:
        save_cloud(scenario, cloud_state)
    return scenario, result


def _expected_status(directory: Path, file: Path, scenario: Scenario | None) -> tuple[set[int], str]:
    if file.parent != directory:  # DIR/broken/: shows an error on purpose
        return {EXIT_FAILED, EXIT_ERROR}, "fails on purpose"
    if scenario is not None and (scenario.description or "").startswith("Fails on purpose"):
        return {EXIT_FAILED}, "fails on purpose"
    return {EXIT_OK}, "passes"


@app.command()
def sweep(
    file: Path = typer.Argument(..., help="A scenario file with `params:` (docs/sweep.md).", show_default=False),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=V1,V2,... or NAME=FIRST..LAST (whole numbers); "
                                    "repeatable: the variants are every combination.", show_default=False),
    workers: int | None = typer.Option(None, "--workers", "-w", help="Processes on this machine "
                                       "(default: one per CPU).", show_default=False),
    cluster: str | None = typer.Option(None, "--cluster", help="Run the variants on the Dask distributed "
                                       "scheduler at this address (tcp://HOST:PORT).", show_default=False),
    json_out: str | None = typer.Option(None, "--json", help="Write the results as JSON to this file "
                                        "(- for stdout, instead of the table).", show_default=False),
) -> None:
    """Run every combination of parameter values on the simulator, in parallel; one results table."""
    try:
        grid = parse_params(param)
        if workers is not None and cluster is not None:
            raise SweepUsage("--workers and --cluster: on a cluster, its own workers run the variants")
        if workers is not None and workers < 1:
            raise SweepUsage(f"--workers {workers}: at least 1")
        if is_clab_file(file):
            raise SweepUsage(f"{file}: a containerlab topology has no parameters to sweep")
        if json_out not in (None, "-") and not Path(json_out).parent.is_dir():
            raise SweepUsage(f"--json {json_out}: no folder {Path(json_out).parent}")
        text = read_file_text(file)
        jobs = [Job(str(file), text, v) for v in variants(grid)]
        name = check_variants(str(file), text, [j.variant for j in jobs])
    except SweepUsage as e:
        raise _fail(e.message) from None
    except ScenarioError as e:
        raise _fail_plain(str(e)) from None
    n = workers if workers is not None else (os.cpu_count() or 1)
    bar = _ProgressBar(f"{name}: {len(jobs)} variants")
    finished = 0

    def done(_row: dict[str, Any]) -> None:
        nonlocal finished
        finished += 1
        bar(finished / len(jobs))

    t0 = time.monotonic()
    try:
        if cluster is not None:
            rows = run_on_cluster(cluster, jobs, done)
        else:
            rows = run_local(jobs, n, done)
    except SweepUsage as e:
        raise _fail(e.message) from None
    except KeyboardInterrupt:
        raise _fail("sweep interrupted", 130) from None
    finally:
        bar.close()
    elapsed = time.monotonic() - t0
    where: dict[str, Any] = {"cluster": cluster} if cluster is not None else {"workers": n}
    doc = sweep_json(name, str(file), grid, rows, where)
    if json_out == "-":
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        out = _stdout()
        out.print(Text.assemble((name, "bold"), f"  ({file}, {len(jobs)} variant{'s' if len(jobs) != 1 else ''})"),
                  soft_wrap=True)
        out.print(sweep_table(grid, rows))
        used = min(n, len(jobs))
        ran = f"cluster {cluster}" if cluster is not None else f"{used} worker{'s' if used > 1 else ''}"
        out.print(f"{summary_line(rows)} ({ran}, {elapsed:.1f} s)", soft_wrap=True)
        if json_out is not None:
            try:
                Path(json_out).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            except OSError as e:
                raise _fail(f"--json {json_out}: {e.strerror}") from None
    raise typer.Exit(max((r["exit_status"] for r in rows), default=EXIT_OK))


def run_on_cluster(address: str, jobs: list[Job], done: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """netplex.sweep.cluster, imported only here: Dask distributed is optional and slow to import."""
    from netplex.sweep.cluster import run_on_cluster as on_cluster

    return on_cluster(address, jobs, done)


@app.command()
def demo(
    directory: Path = typer.Argument(..., help="A directory of scenarios (and broken/ ones).", show_default=False),
    backend: str = typer.Option("sim", "--backend", "-b", help="sim (default) or linux."),
) -> None:
    """Run every DIR/*.yaml (and DIR/broken/*.yaml) and check each met its expectation."""
    if not directory.is_dir():
        raise _fail(f"{directory}: not a directory")
    files = sorted(directory.glob("*.yaml")) + sorted((directory / "broken").glob("*.yaml"))
    if not files:
        raise _fail(f"{directory}: no *.yaml scenarios")
    summary: list[tuple[bool, Path, str]] = []
    for file in files:
        scenario, result = _run_file(file, backend, None, None)
        _print_human(file, scenario, result)
        print()
        expected, meaning = _expected_status(directory, file, scenario)
        met = result.exit_status in expected
        status = result.exit_status
        if met:
            note = "passed" if status == EXIT_OK else f"failed on purpose (exit {status})"
        else:
            note = f"exit {status}, expected: {meaning}"
        summary.append((met, file, note))
    out = _stdout()
    out.print(Text("demo summary", style="bold"))
    for met, file, note in summary:
        mark = Text("ok   ", style="green") if met else Text("WRONG", style="bold red")
        out.print(Text.assemble("  ", mark, f"  {file}  {note}"), soft_wrap=True)
    wrong = sum(not met for met, _, _ in summary)
    if wrong:
        out.print(Text(f"{wrong} of {len(summary)} scenarios did not behave as expected", style="bold red"))
        raise typer.Exit(EXIT_FAILED)
    out.print(Text(f"all {len(summary)} scenarios behaved as expected", style="green"))
    raise typer.Exit(EXIT_OK)


HISTORY_FILE = "~/.netplex_history"  # `netplex shell`'s command history, kept across sessions


class _Terminal:
    """`netplex shell`'s terminal for a command that runs until Ctrl-C (ping without -c).

    Lines go to stdout as they come; simulated time is paced to wall time; Ctrl-C
    (SIGINT) only sets a flag the command polls, so the simulation is never cut
    mid-event. The handler is installed when such a command first writes and
    the previous one is put back when the line ends.
    """

    def __init__(self) -> None:
        self._flag = False
        self._previous: Any = None
        self._installed = False

    def _install(self) -> None:
        if not self._installed:
            self._installed = True
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self._flag = True   # the terminal itself echoes ^C

    def write(self, text: str) -> None:
        self._install()
        sys.stdout.write(text)
        sys.stdout.flush()

    def tick(self, ns: int) -> None:
        self._install()
        if ns > 0 and not self._flag:
            time.sleep(ns / 1e9)

    def interrupted(self) -> bool:
        return self._flag

    def close(self) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


class _PromptCtrlC:
    """Ctrl-C at `netplex shell`'s prompt, acted on at once even on a loaded machine.

    CPython's readline waits for a key in select() and looks at signals only when
    select is interrupted: a SIGINT that lands while it is still handling the previous
    key (before it enters select again) waits there until the next key. The C-level
    signal handler writes each signal's number to the wakeup fd at once; a thread
    reading it nudges the main thread with SIGUSR1 (a handler that does nothing), so
    select is interrupted and the pending SIGINT raises KeyboardInterrupt.
    """

    def __init__(self) -> None:
        self._r, w = os.pipe()
        os.set_blocking(w, False)
        self._w = w
        self._previous_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        self._previous_usr1 = signal.signal(signal.SIGUSR1, lambda signum, frame: None)
        threading.Thread(target=self._watch, name="netplex-ctrl-c", daemon=True).start()

    def _watch(self) -> None:
        main = threading.main_thread().ident
        while True:
            try:
                got = os.read(self._r, 64)
            except OSError:
                return
            if not got:
                return
            if signal.SIGINT in got and main is not None:
                time.sleep(0.05)
                signal.pthread_kill(main, signal.SIGUSR1)

    def close(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        signal.signal(signal.SIGUSR1, self._previous_usr1)
        os.close(self._w)    # the thread's read returns b"" and it ends


@app.command()
def shell(
    file: Path = typer.Argument(..., help="Scenario file.", show_default=False),
    node: str = typer.Argument(..., help="The node to type commands on.", show_default=False),
    backend: str = typer.Option("sim", "--backend", "-b", help="sim (default) or linux."),
    allow_apps: bool = typer.Option(False, "--allow-apps", help="Let the scenario's Python files run as controller "
                                    "applications (docs/ovs.md)."),
) -> None:
    """Set a scenario up, then type commands on one of its nodes (`exit` or EOF ends).

    On a terminal the line is edited with readline (arrows, Ctrl-R, history kept in
    ~/.netplex_history); Ctrl-C drops the line being typed or cancels the running
    command, never the shell."""
    _allow_apps(allow_apps)
    scenario = _load(file)
    if node not in scenario.nodes:
        raise _fail(f'{file}: no node "{node}" (nodes: {", ".join(scenario.nodes)})')
    be = _make_backend(backend, scenario.seed, None)
    # A failing setup line is reported, but the shell still opens: it is where one finds out why.
    _prepare_or_exit(scenario, be, file, keep_going=True)
    interactive = sys.stdin.isatty()
    history = os.path.expanduser(HISTORY_FILE)
    ctrl_c = _PromptCtrlC() if interactive else None
    if interactive:
        try:
            readline.read_history_file(history)
        except OSError:
            pass
    try:
        while True:
            if interactive:
                try:
                    line = input(f"{node}# ")
                except EOFError:
                    print()
                    break
                except KeyboardInterrupt:   # Ctrl-C at the prompt drops the line, as bash does
                    print("^C")
                    continue
            else:
                raw = sys.stdin.readline()
                if not raw:
                    break
                line = raw.rstrip("\n")
            command = line.strip()
            if not command or command.startswith("#"):
                continue
            if command in ("exit", "logout", "quit"):
                break
            terminal = _Terminal() if interactive else None
            try:
                r = be.run(node, command, terminal)
            except KeyboardInterrupt:       # Ctrl-C cancels the running command, not the shell
                print("^C", file=sys.stderr)
                continue
            finally:
                if terminal is not None:
                    terminal.close()
            if r.output:
                sys.stdout.write(r.output if r.output.endswith("\n") else r.output + "\n")
                sys.stdout.flush()
            if r.error:
                sys.stderr.write(r.error if r.error.endswith("\n") else r.error + "\n")
                sys.stderr.flush()
    finally:
        be.close()
        if ctrl_c is not None:
            ctrl_c.close()
        if interactive:
            try:
                readline.write_history_file(history)
            except OSError:
                pass


@app.command()
def trace(
    file: Path = typer.Argument(..., help="Scenario file.", show_default=False),
    src: str | None = typer.Option(None, "--from", help="The node that sends the packet.", show_default=False),
    dst: str | None = typer.Option(None, "--to", help="Destination IPv4 address.", show_default=False),
    proto: str = typer.Option("icmp", "--proto", help="icmp, udp or tcp."),
    dport: int | None = typer.Option(None, "--dport", help="Destination port (udp, tcp)."),
    backend: str = typer.Option("sim", "--backend", "-b", help="sim (default)."),
    attach: str | None = typer.Option(None, "--attach", help="Trace a UE's attach (the ten steps) instead.",
                                      show_default=False),
) -> None:
    """Set a scenario up and follow one packet through every hook it crosses (or a UE's attach)."""
    if attach is not None:
        _trace_attach(file, attach, backend)
        return
    if src is None or dst is None:
        raise _fail("give --from NODE and --to ADDRESS (or --attach UE)")
    if proto not in ("icmp", "udp", "tcp"):
        raise _fail(f'--proto: "{proto}" is not one of icmp, udp, tcp')
    try:
        ipaddress.IPv4Address(dst)
    except ValueError:
        raise _fail(f'--to: invalid IPv4 address "{dst}"') from None
    if dport is not None and not 1 <= dport <= 65535:
        raise _fail(f"--dport: {dport} is not in 1..65535")
    scenario = _load(file)
    if src not in scenario.nodes:
        raise _fail(f'{file}: no node "{src}" (nodes: {", ".join(scenario.nodes)})')
    _run_trace(file, scenario, backend, "trace", "trace",
               lambda be: be.trace(src=src, dst=dst, proto=proto, dport=dport))


@cloud_app.command("why")
def cloud_why_command(
    file: Path = typer.Argument(..., help="Scenario file with a cloud: section.", show_default=False),
    src: str = typer.Argument(..., help="A server (vm1) or a node.", show_default=False),
    dst: str = typer.Argument(..., help="A server, a node's address or any IPv4 address.", show_default=False),
    proto: str = typer.Argument(..., help="icmp, tcp or udp.", show_default=False),
    port: int | None = typer.Argument(None, help="Destination port (tcp, udp).", show_default=False),
) -> None:
    """Send one packet from SRC to DST in the simulator and name what decides it: the
    security-group rule (Neutron id and iptables line), the router without a route, the
    missing floating IP. Exit 0: delivered; 1: not delivered; 2: bad arguments."""
    scenario = _load(file)
    if scenario.cloud is None:
        raise _fail(f"{file}: no cloud: section")
    try:
        cloud_why_usage(proto, port)
    except NetplexError as e:
        raise _fail_plain(e.message) from None
    be = _make_backend("sim", scenario.seed, None)
    try:
        _prepare_or_exit(scenario, be, file)
        try:
            answer = cloud_why(scenario, be, src, dst, proto, port)
        except NetplexError as e:
            raise _fail_plain(e.message) from None
    finally:
        be.close()
    print("\n".join(answer.lines))
    raise typer.Exit(answer.status)


def _trace_attach(file: Path, ue: str, backend: str) -> None:
    scenario = _load(file)
    if scenario.nodes.get(ue) is None or scenario.nodes[ue].kind not in ATTACH_KINDS:
        ues = [n for n, node in scenario.nodes.items() if node.kind in ATTACH_KINDS]
        raise _fail(f'{file}: no node "{ue}" of kind ue or ms (UEs and MSs: {", ".join(ues) or "none"})')
    _run_trace(file, scenario, backend, "attach", "run an attach", lambda be: be.trace_attach(ue))


def _run_trace(file: Path, scenario: Scenario, backend: str, feature: str, doing: str,
               trace: Callable[[Backend], Any]) -> None:
    """Set the scenario up on `backend`, run `trace` on it, print its lines; exit 0 when delivered."""
    be = _make_backend(backend, scenario.seed, None)
    if feature not in be.supports:
        be.close()
        raise _fail(f"the {be.name} backend cannot {doing}")
    try:
        _prepare_or_exit(scenario, be, file)
        outcome = trace(be)
    finally:
        be.close()
    for line in outcome.lines:
        print(line)
    raise typer.Exit(EXIT_OK if outcome.delivered else EXIT_FAILED)


_CELL_LINES = 3  # a probe's result longer than this is not set in two columns


def _cell(summary: str, agree: bool) -> str:
    """A probe's summary for one column of the diff table: long outputs are not set side by
    side (they wrap into unreadable columns); the differences follow as a unified diff."""
    lines = summary.split("\n")
    if len(lines) <= _CELL_LINES:
        return summary
    where = "the same on both" if agree else "the unified diff is below"
    return f"{lines[0]}\n({len(lines) - 1} lines: {where})"


def _print_diff(file: Path, report: Any) -> None:
    from netplex.scenario.diff import summarize

    out = _stdout()
    out.print(Text.assemble((report.scenario, "bold"), f"  ({file}, sim vs linux)"), soft_wrap=True)
    for backend, result in (("sim", report.sim), ("linux", report.linux)):
        if result.error is not None:
            from netplex.scenario.diff import error_line

            out.print(Text(f"{backend}: could not run: {error_line(result.error)}", style="yellow"), soft_wrap=True)
    if report.probes:
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold", show_lines=True)
        for col in ("#", "probe", "sim", "linux", "verdict"):
            table.add_column(col, overflow="fold")
        for p in report.probes:
            verdict = Text("same", style="bold green") if p.agree else Text("DIFFERENT", style="bold red")
            table.add_row(str(p.index), p.what or p.kind, _cell(summarize(p.kind, p.sim), p.agree),
                          _cell(summarize(p.kind, p.linux), p.agree), verdict)
        out.print(table)
    for note in report.notes:
        out.print(Text(f"note (linux): {note}", style="yellow"), soft_wrap=True)
    if report.inconclusive is not None:
        out.print(Text(f"cannot compare: {report.inconclusive}", style="bold red"), soft_wrap=True)
        return
    diffs = report.all_differences()
    if not diffs:
        out.print(Text(f"agree: sim and linux gave the same results for {len(report.probes)} probes", style="green"))
        return
    out.print(Text(f"DISAGREE: {len(diffs)} difference(s)", style="bold red"))
    for d in diffs:
        print(f"  - {d}")


EXIT_CANNOT_COMPARE = 3  # diff: the kernel twin lacks what the scenario uses


def _twin_lacks(text: str) -> str | None:
    """What of a scenario's text this machine cannot run on the kernel twin: a program
    not installed, or a kernel feature (module) this kernel lacks; None when it can."""
    missing = tool_missing((*TWIN_TOOLS, *tools_needed_by(text)))
    if missing is not None:
        return missing
    lacking = kernel_lacks(needed_by(text))
    return None if lacking is None else f"this kernel lacks {lacking}"


@app.command()
def diff(
    file: Path = typer.Argument(..., help="Scenario file.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Run a scenario on sim and on linux and compare every probe's results."""
    from netplex.scenario.diff import diff_scenario

    scenario = _load(file)
    for name in ("linux", "sim"):
        if name not in BACKENDS:
            raise _fail(f'the "{name}" backend is not available')
    linux_be = _make_backend("linux", scenario.seed, None)  # not root, no netns: exit 2 with the reason
    lacks = _twin_lacks(file.read_text() + "\n" + commands_text(scenario))
    if lacks is not None:
        linux_be.close()
        if json_out:
            print(json.dumps({"scenario": scenario.name or file.stem, "agree": False, "exit_status": EXIT_CANNOT_COMPARE,
                              "inconclusive": f"cannot compare: {lacks}"}, indent=2, ensure_ascii=False))
        else:
            print(f"{scenario.name or file.stem}: cannot compare: {lacks} "
                  f"(the simulator runs it: netplex run {file})")
        raise typer.Exit(EXIT_CANNOT_COMPARE)
    report = diff_scenario(
        scenario,
        make_sim=lambda: _make_backend("sim", scenario.seed, None),
        make_linux=lambda: linux_be,
    )
    if json_out:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_diff(file, report)
    raise typer.Exit(report.exit_status)


@app.command()
def clean() -> None:
    """Remove what killed kernel-twin runs left behind (namespaces, state files); needs root."""
    import os

    if os.geteuid() != 0:
        raise _fail("clean needs root: it deletes network namespaces left by linux-backend runs")
    from netplex.twin.cleanup import clean as clean_leftovers

    removed = clean_leftovers()
    for item in removed:
        print(item)
    if not removed:
        print("nothing to clean")
    raise typer.Exit(EXIT_OK)


def _run_recorded(files: list[Path], backend: str, seed: int | None, path: Path, json_out: bool) -> None:
    """`netplex run FILE --record PATH`: the run traced (on the kernel twin: captured on every
    interface), saved for `netplex view`."""
    if len(files) != 1:
        raise _fail("--record takes one scenario file")
    scenario = _load(files[0])
    if backend == "sim":
        result, recording = record_scenario(scenario, seed)
    else:
        with tempfile.TemporaryDirectory(prefix="netplex-record-") as pcaps:
            be = _make_backend(backend, scenario.seed if seed is None else seed, Path(pcaps))
            result, recording = record_scenario(scenario, seed, backend=be, pcap_dir=pcaps)
    try:
        save_recording(recording, path)
    except OSError as e:
        raise _fail(f"--record: {path}: {e.strerror or e}") from None
    if json_out:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_human(files[0], scenario, result)
        print(f"recorded: {path} ({len(recording['packets'])} packets traced); open it with netplex view {path}")
    raise typer.Exit(result.exit_status)


@app.command()
def view(
    file: Path = typer.Argument(..., help="A scenario (run now, on the simulator) or a recording (.npx).",
                                show_default=False),
    port: int = typer.Option(0, "--port", help="The port (default: any free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to serve on (default: this machine only)."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Open the page in a browser."),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's RNG seed."),
) -> None:
    """Show a run in the browser: the topology, each packet's journey through every hook, counters, tables."""
    if file.suffix == ".npx":
        try:
            recording = load_recording(file)
        except NetplexError as e:
            raise _fail(e.message) from None
    else:
        scenario = _load(file)
        result, recording = record_scenario(scenario, seed)
        if result.error is not None:
            _print_human(file, scenario, result)
    try:
        server = ViewServer(recording, host=host, port=port)
    except OSError as e:
        raise _fail(f"cannot serve on {host}:{port}: {e.strerror or e}") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"netplex view: serving on {host}: other machines can read this run", file=sys.stderr)
    print(f"netplex view: {recording['scenario']} on {server.url} (Ctrl-C to stop)", flush=True)
    if browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _backend_factory(backend: str, seed: int) -> Callable[[], Backend]:
    if backend not in BACKENDS:
        raise _fail(f'unknown backend "{backend}" (choose {", ".join(BACKENDS)})')
    return lambda: _make_backend(backend, seed, None)


@app.command(context_settings=_PASS_THROUGH)
def mininet(
    ctx: typer.Context,
    script: Path = typer.Argument(..., help="A Mininet Python script (run unchanged).", show_default=False),
    backend: str = typer.Option("sim", "--backend", "-b", help="sim (default) or linux (root, real namespaces)."),
    seed: int = typer.Option(0, "--seed", help="The simulator's RNG seed."),
) -> None:
    """Run a Mininet script unchanged: its mininet.* imports are netplex's (no root)."""
    raise typer.Exit(run_mininet_script(script, list(ctx.args), _backend_factory(backend, seed)))


@app.command(context_settings=_PASS_THROUGH, add_help_option=False)
def mn(
    ctx: typer.Context,
    backend: str = typer.Option("sim", "--backend", "-b", help="sim (default) or linux (root, real namespaces)."),
) -> None:
    """Mininet's mn: --topo single,N|linear,N|tree,D,F --switch ... --test pingall (else its CLI)."""
    raise typer.Exit(run_mn(list(ctx.args), _backend_factory(backend, 0)))


# --- netplex clab: containerlab's verbs (netplex/clab/lab.py) --------------------------------------


def _clab_error(message: str) -> typer.Exit:
    """containerlab's failure: `Error: message` on stderr, exit status 1."""
    print(f"Error: {message}", file=sys.stderr)
    return typer.Exit(1)


def _clab_topo(topo: Path | None) -> Path:
    """-t FILE, or the one *.clab.yml / *.clab.yaml in the current folder, as containerlab finds it."""
    if topo is not None:
        if not topo.exists():
            raise _clab_error(f"topology file {str(topo)!r} is not found")
        return topo
    found = sorted(p for p in Path(".").iterdir() if is_clab_file(p.name))
    if len(found) != 1:
        raise _clab_error("no topology files matching the pattern *.clab.yml or *.clab.yaml found" if not found else
                          f"more than one topology file matching the pattern *.clab.yml or *.clab.yaml found, "
                          f"can't pick one: {[str(p) for p in found]}")
    return found[0]


def _clab_labs(topo: Path | None, name: str | None, all_labs: bool) -> list[LabRecord]:
    if all_labs:
        if name:
            raise _clab_error("--all and --name should not be used together")
        return deployed_labs()
    if name is None:
        if topo is None:
            raise _clab_error("provide either a lab name (--name) or a topology file path (--topo) or the --all flag")
        name = _load_clab_or_exit(_clab_topo(topo)).name
    rec = find_lab(name)
    return [rec] if rec is not None else []


def _load_clab_or_exit(file: Path) -> Any:
    try:
        return load_clab(file)
    except ScenarioError as e:
        raise _fail_plain(str(e)) from None


@clab_app.command("deploy")
def clab_deploy(
    topo: Path | None = typer.Option(None, "--topo", "-t", help="The topology file (else the one *.clab.yml here)."),
    backend: str = typer.Option("sim", "--backend", "-b", help="sim (default) or linux (root, real namespaces)."),
    reconfigure: bool = typer.Option(False, "--reconfigure", "-c", help="Destroy the lab first if it is deployed."),
) -> None:
    """Deploy a lab: built and kept by a netplex process of its own until `netplex clab destroy`."""
    file = _clab_topo(topo)
    if backend not in BACKENDS:
        raise _fail(f'unknown backend "{backend}" (choose {", ".join(BACKENDS)})')
    sys.stderr.write(log_line("INFO", "Parsing & checking topology", file=file.name))
    lab = _load_clab_or_exit(file)
    for note in lab.notes:
        print(f"{file}: note: {note}", file=sys.stderr)
    old = find_lab(lab.name)
    if old is not None:
        if not reconfigure:
            raise _clab_error(f"the '{lab.name}' lab has already been deployed. Destroy the lab before deploying a "
                              "lab with the same name")
        sys.stderr.write(log_line("INFO", "Destroying lab", name=lab.name))
        try:
            destroy_lab(old)
        except ClabError as e:
            raise _clab_error(str(e)) from None
    folder = lab_dir(lab.name)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for n in lab.nodes.values():
        if n.kind == "linux":
            sys.stderr.write(log_line("INFO", "Creating container", name=n.name))
    # the keeper runs this very netplex (a worktree's, not an installed one)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]))
    report = spawn_keeper([sys.executable, "-m", "netplex.cli", "clab", "keep", str(file.resolve()), "--backend",
                           backend], env, os.path.join(folder, "keeper.log"))
    if not report.get("ok"):
        failure = report.get("failure")
        if failure is not None:
            print(f"{file}:{failure['file_line']}: {failure['node']}: setup line {failure['line']} failed: "
                  f"{failure['command']}", file=sys.stderr)
            if failure["message"]:
                print(failure["message"], file=sys.stderr)
            raise typer.Exit(EXIT_ERROR)
        raise _fail(f"{file}: {backend} backend: {report.get('error')}")
    rec = find_lab(lab.name)
    sys.stdout.write(inspect_table([rec] if rec is not None else [], os.getcwd()))


@clab_app.command("keep", hidden=True)
def clab_keep(topo: Path = typer.Argument(...), backend: str = typer.Option("sim", "--backend")) -> None:
    """The keeper of a deployed lab (started by deploy; reports one JSON line on stdout)."""
    lab = _load_clab_or_exit(topo)
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)     # what the lab prints must not reach deploy's pipe

    def report(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.close()

    raise typer.Exit(keep_lab(lab, backend, lambda: _make_backend(backend, lab.scenario.seed, None), report))


@clab_app.command("inspect")
def clab_inspect(
    topo: Path | None = typer.Option(None, "--topo", "-t"),
    name: str | None = typer.Option(None, "--name"),
    all_labs: bool = typer.Option(False, "--all", "-a", help="Every deployed lab."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    wide: bool = typer.Option(False, "--wide", "-w"),
    details: bool = typer.Option(False, "--details"),
) -> None:
    """containerlab's inspect: the lab's containers as a table (or JSON, CSV)."""
    if details:
        raise _fail("clab inspect --details is not supported (it prints docker's container details)")
    if fmt not in ("table", "json", "csv"):
        raise _clab_error(f"output format {fmt!r} is not supported when --details is not used, use "
                          "'table', 'json' or 'csv'".replace(repr(fmt), f'"{fmt}"'))
    labs = _clab_labs(topo, name, all_labs)
    cwd = os.getcwd()
    if not labs or not any(r.nodes for r in labs):
        if fmt == "json":
            print("{}")
        elif fmt == "csv":
            print(inspect_csv([], cwd), end="")
        else:
            sys.stderr.write(log_line("INFO", "no containers found"))
        return
    if fmt == "json":
        sys.stdout.write(inspect_json(labs, cwd))
    elif fmt == "csv":
        sys.stdout.write(inspect_csv(labs, cwd))
    else:
        sys.stdout.write(inspect_table(labs, cwd, all_labs=all_labs, wide=wide))


@clab_app.command("destroy")
def clab_destroy(
    topo: Path | None = typer.Option(None, "--topo", "-t"),
    name: str | None = typer.Option(None, "--name"),
    all_labs: bool = typer.Option(False, "--all", "-a"),
    cleanup: bool = typer.Option(False, "--cleanup", "-c", help="Also the lab's folder (netplex always removes it)."),
    graceful: bool = typer.Option(False, "--graceful"),
) -> None:
    """containerlab's destroy: the keeper closes the lab (the twin's namespaces and daemons go) and ends."""
    for rec in _clab_labs(topo, name, all_labs):
        sys.stderr.write(log_line("INFO", "Destroying lab", name=rec.name))
        try:
            destroy_lab(rec)
        except ClabError as e:
            raise _clab_error(str(e)) from None


@clab_app.command("exec")
def clab_exec(
    topo: Path | None = typer.Option(None, "--topo", "-t"),
    name: str | None = typer.Option(None, "--name"),
    cmds: list[str] = typer.Option([], "--cmd", help="The command (repeatable)."),
    labels: list[str] = typer.Option([], "--label", help="clab-node-name=NODE (or clab-node-kind=KIND)."),
    fmt: str = typer.Option("plain", "--format", "-f"),
) -> None:
    """containerlab's exec: run a command on the lab's containers (all, or those --label selects)."""
    if not cmds:
        raise _clab_error("provide command to execute")
    if fmt != "plain":
        raise _fail("clab exec --format json is not supported (plain only)")
    labs = _clab_labs(topo, name, False)
    want: dict[str, str] = {}
    for label in labels:
        key, sep, value = label.partition("=")
        if not sep or key not in ("clab-node-name", "clab-node-kind", "containerlab"):
            raise _fail(f"clab exec --label {label}: netplex selects by clab-node-name, clab-node-kind, containerlab")
        want[key] = value
    for rec in labs:
        if want.get("containerlab", rec.name) != rec.name:
            continue
        for node in rec.nodes:
            short = node["name"].removeprefix(f"clab-{rec.name}-")
            if want.get("clab-node-name", short) != short or want.get("clab-node-kind", node["kind"]) != node["kind"]:
                continue
            for cmd in cmds:
                try:
                    r = exec_on_lab(rec, node["node"], cmd)
                except ClabError as e:
                    raise _clab_error(str(e)) from None
                if r.get("status"):
                    sys.stderr.write(log_line("ERROR", "Failed to execute command", command=cmd, node=node["name"],
                                              rc=str(r["status"]), stdout=r.get("output", ""),
                                              stderr=r.get("error", "")))
                else:
                    sys.stderr.write(log_line("INFO", "Executed command", node=node["name"], command=cmd,
                                              stdout=r.get("output", "")))


def main() -> None:
    """The console-script entry point."""
    app()


if __name__ == "__main__":
    main()
