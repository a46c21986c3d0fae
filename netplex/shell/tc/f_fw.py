"""The fw classifier's options (iproute2 tc/f_fw.c, tc-fw(8))."""
from __future__ import annotations

from typing import Any

from netplex.shell.tc.m_action import action_text, bind_actions, check_actions_len
from netplex.shell.tc.tc_util import (
    FilterUtil,
    FSpec,
    Opts,
    TcExit,
    classid_arg,
    filter_handle,
    get_u32,
    matches,
    sprint_classid,
)
from netplex.stack.qdisc.cls import FwOpts


def parse_fw(ns: Any, dev: Any, f: FSpec, tp: Any) -> FwOpts:
    handle = mask = None
    if f.handle is not None:
        hs, _, ms = f.handle.partition("/")
        handle = get_u32(hs, 0)
        if handle is None:
            raise TcExit(1, 'Illegal "handle"\n')
        if ms:
            mask = get_u32(ms, 0)
            if mask is None:
                raise TcExit(1, 'Illegal "handle" mask\n')
    classid = None
    indev = ""
    i = 0
    opts = f.opts
    acts_state: list[str] | None = None
    while i < len(opts):
        a = opts[i]
        if matches(a, "classid") or a == "flowid":
            if i + 1 >= len(opts):
                raise TcExit(255, 'Command line is not complete. Try option "help"\n')
            classid = classid_arg(opts[i + 1])
            i += 2
        elif a in ("action", "actions", "police"):
            rest = opts[i:] if a != "police" else ["action"] + opts[i:]
            j = check_actions_len(ns, rest)
            acts_state = rest[:j]
            i += j - (1 if a == "police" else 0)
        elif a == "indev":
            indev = opts[i + 1] if i + 1 < len(opts) else ""
            i += 2
        elif a == "help":
            raise TcExit(255, "Usage: ... fw [ classid CLASSID ] [ indev DEV ] [ action ACTION_SPEC ]\n")
        else:
            raise TcExit(1, f'What is "{a}"?\nUsage: ... fw [ classid CLASSID ] [ indev DEV ] [ action ACTION_SPEC ]\n')
    if not opts and handle:
        # fw_change without options: only a handle-less "fw" may stand alone
        raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")
    if handle is None:
        raise TcExit(2, "RTNETLINK answers: Invalid argument\nWe have an error talking to the kernel\n")

    return FwOpts(handle, mask, classid, indev, lambda: bind_actions(ns, acts_state))


def print_fw(el: Any, o: Opts) -> str:
    s = ""
    if el.handle or el.has_mask:
        if el.has_mask and el.mask != 0xFFFFFFFF:
            s += f"handle 0x{el.handle:x}/0x{el.mask:x} "
        else:
            s += f"handle 0x{el.handle:x} "
    if el.classid is not None:
        s += f"classid {sprint_classid(el.classid)} "
    if el.indev:
        s += f"input dev {el.indev} "
    if el.actions:
        s += "\n" + "".join(action_text(a, n + 1, o, True) for n, a in enumerate(el.actions))
    else:
        s += "\n"
    return s


FW = FilterUtil("fw", parse_fw, print_fw, filter_handle)
