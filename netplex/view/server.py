"""The web view's server: the page and one recording, on 127.0.0.1, read-only.

A `ThreadingHTTPServer` (Python's http.server) bound to 127.0.0.1 unless the user
names another address. It answers GET and HEAD for a fixed table of paths — the page
(`static/index.html`, `view.js`, `view.css`, read from this package) and `/api/run`
(the recording as JSON) — and 404 for anything else; every other method is 405. The
page loads nothing from the internet (Content-Security-Policy `default-src 'self'`).
"""
from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

__all__ = ["STATIC", "ViewServer"]

STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/index.html": ("index.html", "text/html; charset=utf-8"),
          "/view.js": ("view.js", "text/javascript; charset=utf-8"), "/view.css": ("view.css", "text/css; charset=utf-8")}
_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'"


def _static(name: str) -> bytes:
    return resources.files("netplex.view").joinpath("static", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server_version = "netplex-view"
    body_cache: dict[str, tuple[bytes, str]] = {}

    def _send(self, body: bytes, ctype: str, head: bool) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _get(self, head: bool) -> None:
        assert isinstance(self.server, _Server)
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/api/run":
            self._send(self.server.payload, "application/json", head)
        elif path in STATIC:
            name, ctype = STATIC[path]
            self._send(_static(name), ctype, head)
        else:
            self.send_error(HTTPStatus.NOT_FOUND, "Not Found")

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._get(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._get(head=True)

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the address, not every request."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], payload: bytes) -> None:
        super().__init__(address, _Handler)
        self.payload = payload


class ViewServer:
    """Serve one recording: `start()` in a thread (tests) or `serve_forever()` (the CLI)."""

    def __init__(self, recording: dict[str, Any], host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = _Server((host, port), json.dumps(recording, separators=(",", ":")).encode())
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join()
