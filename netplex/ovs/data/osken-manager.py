"""osken-manager: run os-ken applications (os-ken 4.x ships the framework, not its old
`osken-manager` command). Used by netplex's `osken-manager` on both backends: the
simulator starts it on the host's loopback and relays the simulated switches' OpenFlow
connections to it (netplex/ovs/osken.py), the kernel twin runs it inside a namespace
beside the real ovs-vswitchd.

    python3 osken-manager.py [--ofp-listen-host IP] [--ofp-tcp-listen-port N] [--verbose] APP...

An APP is a module name or a path to a Python file holding an OSKenApp subclass
(os_ken.utils.import_module); a file runs only when NETPLEX_ALLOW_APPS=1 (`netplex run --allow-apps`). The options are os-ken's own (os_ken/controller/
controller.py, os_ken/log.py). This file imports os-ken; it is run as a program,
never imported by netplex.
"""
from __future__ import annotations

import os
import sys

from os_ken import cfg, log
from os_ken.base.app_manager import AppManager

log.early_init_log()
CONF = cfg.CONF
CONF.register_cli_opts([
    cfg.MultiStrOpt("app", positional=True, default=[], help="application module name or file to run"),
])


def main(argv: list[str]) -> int:
    """Parse os-ken's options, load the applications (and the OpenFlow handler they
    require), and serve until killed."""
    CONF(args=argv, prog="osken-manager", project="os_ken")
    log.init_log()
    apps = list(CONF.app) or ["os_ken.controller.ofp_handler"]
    for app in apps:        # a file is the scenario's code: only when the user allowed it
        if ("/" in app or app.endswith(".py")) and os.environ.get("NETPLEX_ALLOW_APPS", "") in ("", "0"):
            sys.stderr.write(f"osken-manager: {app}: an application file from the scenario runs only when "
                             "allowed (netplex run --allow-apps)\n")
            return 1
    AppManager.run_apps(apps)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
