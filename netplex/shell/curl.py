"""`curl` as curl 7.88.1 (Debian 12, curl(1)) prints it, over HTTP/1.1 on the simulated clock.

    curl [-s] [-S] [-v] [-i] [-I] [-f] [-o FILE] [-w FORMAT] [-m SECS] [--connect-timeout SECS]
         [-X METHOD] [-H 'Name: value'] [-d DATA | --data-raw DATA | --data-binary DATA]
         [--http0.9] http://ADDRESS[:PORT][/PATH]

The request is curl's own (`GET PATH HTTP/1.1`, Host, `User-Agent: curl/7.88.1`, `Accept:
*/*`); with data (`-d`, `--data`, `--data-ascii`: `@FILE` or `@-` reads it, dropping carriage
returns and newlines; `--data-binary @FILE` keeps them; `--data-raw` takes no `@`; several are
joined with `&`) it is a POST (unless `-X`) with `Content-Length` and `Content-Type:
application/x-www-form-urlencoded` (unless `-H` gives one), as curl's -d does. The answer is read until the peer closes or its Content-Length is in. An answer that
is not HTTP/1.x is HTTP/0.9, which curl refuses unless `--http0.9`: the probe services of
a scenario (`peer ADDR:PORT`) give `curl: (1) Received HTTP/0.9 when not allowed`, as the
real curl does. Exit statuses and messages: 1 (HTTP/0.9), 6 (a name neither an address nor
in the machine's /etc/hosts), 7 (refused, unreachable), 22 (`-f` and a status of 400 or
more), 28 (`-m`, `--connect-timeout`). Without `-s`, the progress meter goes to standard
error whenever standard output is not a terminal (curl's rule), its figures from the
simulated clock; `-v` prints curl's `*`, `>`, `<` and `{ [N bytes data]` lines.

Refused with netplex's words: https and other schemes, and the options not listed (uploads,
cookies, redirects to follow, proxies, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netplex.packet.addr import int_to_ip
from netplex.shell.registry import Context, command
from netplex.shell.resolv import GaiError, getaddrinfo
from netplex.shell.result import Result, unsupported
from netplex.stack.sockets import ERRNO_TEXT
from netplex.stack.tcp import TcpSocket

__all__ = ["curl"]

NSEC_PER_SEC = 1_000_000_000
NSEC_PER_MSEC = 1_000_000
DEFAULT_CONNECT_TIMEOUT_NS = 300 * NSEC_PER_SEC   # CURL_TIMEOUT_CONNECT_DEFAULT
RUN_LIMIT_NS = 60 * NSEC_PER_SEC                  # an answer that never ends: what Ctrl-C would do
USER_AGENT = "curl/7.88.1"
METER_HEAD = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
              "                                 Dload  Upload   Total   Spent    Left  Speed\n")
# options taking a value, by long name; short letters map to long names
_SHORT = {"s": "silent", "S": "show-error", "v": "verbose", "i": "include", "I": "head", "f": "fail",
          "o": "output", "w": "write-out", "m": "max-time", "X": "request", "H": "header", "V": "version",
          "d": "data"}
_WITH_VALUE = {"output", "write-out", "max-time", "connect-timeout", "request", "header", "data", "data-ascii",
               "data-raw", "data-binary"}
_FLAGS = {"silent", "show-error", "verbose", "include", "head", "fail", "http0.9", "version"}


class _CurlFailure(Exception):
    """A curl failure: CURLcode and curl's message."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


@dataclass
class _Opts:
    flags: set[str] = field(default_factory=set)
    output: str | None = None
    write_out: str | None = None
    max_time_ns: int | None = None
    connect_timeout_ns: int | None = None
    method: str | None = None
    headers: list[str] = field(default_factory=list)
    url: str | None = None
    data: list[tuple[str, str]] = field(default_factory=list)    # (option, value) of each -d, --data-*
    body: bytes | None = None                                    # the data joined, files read


@dataclass
class _Transfer:
    """What one transfer saw: for -w and the messages."""

    host: str = ""
    ip: int = 0
    port: int = 80
    local: tuple[int, int] = (0, 0)
    code: int = 0
    body: bytes = b""
    head: bytes = b""
    connected: bool = False


def _parse(argv: list[str]) -> _Opts | Result:
    o = _Opts()
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a.startswith("--") and len(a) > 2:
            name = a[2:]
            if name not in _FLAGS and name not in _WITH_VALUE:
                if name.startswith("no-") or name in ("location", "insecure", "data-urlencode", "cookie", "proxy", "user",
                                                      "upload-file", "compressed", "retry", "resolve"):
                    return unsupported(f"curl --{name}")
                return Result(2, "", f"curl: option --{name}: is unknown\n"
                                     "curl: try 'curl --help' or 'curl --manual' for more information\n")
            names = [name]
            inline: str | None = None
        elif a.startswith("-") and len(a) > 1:
            names, inline = [], None
            for j, ch in enumerate(a[1:]):
                long = _SHORT.get(ch)
                if long is None:
                    if ch in "LkbcuxOTFeG":
                        return unsupported(f"curl -{ch}")
                    return Result(2, "", f"curl: option -{a[1 + j:]}: is unknown\n"
                                         "curl: try 'curl --help' or 'curl --manual' for more information\n")
                names.append(long)
                if long in _WITH_VALUE:
                    inline = a[2 + j:] or None
                    break
        else:
            if o.url is not None:
                return unsupported("curl with several URLs")
            o.url = a
            continue
        for name in names:
            if name in _FLAGS:
                o.flags.add(name)
                continue
            value = inline if inline is not None else (args[i] if i < len(args) else None)
            if inline is None:
                i += 1
            if value is None:
                return Result(2, "", f"curl: option {a}: requires parameter\n"
                                     "curl: try 'curl --help' or 'curl --manual' for more information\n")
            bad = _set_value(o, name, value, a if a.startswith("--") else a[:2])
            if bad is not None:
                return bad
    return o


def _set_value(o: _Opts, name: str, value: str, typed: str) -> Result | None:
    if name in ("max-time", "connect-timeout"):
        try:
            secs = float(value)
        except ValueError:
            return Result(2, "", f"curl: option {typed}: expected a proper numerical parameter\n"
                                 "curl: try 'curl --help' or 'curl --manual' for more information\n")
        ns = int(secs * NSEC_PER_SEC)
        if name == "max-time":
            o.max_time_ns = ns
        else:
            o.connect_timeout_ns = ns
    elif name == "output":
        o.output = value
    elif name == "write-out":
        o.write_out = value
    elif name == "request":
        o.method = value
    elif name == "header":
        o.headers.append(value)
    elif name.startswith("data"):
        o.data.append((name, value))
    return None


def _read_data(ctx: Context, o: _Opts, err: list[str]) -> None:
    """The request body from the -d options (curl's data_read / file2memory): `@FILE` (`@-`: standard
    input) read, its CR and LF dropped except for --data-binary; a file that cannot be read warns
    and gives nothing; the parts joined with `&`."""
    if not o.data:
        return
    parts: list[bytes] = []
    for name, value in o.data:
        if value.startswith("@") and name != "data-raw":
            path = value[1:]
            if path == "-":
                data = ctx.stdin.encode()
            elif ctx.fs.is_file(path, ctx.cwd):
                data = ctx.fs.read_bytes(path, ctx.cwd)
            else:
                err.append(f'Warning: Couldn\'t read data from file "{path}", this makes an empty \n'
                           "Warning: POST.\n")
                data = b""
            if name != "data-binary":
                data = data.replace(b"\r", b"").replace(b"\n", b"")
        else:
            data = value.encode()
        parts.append(data)
    o.body = b"&".join(parts)


def _resolve(ctx: Context, host: str) -> int:
    found = getaddrinfo(ctx, host)
    if isinstance(found, GaiError):
        raise _CurlFailure(6, f"Could not resolve host: {host}")
    return found


def _split_url(url: str) -> tuple[str, int, str]:
    scheme, sep, rest = url.partition("://")
    if not sep:
        rest, scheme = url, "http"
    if scheme.lower() != "http":
        raise _CurlFailure(-1, f"curl {scheme}:// URLs")
    hostport, slash, path = rest.partition("/")
    path = "/" + path if slash else "/"
    host, colon, port_s = hostport.partition(":")
    if "@" in host or not host:
        raise _CurlFailure(3, "URL using bad/illegal format or missing URL")
    port = 80
    if colon:
        if not port_s.isdigit() or not 0 < int(port_s) < 65536:
            raise _CurlFailure(3, "URL using bad/illegal format or missing URL")
        port = int(port_s)
    return host, port, path


def _size5(n: float) -> str:
    """max5data: a figure in at most 5 characters (k, M, G suffixes, 1024-based)."""
    n = int(n)
    if n < 100000:
        return f"{n:5d}"
    for unit, div in (("k", 1024), ("M", 1024 ** 2), ("G", 1024 ** 3), ("T", 1024 ** 4)):
        if n < div * 10:
            return f"{n / div:4.1f}{unit}"
        if n < div * 10000:
            return f"{n // div:4d}{unit}"
    return f"{n // 1024 ** 5:4d}P"


def _meter_line(total: int, got: int, elapsed_ns: int) -> str:
    """progress_meter's line: percentages, sizes, average and current speeds, times."""
    pct = 100 if total and got >= total else (got * 100 // total if total else 0)
    secs = elapsed_ns / NSEC_PER_SEC
    speed = got / secs if secs > 0 else 0
    spent = int(secs)
    spent_s = f"{spent // 3600:2d}:{spent // 60 % 60:02d}:{spent % 60:02d}" if spent > 0 else "--:--:--"
    return (f"\r{pct:3d} {_size5(total)}  {pct:3d} {_size5(got)}    0     0  {_size5(speed)}      0 "
            f"--:--:-- {spent_s} --:--:-- {_size5(speed)}")


def _request(method: str, path: str, host: str, port: int, headers: list[str], body: bytes | None = None) -> list[str]:
    """The request line and headers; `-H 'Name: value'` replaces curl's own header of that
    name (`-H 'Name:'` removes it) or adds one. A body adds Content-Length and curl's
    form Content-Type."""
    hosthdr = host if port == 80 else f"{host}:{port}"
    fields = [f"Host: {hosthdr}", f"User-Agent: {USER_AGENT}", "Accept: */*"]
    if body is not None:
        fields += [f"Content-Length: {len(body)}", "Content-Type: application/x-www-form-urlencoded"]
    for h in headers:
        name = h.split(":", 1)[0].strip().lower()
        fields = [x for x in fields if x.split(":", 1)[0].lower() != name]
        if ":" in h and h.split(":", 1)[1].strip():
            fields.append(h)
    return [f"{method} {path} HTTP/1.1", *fields]


def _transfer(ctx: Context, o: _Opts, err: list[str], t: _Transfer) -> None:
    """Connect, send the request, read the answer into `t`; _CurlFailure on failure. -v lines go
    to `err`."""
    ns: Any = ctx.node
    world = ns.world
    verbose = "verbose" in o.flags
    assert o.url is not None
    host, port, path = _split_url(o.url)
    t.host, t.port = host, port
    t.ip = _resolve(ctx, host)
    start = world.sched.now
    deadline = start + o.max_time_ns if o.max_time_ns else None
    addr = int_to_ip(t.ip)
    if verbose:
        err.append(f"*   Trying {addr}:{port}...\n")
    sk = TcpSocket(ns.sockets)
    state: dict[str, Any] = {"connected": False, "closed": False, "errno": 0}
    data = bytearray()
    sk.on_connect = lambda s: state.update(connected=True)
    sk.on_data = lambda s, payload: data.extend(payload)
    sk.on_close = lambda s: state.update(closed=True)
    sk.on_error = lambda s, e: state.update(errno=e)
    e = sk.connect(t.ip, port)
    if e:
        state["errno"] = e
    connect_limit = o.connect_timeout_ns or DEFAULT_CONNECT_TIMEOUT_NS
    if deadline is not None:
        connect_limit = min(connect_limit, deadline - start)
    if not state["errno"]:
        world.run_until(lambda: state["connected"] or bool(state["errno"]), connect_limit)
    elapsed_ms = (world.sched.now - start) // NSEC_PER_MSEC
    if not state["connected"]:
        sk.close()
        if state["errno"]:
            if verbose:
                err.append(f"* connect to {addr} port {port} failed: "
                           f"{ERRNO_TEXT.get(state['errno'], 'Unknown error')}\n")
            msg = f"Failed to connect to {addr} port {port} after {elapsed_ms} ms: Couldn't connect to server"
            raise _CurlFailure(7, msg)
        if o.connect_timeout_ns and (deadline is None or o.connect_timeout_ns <= deadline - start):
            raise _CurlFailure(28, f"Failed to connect to {addr} port {port} after {elapsed_ms} ms: "
                                "Timeout was reached")
        raise _CurlFailure(28, f"Connection timed out after {elapsed_ms} milliseconds")
    t.connected = True
    t.local = (sk.laddr, sk.lport)
    if verbose:
        err.append(f"* Connected to {host} ({addr}) port {port} (#0)\n")
    method = o.method or ("HEAD" if "head" in o.flags else "POST" if o.body is not None else "GET")
    req = _request(method, path, host, port, o.headers, o.body)
    if verbose:
        err += [f"> {line}\r\n" for line in req] + ["> \r\n"]
        if o.body:
            err += [f"}} [{len(o.body)} bytes data]\n", "* We are completely uploaded and fine\n"]
    sk.send(("\r\n".join(req) + "\r\n\r\n").encode() + (o.body or b""))

    def complete() -> bool:
        return state["closed"] or bool(state["errno"]) or _complete(bytes(data), method, "fail" in o.flags)
    limit = RUN_LIMIT_NS if deadline is None else deadline - world.sched.now
    world.run_until(complete, max(limit, 0))
    sk.close()
    raw = bytes(data)
    if not complete():
        elapsed_ms = (world.sched.now - start) // NSEC_PER_MSEC
        raise _CurlFailure(28, f"Operation timed out after {elapsed_ms} milliseconds with {len(raw)} bytes received")
    if not raw.startswith(b"HTTP/1."):
        if raw and "http0.9" not in o.flags:
            raise _CurlFailure(1, "Received HTTP/0.9 when not allowed")
        if not raw:
            raise _CurlFailure(52, "Empty reply from server")
        t.body = raw
        if verbose:
            err.append(f"{{ [{len(raw)} bytes data]\n")
        return
    head, _, body = raw.partition(b"\r\n\r\n")
    t.head = head + b"\r\n\r\n"
    status = head.split(b"\r\n", 1)[0].split()
    t.code = int(status[1]) if len(status) > 1 and status[1].isdigit() else 0
    n = _length(head)
    t.body = b"" if method == "HEAD" else body[:n] if n is not None else body
    failed = "fail" in o.flags and t.code >= 400
    if verbose:
        lines = head.decode("latin-1").split("\r\n")
        if raw.startswith(b"HTTP/1.0"):
            err.append("* HTTP 1.0, assume close after body\n")
        # -f stops at the status line
        err += [f"< {line}\r\n" for line in (lines[:1] if failed else lines)] + ([] if failed else ["< \r\n"])
        if t.body and not failed:
            err.append(f"{{ [{len(t.body)} bytes data]\n")
    if failed:
        raise _CurlFailure(22, f"The requested URL returned error: {t.code}")


def _length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


def _complete(raw: bytes, method: str, fail: bool) -> bool:
    """An HTTP/1.x answer whose headers and Content-Length body are in (with -f, an error
    status line is enough: curl stops there)."""
    if not raw.startswith(b"HTTP/1."):
        return False
    status = raw.split(b"\r\n", 1)[0].split()
    if fail and b"\r\n" in raw and len(status) > 1 and status[1].isdigit() and int(status[1]) >= 400:
        return True
    if b"\r\n\r\n" not in raw:
        return False
    head, _, body = raw.partition(b"\r\n\r\n")
    n = _length(head)
    return method == "HEAD" or (n is not None and len(body) >= n)


_WRITE_OUT = ("http_code", "response_code", "remote_ip", "remote_port", "local_ip", "local_port", "exitcode",
              "errormsg", "size_download", "url_effective", "num_connects", "size_header", "http_version")


def _write_out(fmt: str, t: _Transfer, code: int, msg: str, url: str) -> str | Result:
    out = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if fmt.startswith("%{", i) and "}" in fmt[i:]:
            name = fmt[i + 2:fmt.index("}", i)]
            i = fmt.index("}", i) + 1
            if name not in _WRITE_OUT:
                return unsupported(f"curl -w %{{{name}}}", "netplex's curl has " + ", ".join(_WRITE_OUT))
            out.append(str({
                "http_code": f"{t.code:03d}", "response_code": f"{t.code:03d}",
                "remote_ip": int_to_ip(t.ip) if t.connected else "", "remote_port": t.port if t.connected else "",
                "local_ip": int_to_ip(t.local[0]) if t.connected else "",
                "local_port": t.local[1] if t.connected else "", "exitcode": code, "errormsg": msg,
                "size_download": len(t.body), "url_effective": url, "num_connects": int(t.connected),
                "size_header": len(t.head), "http_version": "1.1" if t.head else "0",
            }[name]))
            continue
        if ch == "\\" and i + 1 < len(fmt) and fmt[i + 1] in "nrt\\":
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}[fmt[i + 1]])
            i += 2
            continue
        if fmt.startswith("%%", i):
            out.append("%")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@command("curl")
def curl(ctx: Context, argv: list[str]) -> Result:
    """curl(1) for http:// URLs on the simulated network."""
    parsed = _parse(argv)
    if isinstance(parsed, Result):
        return parsed
    o = parsed
    if "version" in o.flags:
        return Result(0, "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1\nRelease-Date: 2023-02-20\n"
                         "Protocols: http\nFeatures: IPv6 Largefile\n")
    if o.url is None:   # a bare `curl` only points at the help
        return Result(2, "", ("curl: no URL specified!\n" if len(argv) > 1 else "")
                      + "curl: try 'curl --help' or 'curl --manual' for more information\n")
    if o.data and "head" in o.flags:
        return Result(2, "", "Warning: You can only select one HTTP request method! You asked for both POST \n"
                             "Warning: (-d, --data) and HEAD (-I, --head).\n")
    silent = "silent" in o.flags
    show_error = not silent or "show-error" in o.flags
    meter = not silent and (ctx.terminal is None or o.output is not None)
    err: list[str] = []
    if meter:
        err.append(METER_HEAD + _meter_line(0, 0, 0))
    _read_data(ctx, o, err)
    ns: Any = ctx.node
    start = ns.world.sched.now
    t = _Transfer()
    code, msg = 0, ""
    try:
        _transfer(ctx, o, err, t)
    except _CurlFailure as e:
        if e.code == -1:
            return unsupported(e.msg, "netplex's curl speaks http only")
        code, msg = e.code, e.msg
        if "verbose" in o.flags:
            err.append(f"* {msg}\n")   # failf: verbose mode echoes every error
    out = ""
    body = t.body.decode("utf-8", "replace")
    if ("include" in o.flags or "head" in o.flags) and t.head:
        body = t.head.decode("latin-1") + body
    if code == 22:   # -f: the headers -i asked for, no body
        body = t.head.decode("latin-1") if "include" in o.flags else ""
    if code in (0, 22) and body:
        if o.output is not None and o.output != "-":
            if o.output != "/dev/null":
                path = o.output if o.output.startswith("/") else ctx.cwd.rstrip("/") + "/" + o.output
                ctx.fs.write(path, body.encode())
        else:
            out = body
    if meter and code != 6:
        total = len(t.body) if code == 0 else 0
        err.append(_meter_line(total, total, ns.world.sched.now - start) + "\n")
    if "verbose" in o.flags:
        err.append(f"* Connection #0 to host {t.host} left intact\n" if code == 0 and t.head
                   and not t.head.startswith(b"HTTP/1.0") else "* Closing connection 0\n")
    if code and show_error:
        err.append(f"curl: ({code}) {msg}\n")
    if o.write_out is not None:
        w = _write_out(o.write_out, t, code, msg, o.url)
        if isinstance(w, Result):
            return w
        out += w
    return Result(code, out, "".join(err))
