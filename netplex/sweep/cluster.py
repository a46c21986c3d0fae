"""Run a sweep's variants on an existing Dask distributed cluster (`--cluster ADDRESS`).

Dask distributed (https://distributed.dask.org) is an optional dependency
(`pip install 'netplex[cluster]'`; Debian: python3-distributed): this module
is imported only when `--cluster` is given. Each variant is one task,
`netplex.sweep.run.run_variant` on a `Job` (plain data), submitted with
`pure=False`; the workers need netplex importable (installed, or on their
PYTHONPATH) and, for `files:` read from beside the scenario, the scenario's
folder at the same path. Why Dask rather than Ray: docs/sweep.md.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from netplex.sweep.grid import SweepUsage
from netplex.sweep.run import Done, Job, failed_row, run_variant

try:
    import distributed
    from distributed.comm.addressing import parse_address, parse_host_port
except ModuleNotFoundError:   # the optional extra is not installed
    distributed = None

__all__ = ["CONNECT_TIMEOUT_S", "run_on_cluster"]

CONNECT_TIMEOUT_S = 10


def run_on_cluster(address: str, jobs: list[Job], done: Done | None = None,
                   timeout_s: float = CONNECT_TIMEOUT_S) -> list[dict[str, Any]]:
    """Every job on the Dask scheduler at `address` (tcp://HOST:PORT); rows in variant order.
    An unreachable scheduler, or Dask not installed, is a SweepUsage (exit 2)."""
    if distributed is None:
        raise SweepUsage("--cluster needs Dask distributed, which is not installed "
                         "(pip install 'netplex[cluster]', or apt-get install python3-distributed)")
    # distributed logs each failed connection attempt: the one message below says it
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    _check_reachable(address, timeout_s)
    try:
        client = distributed.Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, ValueError, TypeError) as e:
        raise SweepUsage(f"--cluster {address}: cannot reach the Dask scheduler: {_reason(e)}") from None
    finally:
        quiet.setLevel(level)
    rows: list[dict[str, Any]] = []
    try:
        futures = client.map(run_variant, jobs, pure=False)
        index = {f.key: job for f, job in zip(futures, jobs)}
        for fut in distributed.as_completed(futures, loop=client.loop):
            if fut.status == "finished":
                r = fut.result()
            else:
                exc = fut.exception()
                r = failed_row(index[fut.key].variant, f"the Dask task failed: {type(exc).__name__}: {exc}")
            rows.append(r)
            if done is not None:
                done(r)
    finally:
        client.close()
    return sorted(rows, key=lambda r: r["index"])


def _check_reachable(address: str, timeout_s: float) -> None:
    """Fail at once on a scheduler that refuses connections or a host that does not resolve
    (Client() would retry until its timeout, then leave a half-made client behind)."""
    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            raise ValueError(f"{scheme}:// is not a network address")
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as e:
        raise SweepUsage(f"--cluster {address}: not a scheduler address (tcp://HOST:PORT): {_reason(e)}") from None
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        why = e.strerror or str(e) or type(e).__name__
        raise SweepUsage(f"--cluster {address}: cannot reach the Dask scheduler: {why}") from None
    # Something listens there: ask who it is, within the timeout (Client() would wait forever on
    # a server that accepts and never answers Dask's handshake)
    try:
        reply = asyncio.run(asyncio.wait_for(_identity(address, timeout_s), timeout_s))
    except (TimeoutError, OSError, distributed.comm.CommClosedError, ValueError, TypeError) as e:
        why = "no answer" if isinstance(e, TimeoutError) else _reason(e)
        raise SweepUsage(f"--cluster {address}: not a Dask scheduler ({why})") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise SweepUsage(f"--cluster {address}: not a Dask scheduler")


async def _identity(address: str, timeout_s: float) -> Any:
    """The server's answer to Dask's `identity` request."""
    comm = await distributed.comm.connect(address, timeout=timeout_s)
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    finally:
        comm.abort()


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
