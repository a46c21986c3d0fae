"""`openstack` typed on a cloud host (a node's setup line, `cmd` probe or `netplex shell`):
the client answers `list` and `show` from the cloud the scenario's `cloud:` commands built.

The cloud section leaves on every cloud host the file `STATE_PATH`
(/var/lib/neutron/netplex-cloud.json, in the node's private /var/lib on the kernel twin): the
controller's inputs (seed, hosts, their physical_interface_mappings and agents) and the
`openstack` commands; the client rebuilds the controller from it (the controller is
deterministic, so the ids, MACs and addresses are the ones the agents wrote) and runs the
line read-only. Any other action is refused in netplex's words (status 2, nothing changes).
With no state file the client answers as python-openstackclient does with no cloud
configured. The simulator's shell runs `openstack_main` as a registered command; the twin
runs it through netplex/twin/bin/openstack (`python -m netplex.cloud`).
"""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from netplex.cloud.controller import Controller
from netplex.cloud.openstack import openstack
from netplex.cloud.state import CloudStateError, from_dump
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["STATE_PATH", "controller_from_state", "openstack_main", "state_json"]

STATE_PATH = "/var/lib/neutron/netplex-cloud.json"
NO_CLOUD = "Missing value auth-url required for auth plugin password\n"   # keystoneauth, no OS_AUTH_URL


def state_json(config: dict[str, Any], base: str | None, commands: list[str]) -> str:
    """The state file's text: what `controller_from_state` needs to rebuild the controller (the
    Controller's arguments, the resumed cloud's SQL text or None, the commands that succeeded)."""
    return json.dumps({"config": config, "base": base, "commands": commands}, separators=(",", ":"))


def controller_from_state(text: str) -> Controller:
    """The controller after the state's commands (they all succeeded when the file was written)."""
    state: dict[str, Any] = json.loads(text)
    ctl = Controller(**state["config"])
    if state["base"] is not None:
        from_dump(state["base"], ctl, STATE_PATH)
    for line in state["commands"]:
        openstack(ctl, line)
    return ctl


def openstack_main(argv: list[str], state: str | None) -> tuple[int, str, str]:
    """`openstack ARGS...` on a host whose state file holds `state` (None: there is none)."""
    if state is None:
        return 1, "", NO_CLOUD
    try:
        ctl = controller_from_state(state)
    except (ValueError, KeyError, TypeError, CloudStateError):
        return 1, "", f"netplex: openstack: {STATE_PATH} is not a cloud's state\n"
    return openstack(ctl, shlex.join(["openstack", *argv[1:]]), read_only=True)


@command("openstack")
def openstack_command(ctx: Context, argv: list[str]) -> Result:
    """openstack(1) in the simulator's shell: list and show of the scenario's cloud."""
    data = ctx.fs.read(STATE_PATH)
    return Result(*openstack_main(argv, data.decode() if data is not None else None))


def main() -> None:
    """The twin's `openstack` (netplex/twin/bin/openstack): the state file of the node's /var/lib."""
    path = Path(STATE_PATH)
    status, out, err = openstack_main(["openstack", *sys.argv[1:]], path.read_text() if path.exists() else None)
    sys.stdout.write(out)
    sys.stderr.write(err)
    raise SystemExit(status)
