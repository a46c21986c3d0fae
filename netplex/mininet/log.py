"""mininet.log: `setLogLevel`, `info`, `output`, `warn`, `error`, `debug` and `lg`.

As Mininet's MininetLogger: messages go to standard error without an added newline,
their arguments joined by spaces; the default level is `output` (between info and
warning), so `output()` prints and `info()` prints only after `setLogLevel('info')`.
"""
from __future__ import annotations

import sys
from typing import Any

__all__ = ["LEVELS", "debug", "error", "info", "lg", "output", "setLogLevel", "warn", "warning"]

LEVELS = {"debug": 10, "info": 20, "output": 25, "warning": 30, "warn": 30, "error": 40, "critical": 50}
DEFAULT_LEVEL = "output"


class MininetLogger:
    """The `lg` object: a level and the per-level functions."""

    def __init__(self) -> None:
        self.level = LEVELS[DEFAULT_LEVEL]

    def setLogLevel(self, levelname: str | None = None) -> None:
        if levelname and levelname not in LEVELS:
            sys.stderr.write(f"{LEVELS}\n")
            raise Exception(f"setLogLevel: unknown levelname {levelname}")
        self.level = LEVELS.get(levelname or DEFAULT_LEVEL, LEVELS[DEFAULT_LEVEL])

    def _log(self, level: int, args: tuple[Any, ...]) -> None:
        if level >= self.level:
            sys.stderr.write(" ".join(str(a) for a in args))
            sys.stderr.flush()

    def debug(self, *args: Any) -> None:
        self._log(LEVELS["debug"], args)

    def info(self, *args: Any) -> None:
        self._log(LEVELS["info"], args)

    def output(self, *args: Any) -> None:
        self._log(LEVELS["output"], args)

    def warning(self, *args: Any) -> None:
        self._log(LEVELS["warning"], args)

    warn = warning

    def error(self, *args: Any) -> None:
        self._log(LEVELS["error"], args)


lg = MininetLogger()
setLogLevel = lg.setLogLevel
debug = lg.debug
info = lg.info
output = lg.output
warning = lg.warning
warn = lg.warn
error = lg.error
