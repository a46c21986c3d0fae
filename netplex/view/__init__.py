"""The web view of a run: `netplex view FILE` and `netplex run FILE --record run.npx`.

`record.py` runs a scenario on the simulator with tracing on and keeps what the page
shows (topology, addresses, probes, every traced packet's stages, interface counters
over time, the scenario's events, each node's tables) as one file; `server.py` serves
that recording and the page (`static/`) on 127.0.0.1. The page only shows: the server
answers GET and HEAD for a fixed set of paths and nothing else.
"""
from __future__ import annotations

from netplex.view.record import RECORD_FORMAT, Recorder, load_recording, record_scenario, save_recording
from netplex.view.server import ViewServer

__all__ = ["RECORD_FORMAT", "Recorder", "ViewServer", "load_recording", "record_scenario", "save_recording"]
