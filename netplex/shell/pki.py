"""`pki`, strongSwan's PKI tool (strongSwan 5.9, pki(1)), in the simulator: the commands that
make a CA and the gateways' certificates for swanctl.conf's `auth = pubkey`.

    pki --gen --type ecdsa --size 256 --outform pem > /etc/swanctl/private/caKey.pem
    pki --self --ca --lifetime 3652 --in caKey.pem --dn "C=CH, O=strongSwan, CN=Root CA" > caCert.der
    pki --pub --in moonKey.pem | pki --issue --cacert caCert.der --cakey caKey.pem \\
        --dn "C=CH, O=strongSwan, CN=moon.strongswan.org" --san moon.strongswan.org --outform pem

Modelled: `--gen` (`--type rsa|ecdsa|ed25519`, `--size`), `--pub`, `--self` and `--issue`
(`--in` or standard input, `--dn`, `--san`, `--lifetime` days, `--ca`, `--serial`), `--outform
der|pem` (DER by default, as pki). Keys come from the simulation's seeded RNG, so a scenario
makes the same keys and certificates on every run; validity starts at the simulator's
CLOCK_REALTIME. Other operations and options are refused in netplex's words.
"""
from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from netplex.ike.x509 import (
    CredError,
    PrivateKey,
    generate_key,
    load_cert,
    load_key,
    load_public,
    make_certificate,
    parse_dn,
)
from netplex.shell.registry import Context, command
from netplex.shell.result import Result, unsupported
from netplex.stack.netns import Namespace

__all__ = ["pki"]

OPS = {"--gen": "gen", "-g": "gen", "--self": "self", "-s": "self", "--issue": "issue", "-i": "issue",
       "--pub": "pub", "-p": "pub"}
OTHER_OPS = {"--acert", "-z", "--dn", "-d", "--est", "-E", "--estca", "-e", "--keyid", "-k", "--pkcs12", "-u",
             "--pkcs7", "-7", "--print", "-a", "--req", "-r", "--scep", "-S", "--scepca", "-C", "--signcrl", "-c",
             "--verify", "-v"}
# the options each operation takes, and whether they take a value
OPTS = {"gen": {"--type": True, "-t": True, "--size": True, "-s": True, "--outform": True, "-f": True},
        "pub": {"--in": True, "-i": True, "--type": True, "-t": True, "--outform": True, "-f": True},
        "self": {"--in": True, "-i": True, "--type": True, "-t": True, "--dn": True, "-d": True, "--san": True,
                 "-a": True, "--lifetime": True, "-l": True, "--serial": True, "-s": True, "--ca": False,
                 "-b": False, "--outform": True, "-f": True},
        "issue": {"--in": True, "-i": True, "--type": True, "-t": True, "--cacert": True, "-c": True,
                  "--cakey": True, "-k": True, "--dn": True, "-d": True, "--san": True, "-a": True,
                  "--lifetime": True, "-l": True, "--serial": True, "-s": True, "--ca": False, "-b": False,
                  "--outform": True, "-f": True}}
LONG = {"-t": "--type", "-s": "--size", "-f": "--outform", "-i": "--in", "-d": "--dn", "-a": "--san",
        "-l": "--lifetime", "-b": "--ca", "-c": "--cacert", "-k": "--cakey"}
USAGE = {
    "gen": "pki --gen [--type rsa|ecdsa|ed25519|ed448|bliss] [--size bits] [--safe-primes]",
    "pub": "pki --pub [--in file|--keyid hex] [--type rsa|ecdsa|bliss|priv|pub|pkcs10|x509]",
    "self": "pki --self [--in file|--keyid hex] [--type rsa|ecdsa|ed25519|ed448|bliss|priv]",
    "issue": "pki --issue [--in file] [--type pub|pkcs10|priv|rsa|ecdsa|ed25519|ed448|bliss]",
}


def _usage(op: str, error: str) -> Result:
    return Result(1, "", f"Error: {error}\nstrongSwan 5.9.8 PKI tool\nusage:\n  {USAGE[op]}\n")


def _out(data: bytes) -> str:
    # the shell's pipes and files carry text; DER travels as surrogate-escaped bytes and lands unchanged
    return data.decode("utf-8", "surrogateescape")


def _read(ctx: Context, path: str | None) -> bytes | None:
    if path is None:
        return ctx.stdin.encode("utf-8", "surrogateescape")
    return ctx.fs.read(ctx.fs.norm(path, ctx.cwd))


@command("pki")
def pki(ctx: Context, argv: list[str]) -> Result:
    if len(argv) < 2 or argv[1] in ("--help", "-h"):
        return Result(1, "", "strongSwan 5.9.8 PKI tool\nusage:\n" + "".join(f"  {u}\n" for u in USAGE.values()))
    if argv[1] in OTHER_OPS:
        return unsupported(f"pki {argv[1]}")
    op = OPS.get(argv[1])
    if op is None:
        return Result(1, "", f"pki: unrecognized option '{argv[1]}'\nError: invalid operation\n")
    opts: dict[str, list[str]] = {}
    i = 2
    while i < len(argv):
        a = argv[i]
        takes = OPTS[op].get(a)
        if takes is None:
            if a.startswith("-"):
                return unsupported(f"pki --{op} {a}")
            return _usage(op, f"invalid --{op} option")
        key = LONG.get(a, a) if not (op in ("self", "issue") and a == "-s") else "--serial"
        if takes:
            if i + 1 >= len(argv):
                return Result(1, "", f"pki: option '{a}' requires an argument\n")
            opts.setdefault(key, []).append(argv[i + 1])
            i += 2
        else:
            opts[key] = [""]
            i += 1
    outform = opts.get("--outform", ["der"])[-1]
    if outform not in ("der", "pem"):
        return _usage(op, "invalid output format")
    pem = outform == "pem"
    ns = ctx.node
    if not isinstance(ns, Namespace):
        return Result(1, "", "netplex: pki: this shell runs on no machine\n")
    randbits = ns.world.rng.getrandbits
    if op == "gen":
        return _gen(opts, pem, randbits)
    if op == "pub":
        data = _read(ctx, opts.get("--in", [None])[-1])
        try:
            pub = load_public(data or b"")
        except CredError:
            return Result(1, "", "parsing private key failed\n")
        enc = serialization.Encoding.PEM if pem else serialization.Encoding.DER
        return Result(0, _out(pub.public_bytes(enc, serialization.PublicFormat.SubjectPublicKeyInfo)))
    return _certify(ctx, op, opts, pem, ns)


def _gen(opts: dict[str, list[str]], pem: bool, randbits: object) -> Result:
    kind = opts.get("--type", ["rsa"])[-1]
    if kind not in ("rsa", "ecdsa", "ed25519"):
        if kind in ("ed448", "bliss"):
            return unsupported(f"pki --gen --type {kind}")
        return _usage("gen", "invalid key type")
    size_text = opts.get("--size", [""])[-1]
    size = int(size_text) if size_text.isdigit() else {"rsa": 2048, "ecdsa": 384, "ed25519": 256}[kind]
    if kind == "ecdsa" and size not in (256, 384, 521):
        return Result(1, "", "generating private key failed\n")
    if kind == "rsa" and not 1024 <= size <= 8192:
        return Result(1, "", "generating private key failed\n")
    assert callable(randbits)
    key = generate_key(kind, size, randbits)
    if pem:
        fmt = {"rsa": serialization.PrivateFormat.TraditionalOpenSSL,
               "ecdsa": serialization.PrivateFormat.TraditionalOpenSSL}.get(kind, serialization.PrivateFormat.PKCS8)
        data = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    else:
        fmt = serialization.PrivateFormat.PKCS8 if kind == "ed25519" else serialization.PrivateFormat.TraditionalOpenSSL
        data = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
    return Result(0, _out(data))


def _certify(ctx: Context, op: str, opts: dict[str, list[str]], pem: bool, ns: Namespace) -> Result:
    dn = opts.get("--dn", [None])[-1]
    if op == "issue" and "--cacert" not in opts:
        return _usage(op, "--cacert is required")
    if op == "issue" and "--cakey" not in opts:
        return _usage(op, "--cakey is required")
    if dn is None:
        return _usage(op, "--dn is required")
    try:
        parse_dn(dn)
    except CredError:
        return _usage(op, "supplied --dn is not a distinguished name")
    life = opts.get("--lifetime", ["1095"])[-1]
    if not life.isdigit():
        return _usage(op, "invalid --lifetime value")
    data = _read(ctx, opts.get("--in", [None])[-1]) or b""
    issuer: x509.Certificate | None = None
    signer: PrivateKey
    if op == "self":
        try:
            signer = load_key(data)
        except CredError:
            return Result(1, "", "loading private key failed\n")
        public = signer.public_key()
    else:
        try:
            public = load_public(data)
        except CredError:
            return Result(1, "", "parsing public key failed\n")
        cacert = ctx.fs.read(ctx.fs.norm(opts["--cacert"][-1], ctx.cwd))
        cakey = ctx.fs.read(ctx.fs.norm(opts["--cakey"][-1], ctx.cwd))
        try:
            issuer = load_cert(cacert or b"")
        except CredError:
            return Result(1, "", "parsing CA certificate failed\n")
        try:
            signer = load_key(cakey or b"")
        except CredError:
            return Result(1, "", "parsing CA private key failed\n")
        if signer.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo) != \
                issuer.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo):
            return Result(1, "", "CA private key does not match CA certificate\n")
    serial_hex = opts.get("--serial", [""])[-1]
    try:
        serial = int(serial_hex, 16) if serial_hex else ns.world.rng.getrandbits(63) | 1
    except ValueError:
        return _usage(op, "invalid --serial value")
    now = datetime.datetime.fromtimestamp(ns.world.realtime_ns() // 1_000_000_000, datetime.UTC)
    cert = make_certificate(dn, public, signer, issuer, serial, now, int(life), "--ca" in opts,
                            opts.get("--san", []))
    enc = serialization.Encoding.PEM if pem else serialization.Encoding.DER
    return Result(0, _out(cert.public_bytes(enc)))
