"""The u32 classifier's options (iproute2 tc/f_u32.c, tc-u32(8)): selectors, hash tables, links."""
from __future__ import annotations

from typing import Any

from netplex.shell.ip_json import JsonPairs
from netplex.shell.tc.m_action import action_text, bind_actions, check_actions_len
from netplex.shell.tc.tc_util import FilterUtil, FSpec, Opts, TcExit, get_tc_classid, get_u32, matches, sprint_classid
from netplex.stack.qdisc.cls import U32Ht, U32Key, U32Opts


def get_u32_handle(s: str) -> int | None:
    """get_u32_handle: `800:` `800::801` `800:1:801` -> htid|hash|node."""
    if s.count(":") == 0:
        v = get_u32(s, 16)
        return v
    parts = s.split(":")
    if len(parts) > 3:
        return None
    try:
        htid = int(parts[0], 16) if parts[0] else 0
        hashv = int(parts[1], 16) if len(parts) > 1 and parts[1] else 0
        node = int(parts[2], 16) if len(parts) > 2 and parts[2] else 0
    except ValueError:
        return None
    if htid >= 0x1000 or hashv >= 0x100 or node >= 0x1000:
        return None
    return (htid << 20) | (hashv << 12) | node

_U32_IP = {"src": (12, 32), "dst": (16, 32), "tos": (1, 8), "dsfield": (1, 8), "precedence": (1, 8),
           "protocol": (9, 8), "ihl": (0, 8), "sport": (20, 16), "dport": (22, 16), "icmp_type": (20, 8),
           "icmp_code": (21, 8), "nofrag": (6, 16), "firstfrag": (6, 16), "df": (6, 16), "mf": (6, 16)}


def _pack_key(keys: list[U32Key], off: int, size: int, val: int, mask: int, offmask: int = 0) -> None:
    """pack_key8/16/32: place an 8/16/32-bit value into the 32-bit word at off & ~3."""
    word_off = off & ~3
    shift = (4 - (off & 3) - size // 8) * 8
    v = (val & ((1 << size) - 1)) << shift
    m = (mask & ((1 << size) - 1)) << shift
    for k in keys:
        if k.off == word_off and k.offmask == offmask:
            if (k.val ^ v) & k.mask & m:
                raise TcExit(1, "Illegal \"match\"\n")
            k.val |= v
            k.mask |= m
            return
    keys.append(U32Key(v, m, word_off, offmask))


def _num(s: str) -> int | None:
    try:
        return int(s, 0)
    except ValueError:
        return None


def _hex(s: str) -> int | None:
    """get_u32(.., 16): masks are hexadecimal, with or without 0x."""
    try:
        v = int(s, 16)
    except ValueError:
        return None
    return v if 0 <= v < 1 << 32 else None


def parse_selector(opts: list[str], i: int, keys: list[U32Key]) -> int:
    if i >= len(opts):
        raise TcExit(1, 'Illegal "match"\n')
    kind = opts[i]
    i += 1
    if kind in ("u32", "u16", "u8"):
        size = int(kind[1:])
        if i + 1 >= len(opts):
            raise TcExit(1, 'Illegal "match"\n')
        v, m = _num(opts[i]), _hex(opts[i + 1])
        if v is None or m is None:
            raise TcExit(1, 'Illegal "match"\n')
        i += 2
        off = 0
        offmask = 0
        if i < len(opts) and opts[i] == "at":
            w = opts[i + 1] if i + 1 < len(opts) else ""
            if w.startswith("nexthdr+"):
                w = w[len("nexthdr+"):]
                offmask = -1
            o = _num(w)
            if o is None:
                raise TcExit(1, 'Illegal "match"\n')
            off = o
            i += 2
        if size != 8 and off % (size // 8):
            raise TcExit(1, 'Illegal "match"\n')
        _pack_key(keys, off, size, v, m, offmask)
        return i
    if kind == "ip":
        field = opts[i] if i < len(opts) else ""
        i += 1
        if field in ("src", "dst"):
            addr = opts[i] if i < len(opts) else ""
            i += 1
            a, _, plen = addr.partition("/")
            try:
                parts = [int(x) for x in a.split(".")]
                if len(parts) != 4 or any(p > 255 for p in parts):
                    raise ValueError
                pl = int(plen) if plen else 32
                if not 0 <= pl <= 32:
                    raise ValueError
            except ValueError:
                raise TcExit(1, 'Illegal "match"\n') from None
            val = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
            mask = (0xFFFFFFFF << (32 - pl)) & 0xFFFFFFFF if pl else 0
            keys.append(U32Key(val, mask, 12 if field == "src" else 16))
            return i
        if field in _U32_IP:
            off, size = _U32_IP[field]
            if field in ("nofrag", "firstfrag", "df", "mf"):
                val, mask = {"nofrag": (0, 0x3FFF), "firstfrag": (0x2000, 0x3FFF), "df": (0x4000, 0x4000),
                             "mf": (0x2000, 0x2000)}[field]
                _pack_key(keys, off, 16, val, mask)
                return i
            if i + 1 >= len(opts):
                raise TcExit(1, 'Illegal "match"\n')
            v, m = _num(opts[i]), _hex(opts[i + 1])
            if v is None or m is None:
                raise TcExit(1, 'Illegal "match"\n')
            _pack_key(keys, off, size, v, m)
            return i + 2
        raise TcExit(1, 'Illegal "match"\n')
    if kind in ("tcp", "udp"):
        field = opts[i] if i < len(opts) else ""
        if field not in ("src", "dst") or i + 2 >= len(opts):
            raise TcExit(1, 'Illegal "match"\n')
        v, m = _num(opts[i + 1]), _hex(opts[i + 2])
        if v is None or m is None:
            raise TcExit(1, 'Illegal "match"\n')
        _pack_key(keys, 0 if field == "src" else 2, 16, v, m, -1)
        return i + 3
    if kind == "icmp":
        field = opts[i] if i < len(opts) else ""
        v, m = _num(opts[i + 1]) if i + 1 < len(opts) else None, _hex(opts[i + 2]) if i + 2 < len(opts) else None
        if field not in ("type", "code") or v is None or m is None:
            raise TcExit(1, 'Illegal "match"\n')
        _pack_key(keys, 0 if field == "type" else 1, 8, v, m, -1)
        return i + 3
    raise TcExit(1, 'Illegal "match"\n')


def parse_u32(ns: Any, dev: Any, f: FSpec, tp: Any) -> U32Opts:
    handle = None
    if f.handle is not None:
        handle = get_u32_handle(f.handle)
        if handle is None:
            raise TcExit(1, "Illegal filter ID\n")
    keys: list[U32Key] = []
    classid = None
    terminal = False
    divisor = None
    link = None
    ht: int | None = None
    htid = 0
    sample = False
    hmask = hoff = 0
    indev = ""
    opts = f.opts
    acts_rest = None
    i = 0
    while i < len(opts):
        a = opts[i]
        if matches(a, "match"):
            i = parse_selector(opts, i + 1, keys)
            continue
        if matches(a, "classid") or a == "flowid":
            if i + 1 >= len(opts) or get_tc_classid(opts[i + 1]) is None:
                raise TcExit(1, 'Illegal "classid"\n')
            classid = get_tc_classid(opts[i + 1])
            terminal = True
            i += 2
        elif matches(a, "divisor"):
            d = get_u32(opts[i + 1], 0) if i + 1 < len(opts) else None
            if d is None or d == 0 or d > 0x100 or (d - 1) & d:
                raise TcExit(1, 'Illegal "divisor"\n')
            divisor = d
            i += 2
        elif matches(a, "order"):
            i += 2
        elif a == "link":
            lk = get_u32_handle(opts[i + 1]) if i + 1 < len(opts) else None
            if lk is None:
                raise TcExit(1, 'Illegal "link"\n')
            if lk & 0xFFF:
                raise TcExit(1, '"link" must be a hash table.\n')
            link = lk
            i += 2
        elif a == "ht":
            h = get_u32_handle(opts[i + 1]) if i + 1 < len(opts) else None
            if h is None:
                raise TcExit(1, 'Illegal "ht"\n')
            if handle is not None and h & 0xFFF:
                raise TcExit(1, '"ht" must be a hash table.\n')
            htid = (htid & 0xFF000) | (h & 0xFFF00000) if sample else (h & 0xFFFFF000)
            ht = htid
            i += 2
        elif a == "sample":
            sk: list[U32Key] = []
            i = parse_selector(opts, i + 1, sk)
            if len(sk) != 1:
                raise TcExit(1, '"sample" must contain exactly ONE key.\n')
            d = 0x100
            if i < len(opts) and opts[i] == "divisor":
                d = get_u32(opts[i + 1], 0) or 0
                i += 2
            k = sk[0]
            fshift = ((k.mask & -k.mask).bit_length() - 1) if k.mask else 0
            hval = (k.val & k.mask) >> fshift
            htid = ((hval % d) << 12) | (htid & 0xFFF00000)
            ht = htid
            sample = True
        elif a == "hashkey":
            # hashkey mask M at OFF
            if i + 4 < len(opts) + 1 and opts[i + 1] == "mask":
                hm = _num(opts[i + 2]) if i + 2 < len(opts) else None
                if hm is None or i + 4 >= len(opts) + 0 and (i + 4 > len(opts)):
                    raise TcExit(1, 'Illegal "hashkey"\n')
                hmask = hm
                if i + 3 < len(opts) and opts[i + 3] == "at":
                    hoff = _num(opts[i + 4]) or 0
                    i += 5
                else:
                    i += 3
            else:
                raise TcExit(1, 'Illegal "hashkey"\n')
        elif a == "indev":
            if i + 1 >= len(opts):
                raise TcExit(1, "Illegal indev\n")
            indev = opts[i + 1]
            i += 2
        elif a in ("action", "actions", "police"):
            rest = opts[i:]
            police = rest[0] == "police"
            if police:
                rest = ["action"] + rest
            j = check_actions_len(ns, rest)
            acts_rest = rest[:j]
            i += j - (1 if police else 0)
            if i < len(opts) and (matches(opts[i], "classid") or opts[i] == "flowid"):
                continue
            if i < len(opts):
                raise TcExit(1, f'What is "{opts[i]}"?\n')
            break
        elif a == "skip_hw" or a == "skip_sw":
            i += 1
        elif a == "help":
            raise TcExit(1, "Usage: ... u32 [ match SELECTOR ... ] [ link HTID ] [ classid CLASSID ]\n")
        else:
            raise TcExit(1, f'What is "{a}"?\nUsage: ... u32 [ match SELECTOR ... ] [ link HTID ] [ classid CLASSID ]\n'
                         "               [ action ACTION_SPEC ] [ offset OFFSET_SPEC ]\n"
                         "               [ ht HTID ] [ hashkey HASHKEY_SPEC ]\n"
                         "               [ sample SAMPLE ] [skip_hw | skip_sw]\n"
                         "or         u32 divisor DIVISOR\n\n"
                         "Where: SELECTOR := SAMPLE SAMPLE ...\n"
                         "       SAMPLE := { ip | ip6 | udp | tcp | icmp | u{32|16|8} | mark }\n"
                         "                 SAMPLE_ARGS [ divisor DIVISOR ]\n"
                         "       FILTERID := X:Y:Z\n\n"
                         "NOTE: CLASSID is parsed at hexadecimal input.\n")
    if indev and indev not in ns.devices:
        raise TcExit(2, "Error: Specified device name not found.\n")

    return U32Opts(handle=handle, divisor=divisor, ht=ht, link=link, keys=keys, classid=classid,
                   terminal=terminal, hmask=hmask, hoff=hoff, indev=indev,
                   actions=lambda: bind_actions(ns, acts_rest))


def _u32_opts(el: Any, o: Opts) -> str:
    if isinstance(el, U32Ht):
        return f"fh {_u32_handle_str(el.handle)} ht divisor {el.divisor} \n"
    h = el.handle
    s = f"fh {_u32_handle_str(h)} order {h & 0xFFF} "
    s += f"key ht {(h >> 20):x} bkt {(h >> 12) & 0xFF:x} "
    if el.classid is not None:
        s += ("*" if el.terminal else "") + f"flowid {sprint_classid(el.classid)} "
    elif el.terminal:
        s += "terminal flowid "
    if el.link:
        s += f"link {_u32_handle_str(el.link)} "
    s += "not_in_hw "
    if o.stats:
        s += f"(rule hit {el.hits} success {el.hits})"
    for k in el.keys:
        s += f"\n  match {k.val:08x}/{k.mask:08x} at {'nexthdr+' if k.offmask else ''}{k.off}"
    if el.hmask:
        s += f"\n    hash mask {el.hmask:08x} at {el.hoff} "
    if el.indev:
        s += f"\n  input dev {el.indev}\n"
    s += "".join(action_text(a, n + 1, o, True) for n, a in enumerate(el.actions))
    return s + "\n"


def _u32_handle_str(h: int) -> str:
    htid, hashv, node = h >> 20, (h >> 12) & 0xFF, h & 0xFFF
    if node:
        return f"{htid:x}:{hashv:x}:{node:x}" if hashv else f"{htid:x}::{node:x}"
    if hashv:
        return f"{htid:x}:{hashv:x}:"
    return f"{htid:x}:"


def u32_handle(s: str) -> int:
    h = get_u32_handle(s)
    if h is None:
        raise TcExit(1, "Illegal filter ID\n")
    return h


def _u32_json(el: Any, o: Opts) -> JsonPairs:
    """u32_print_opt under -j (hex values as strings, print_raw's "match" object per key; the
    key counters of -s and the actions are not modelled in JSON and are refused)."""
    if isinstance(el, U32Ht):
        return JsonPairs([("fh", _u32_handle_str(el.handle)), ("ht_divisor", el.divisor)])
    if o.stats or el.actions:
        raise TcExit(2, "netplex: tc -json filter show of a u32 filter with actions or -s is not supported\n")
    h = el.handle
    d = JsonPairs([("fh", _u32_handle_str(h)), ("order", h & 0xFFF), ("key_ht", f"{h >> 20:x}"),
                   ("bkt", f"{(h >> 12) & 0xFF:x}")])
    if el.classid is not None:
        d.append(("flowid", sprint_classid(el.classid)))
    if el.link:
        d.append(("link", _u32_handle_str(el.link)))
    d.append(("not_in_hw", True))
    for k in el.keys:
        d.append(("match", {"value": f"{k.val:x}", "mask": f"{k.mask:x}",
                            "offmask": "nexthdr+" if k.offmask else "", "off": k.off}))
    if el.hmask:
        d += [("hash_mask", f"{el.hmask:x}"), ("hash_off", el.hoff)]
    if el.indev:
        d.append(("input_dev", el.indev))
    return d


U32 = FilterUtil("u32", parse_u32, _u32_opts, u32_handle, json_fopt=_u32_json)
