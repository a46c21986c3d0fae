"""The file tools of GNU coreutils 9.1 on the machine's own filesystem (`ctx.fs`):
tee, ls, mkdir, rmdir, rm, cp, mv, touch, basename, dirname (src/tee.c, ls.c,
mkdir.c, rmdir.c, rm.c, cp.c, mv.c, touch.c, basename.c, dirname.c).

Messages are the tools' own under LC_ALL=C (`mkdir: cannot create directory
'a': File exists`). The modelled /proc and /sys are read-only here: `ls` lists
them through `ctx.list_dir`, `cp` reads them through `ctx.read_file`; writing
there is refused. Files have
no owners or times: `ls -l` shows root and the epoch.
"""
from __future__ import annotations

import errno
import posixpath

from netplex.machine.fs import FileSystem, FsError
from netplex.shell.coreutils.common import Usage, gnu_getopt, text_tool, usage_error
from netplex.shell.registry import Context, FileReadError
from netplex.shell.result import Result

_NOT_SUPPORTED = 2


def _fs(ctx: Context) -> FileSystem:
    return ctx.fs


def _abs(ctx: Context, path: str) -> str:
    return FileSystem.norm(path, ctx.cwd)


def _refuse_virtual(prog: str, ctx: Context, path: str) -> None:
    p = _abs(ctx, path)
    if FileSystem.is_virtual(p) and not _fs(ctx).exists(p):
        raise Usage(Result(_NOT_SUPPORTED, "", f"netplex: {prog}: {p} is modelled read-only (use sysctl for /proc/sys)\n"))


def _missing(prog: str, what: str) -> Usage:
    return usage_error(prog, what)


def _flags(opts: list[tuple[str, str]]) -> set[str]:
    return {o for o, _ in opts}


# ---------------------------------------------------------------- tee


@text_tool("tee")
def tee(ctx: Context, argv: list[str]) -> Result:
    """tee(1): copy stdin to stdout and to each FILE (-a appends)."""
    opts, operands = gnu_getopt("tee", argv[1:], "ai", "", {"append": "a", "ignore-interrupts": "i"})
    append = "a" in _flags(opts)
    data = ctx.stdin.encode("utf-8", "surrogateescape")
    errors: list[str] = []
    for name in operands:
        p = _abs(ctx, name)
        if p == "/dev/null":
            continue
        _refuse_virtual("tee", ctx, name)
        try:
            _fs(ctx).write_bytes(p, data, append=append)
        except FsError as e:
            errors.append(f"tee: {name}: {e.message}\n")
    return Result(1 if errors else 0, ctx.stdin, "".join(errors))


# ---------------------------------------------------------------- ls


def _mode_string(is_dir: bool, mode: int) -> str:
    bits = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    if mode & 0o1000:
        bits = bits[:8] + ("t" if mode & 0o001 else "T")
    return ("d" if is_dir else "-") + bits


def _long_listing(fs: FileSystem, entries: list[tuple[str, str]]) -> list[str]:
    """`ls -l` rows, the size column right-aligned as ls does."""
    rows = []
    for path, shown in entries:
        st = fs.stat(path)
        assert st is not None
        links = 2 + sum(1 for n in fs.listdir(path) if fs.is_dir(posixpath.join(path, n))) if st.is_dir else 1
        rows.append((_mode_string(st.is_dir, st.mode), str(links), str(st.size), shown))
    lw = max((len(r[1]) for r in rows), default=1)
    sw = max((len(r[2]) for r in rows), default=1)
    return [f"{m} {n:>{lw}} root root {s:>{sw}} Jan  1  1970 {name}\n" for m, n, s, name in rows]


def _blocks(fs: FileSystem, paths: list[str]) -> int:
    total = 0
    for p in paths:
        st = fs.stat(p)
        if st is not None and (st.is_dir or st.size):
            total += 4 * ((st.size + 4095) // 4096 if not st.is_dir else 1)
    return total


@text_tool("ls")
def ls(ctx: Context, argv: list[str]) -> Result:
    """ls(1) -l -a -A -1 -d (one name a line, as ls writes to a pipe)."""
    opts, operands = gnu_getopt("ls", argv[1:], "laA1d", "", {"all": "a", "almost-all": "A", "directory": "d"})
    flags = _flags(opts)
    fs = _fs(ctx)
    files: list[tuple[str, str]] = []
    dirs: list[tuple[str, str]] = []
    errors: list[str] = []
    virtual: dict[str, list[str]] = {}   # modelled /proc and /sys folders: their names
    for name in operands or ["."]:
        p = _abs(ctx, name)
        modelled = FileSystem.is_virtual(p) and not (fs.is_dir(p) and fs.listdir(p))   # /proc, /sys
        if modelled:
            if "l" in flags:
                return Result(_NOT_SUPPORTED, "", f"netplex: ls -l of {p} is not supported (ls and cat work)\n")
            names = ctx.list_dir(p)
            if names is not None:
                virtual[p] = names
                dirs.append((p, name))
                continue
            try:
                text = ctx.read_file(p)
            except FileReadError:
                text = ""
            if text is None:
                errors.append(f"ls: cannot access '{name}': No such file or directory\n")
            else:
                files.append((p, name))
            continue
        st = fs.stat(p)
        if st is None:
            errors.append(f"ls: cannot access '{name}': No such file or directory\n")
        elif st.is_dir and "d" not in flags:
            dirs.append((p, name))
        else:
            files.append((p, name))
    out: list[str] = []
    files.sort(key=lambda e: e[1])
    dirs.sort(key=lambda e: e[1])
    if files:
        out.extend(_long_listing(fs, files) if "l" in flags else [f"{shown}\n" for _, shown in files])
    many = len(files) + len(dirs) + len(errors) > 1
    for i, (p, shown) in enumerate(dirs):
        names = virtual[p] if p in virtual else fs.listdir(p)
        if "a" in flags:
            names = [".", "..", *names]
        elif "A" not in flags:
            names = [n for n in names if not n.startswith(".")]
        if many:
            out.append(("\n" if files or i else "") + f"{shown}:\n")
        paths = [FileSystem.norm(n, p) for n in names]
        if "l" in flags:
            out.append(f"total {_blocks(fs, paths)}\n")
            out.extend(_long_listing(fs, list(zip(paths, names))))
        else:
            out.extend(f"{n}\n" for n in names)
    return Result(2 if errors else 0, "".join(out), "".join(errors))


# ---------------------------------------------------------------- mkdir, rmdir


def _parse_mode(prog: str, text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise Usage(Result(_NOT_SUPPORTED, "", f"netplex: {prog}: only octal modes are supported: {text}\n")) from None
    if not 0 <= mode <= 0o7777:
        raise usage_error(prog, f"invalid mode '{text}'", hint=False)
    return mode


@text_tool("mkdir")
def mkdir(ctx: Context, argv: list[str]) -> Result:
    """mkdir(1) [-p] [-m MODE] DIR..."""
    opts, operands = gnu_getopt("mkdir", argv[1:], "pv", "m", {"parents": "p", "mode=": "m", "verbose": "v"})
    if not operands:
        raise _missing("mkdir", "missing operand")
    flags = _flags(opts)
    mode = next((_parse_mode("mkdir", v) for o, v in opts if o == "m"), 0o755)
    fs = _fs(ctx)
    errors: list[str] = []
    out: list[str] = []
    for name in operands:
        _refuse_virtual("mkdir", ctx, name)
        p = _abs(ctx, name)
        try:
            if "p" in flags:
                if fs.is_dir(p):
                    continue
                # mkdir -p reports the first component it could not make
                cur = "/"
                for part in [c for c in p.split("/") if c]:
                    cur = posixpath.join(cur, part)
                    if fs.is_dir(cur):
                        continue
                    if fs.exists(cur):
                        shown = name if cur == p else cur if name.startswith("/") else \
                            posixpath.relpath(cur, ctx.cwd)
                        raise FsError(errno.ENOTDIR if cur != p else errno.EEXIST, shown)
                    fs.mkdir(cur, mode if cur == p else 0o755)
                    if "v" in flags:
                        out.append(f"mkdir: created directory '{cur}'\n")
            else:
                fs.mkdir(p, mode)
                if "v" in flags:
                    out.append(f"mkdir: created directory '{name}'\n")
        except FsError as e:
            errors.append(f"mkdir: cannot create directory '{e.path if 'p' in flags and e.path else name}': "
                          f"{e.message}\n")
    return Result(1 if errors else 0, "".join(out), "".join(errors))


@text_tool("rmdir")
def rmdir(ctx: Context, argv: list[str]) -> Result:
    """rmdir(1) [-p] DIR..."""
    opts, operands = gnu_getopt("rmdir", argv[1:], "pv", "", {"parents": "p", "verbose": "v"})
    if not operands:
        raise _missing("rmdir", "missing operand")
    fs = _fs(ctx)
    errors: list[str] = []
    for name in operands:
        _refuse_virtual("rmdir", ctx, name)
        targets = [name]
        if "p" in _flags(opts):
            d = posixpath.dirname(name.rstrip("/"))
            while d and d not in ("/", "."):
                targets.append(d)
                d = posixpath.dirname(d)
        for t in targets:
            try:
                fs.rmdir(_abs(ctx, t))
            except FsError as e:
                errors.append(f"rmdir: failed to remove '{t}': {e.message}\n")
                break
    return Result(1 if errors else 0, "", "".join(errors))


# ---------------------------------------------------------------- rm


@text_tool("rm")
def rm(ctx: Context, argv: list[str]) -> Result:
    """rm(1) [-r] [-f] [-d] FILE..."""
    opts, operands = gnu_getopt("rm", argv[1:], "rRfdiv", "", {"recursive": "r", "force": "f", "dir": "d",
                                                              "verbose": "v"})
    flags = _flags(opts)
    force = "f" in flags
    recursive = bool(flags & {"r", "R"})
    if not operands:
        if force:
            return Result(0)
        raise _missing("rm", "missing operand")
    fs = _fs(ctx)
    errors: list[str] = []
    out: list[str] = []
    for name in operands:
        p = _abs(ctx, name)
        if posixpath.basename(name.rstrip("/")) in (".", ".."):
            errors.append(f"rm: refusing to remove '.' or '..' directory: skipping '{name}'\n")
            continue
        if p == "/":
            errors.append("rm: it is dangerous to operate recursively on '/'\n"
                          "rm: use --no-preserve-root to override this failsafe\n")
            continue
        _refuse_virtual("rm", ctx, name)
        st = fs.stat(p)
        if st is None:
            if not force:
                errors.append(f"rm: cannot remove '{name}': No such file or directory\n")
            continue
        try:
            if st.is_dir:
                if recursive:
                    fs.remove_tree(p)
                elif "d" in flags:
                    fs.rmdir(p)
                else:
                    errors.append(f"rm: cannot remove '{name}': Is a directory\n")
                    continue
            else:
                fs.unlink(p)
        except FsError as e:
            errors.append(f"rm: cannot remove '{name}': {e.message}\n")
            continue
        if "v" in flags:
            out.append(f"removed {'directory ' if st.is_dir else ''}'{name}'\n")
    return Result(1 if errors else 0, "".join(out), "".join(errors))


# ---------------------------------------------------------------- cp, mv


def _read_source(ctx: Context, prog: str, name: str) -> bytes | None:
    """A regular file's bytes (the machine's, or a modelled /proc or /sys file); None for a folder."""
    p = _abs(ctx, name)
    fs = _fs(ctx)
    if fs.is_dir(p):
        return None
    if fs.is_file(p):
        return fs.read_bytes(p)
    try:
        text = ctx.read_file(p) if FileSystem.is_virtual(p) else None
    except FileReadError as e:
        if e.message == "Is a directory":
            return None
        raise Usage(Result(1, "", f"{prog}: cannot open '{name}' for reading: {e.message}\n")) from None
    if text is None:
        raise Usage(Result(1, "", f"{prog}: cannot stat '{name}': No such file or directory\n"))
    return text.encode("utf-8", "surrogateescape")


def _copy_tree(fs: FileSystem, src: str, dst: str) -> None:
    if not fs.is_dir(dst):
        fs.mkdir(dst)
    for name in fs.listdir(src):
        s, d = posixpath.join(src, name), posixpath.join(dst, name)
        if fs.is_dir(s):
            _copy_tree(fs, s, d)
        else:
            fs.write_bytes(d, fs.read_bytes(s))


def _targets(prog: str, ctx: Context, operands: list[str], target_dir: str | None) -> tuple[list[str], str, bool]:
    """(sources, destination, destination is a folder) as cp and mv read their operands."""
    fs = _fs(ctx)
    if target_dir is not None:
        if not fs.is_dir(_abs(ctx, target_dir)):
            raise usage_error(prog, f"target directory '{target_dir}': No such file or directory", hint=False)
        if not operands:
            raise _missing(prog, "missing file operand")
        return operands, target_dir, True
    if not operands:
        raise _missing(prog, "missing file operand")
    if len(operands) == 1:
        raise _missing(prog, f"missing destination file operand after '{operands[0]}'")
    *sources, dest = operands
    into = fs.is_dir(_abs(ctx, dest))
    if len(sources) > 1 and not into:
        why = "Not a directory" if fs.exists(_abs(ctx, dest)) else "No such file or directory"
        raise usage_error(prog, f"target '{dest}': {why}", hint=False)
    return sources, dest, into


@text_tool("cp")
def cp(ctx: Context, argv: list[str]) -> Result:
    """cp(1) [-r] [-f] [-p] [-a] [-t DIR] SOURCE... DEST."""
    opts, operands = gnu_getopt("cp", argv[1:], "rRfpavn", "t", {"recursive": "r", "force": "f", "archive": "a",
                                                                  "target-directory=": "t", "verbose": "v",
                                                                  "no-clobber": "n"})
    flags = _flags(opts)
    recursive = bool(flags & {"r", "R", "a"})
    target_dir = next((v for o, v in opts if o == "t"), None)
    sources, dest, into = _targets("cp", ctx, operands, target_dir)
    fs = _fs(ctx)
    errors: list[str] = []
    for src in sources:
        to = posixpath.join(dest, posixpath.basename(src.rstrip("/"))) if into else dest
        _refuse_virtual("cp", ctx, to)
        try:
            data = _read_source(ctx, "cp", src)
        except Usage as e:
            errors.append(e.result.error)
            continue
        try:
            if data is None:
                if not recursive:
                    errors.append(f"cp: -r not specified; omitting directory '{src}'\n")
                    continue
                s, d = _abs(ctx, src), _abs(ctx, to)
                if d == s or d.startswith(s.rstrip("/") + "/"):
                    errors.append(f"cp: cannot copy a directory, '{src}', into itself, '{to}'\n")
                    continue
                if fs.is_file(d):
                    errors.append(f"cp: cannot overwrite non-directory '{to}' with directory '{src}'\n")
                    continue
                _copy_tree(fs, s, d)
            else:
                if "n" in flags and fs.exists(_abs(ctx, to)):
                    continue
                fs.write_bytes(_abs(ctx, to), data)
        except FsError as e:
            errors.append(f"cp: cannot create regular file '{to}': {e.message}\n")
    return Result(1 if errors else 0, "", "".join(errors))


@text_tool("mv")
def mv(ctx: Context, argv: list[str]) -> Result:
    """mv(1) [-f] [-t DIR] SOURCE... DEST."""
    opts, operands = gnu_getopt("mv", argv[1:], "fvn", "t", {"force": "f", "target-directory=": "t",
                                                              "verbose": "v", "no-clobber": "n"})
    flags = _flags(opts)
    target_dir = next((v for o, v in opts if o == "t"), None)
    sources, dest, into = _targets("mv", ctx, operands, target_dir)
    fs = _fs(ctx)
    errors: list[str] = []
    for src in sources:
        to = posixpath.join(dest, posixpath.basename(src.rstrip("/"))) if into else dest
        s, d = _abs(ctx, src), _abs(ctx, to)
        _refuse_virtual("mv", ctx, src)
        _refuse_virtual("mv", ctx, to)
        if not fs.exists(s):
            errors.append(f"mv: cannot stat '{src}': No such file or directory\n")
            continue
        if "n" in flags and fs.exists(d):
            continue
        try:
            if fs.is_dir(s) and fs.is_file(d):
                errors.append(f"mv: cannot overwrite non-directory '{to}' with directory '{src}'\n")
                continue
            if fs.is_dir(s) and (d == s or d.startswith(s.rstrip("/") + "/")):
                errors.append(f"mv: cannot move '{src}' to a subdirectory of itself, '{to}'\n")
                continue
            fs.rename(s, d)
        except FsError as e:
            errors.append(f"mv: cannot move '{src}' to '{to}': {e.message}\n")
    return Result(1 if errors else 0, "", "".join(errors))


# ---------------------------------------------------------------- touch


@text_tool("touch")
def touch(ctx: Context, argv: list[str]) -> Result:
    """touch(1): create empty files (files have no times here, so nothing else changes)."""
    opts, operands = gnu_getopt("touch", argv[1:], "acm", "", {"no-create": "c"})
    if not operands:
        raise _missing("touch", "missing file operand")
    fs = _fs(ctx)
    errors: list[str] = []
    for name in operands:
        p = _abs(ctx, name)
        if fs.exists(p) or "c" in _flags(opts):
            continue
        _refuse_virtual("touch", ctx, name)
        try:
            fs.write_bytes(p, b"", append=True)
        except FsError as e:
            errors.append(f"touch: cannot touch '{name}': {e.message}\n")
    return Result(1 if errors else 0, "", "".join(errors))


# ---------------------------------------------------------------- chmod


@text_tool("chmod")
def chmod(ctx: Context, argv: list[str]) -> Result:
    """chmod(1) with an octal MODE."""
    args = argv[1:]
    if len(args) < 2:
        raise _missing("chmod", "missing operand" if not args else f"missing operand after '{args[0]}'")
    mode = _parse_mode("chmod", args[0])
    errors: list[str] = []
    for name in args[1:]:
        _refuse_virtual("chmod", ctx, name)
        try:
            _fs(ctx).chmod(_abs(ctx, name), mode)
        except FsError as e:
            errors.append(f"chmod: cannot access '{name}': {e.message}\n")
    return Result(1 if errors else 0, "", "".join(errors))


# ---------------------------------------------------------------- basename, dirname


@text_tool("basename")
def basename(ctx: Context, argv: list[str]) -> Result:
    """basename(1) NAME [SUFFIX], -a, -s SUFFIX."""
    opts, operands = gnu_getopt("basename", argv[1:], "az", "s", {"multiple": "a", "suffix=": "s", "zero": "z"})
    if not operands:
        raise _missing("basename", "missing operand")
    suffix = next((v for o, v in opts if o == "s"), None)
    multiple = "a" in _flags(opts) or suffix is not None
    if not multiple:
        if len(operands) > 2:
            raise usage_error("basename", f"extra operand '{operands[2]}'")
        names, suffix = operands[:1], operands[1] if len(operands) == 2 else None
    else:
        names = operands
    out = []
    for name in names:
        stripped = name.rstrip("/")
        base = posixpath.basename(stripped) if stripped else ("/" if name else "")
        if suffix and base.endswith(suffix) and base != suffix:
            base = base[: -len(suffix)]
        out.append(base + ("\0" if "z" in _flags(opts) else "\n"))
    return Result(0, "".join(out))


@text_tool("dirname")
def dirname(ctx: Context, argv: list[str]) -> Result:
    """dirname(1) NAME..."""
    opts, operands = gnu_getopt("dirname", argv[1:], "z", "", {"zero": "z"})
    if not operands:
        raise _missing("dirname", "missing operand")
    out = []
    for name in operands:
        stripped = name.rstrip("/")
        if not stripped:
            d = "/" if name else "."
        elif "/" not in stripped:
            d = "."
        else:
            d = stripped[: stripped.rfind("/")].rstrip("/") or "/"
        out.append(d + ("\0" if "z" in _flags(opts) else "\n"))
    return Result(0, "".join(out))
