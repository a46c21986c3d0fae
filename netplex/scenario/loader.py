"""Read a scenario file: YAML -> validated `Scenario`, or one `ScenarioError`.

Every problem becomes one line, `FILE:LINE: FIELD: message`. The YAML is
composed into a node tree first (its marks hold the line numbers), then
constructed and validated by the pydantic models; an error's `loc` is walked
through the node tree to find its line. Among several errors the one
earliest in the file is reported.
"""
from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode

from netplex.errors import ScenarioError
from netplex.machine.fs import FileSystem
from netplex.network import DEFAULT_NODE_KIND, NODE_KINDS
from netplex.scenario.model import Loc, Node, Scenario
from netplex.scenario.params import SEED, expand_params

__all__ = ["load_scenario", "load_scenario_text", "format_loc", "read_file_text"]


def load_scenario(path: str | Path, params: dict[str, str] | None = None,
                  prepare: Callable[[Scenario], None] | None = None) -> Scenario:
    """Load and validate a scenario file, its `${name}` parameters given `params` values
    over the file's defaults (scenario/params.py); raises ScenarioError. `prepare` sees the
    scenario before the whole-file checks (`--cloud-state` resumes its cloud there, so the
    probes may name the resumed servers)."""
    return load_scenario_text(read_file_text(path), str(path), params, prepare)


def read_file_text(path: str | Path) -> str:
    """A file's UTF-8 text, or the ScenarioError (field `file`) saying why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(str(path), 0, "file", e.strerror or str(e)) from None
    except UnicodeDecodeError as e:
        raise ScenarioError(str(path), 0, "file", f"not UTF-8 text ({e.reason})") from None


def load_scenario_text(text: str, file: str = "<scenario>", params: dict[str, str] | None = None,
                       prepare: Callable[[Scenario], None] | None = None) -> Scenario:
    """Validate scenario YAML given as text; `file` names it in errors and
    gives the default scenario name (its stem). `params`, `prepare` as for `load_scenario`."""
    text, values = expand_params(text, file, params)
    root, data = _parse_yaml(text, file)
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else 1
        raise ScenarioError(file, line, "scenario", "expected a mapping with nodes, links and probes")
    _check_duplicate_keys(root, file, ())
    if "name" not in data:
        data["name"] = Path(file).stem
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        raise _first_error(e, root, file) from None
    if prepare is not None:
        prepare(scenario)
    issues = scenario.reference_issues()
    if issues:
        loc, message = issues[0]
        raise ScenarioError(file, _locate(root, loc)[0], format_loc(loc), message)
    if SEED in values and SEED not in scenario.params:
        try:
            scenario.seed = int(values[SEED])
        except ValueError:
            raise ScenarioError(file, 0, "--param",
                               f"--param {SEED}: must be a whole number, not {_show(values[SEED])}") from None
    _attach_lines(scenario, root, file)
    _read_files(scenario, root, file)
    return scenario


# --- YAML -------------------------------------------------------------------------


def _parse_yaml(text: str, file: str) -> tuple[YamlNode | None, Any]:
    try:
        _check_flow_depth(text, file)
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as e:   # a character YAML does not allow (ReaderError)
        raise ScenarioError(file, 1, "yaml", str(e).splitlines()[0]) from None
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_expansion(root, file)
        data = loader.construct_document(root) if root is not None else None
    except RecursionError:
        raise ScenarioError(file, 1, "yaml", "nested too deeply") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = e.problem or e.context or "invalid YAML"
        raise ScenarioError(file, line, "yaml", problem) from None
    except yaml.YAMLError as e:
        raise ScenarioError(file, 1, "yaml", str(e)) from None
    finally:
        loader.dispose()
    return root, data


MAX_YAML_DEPTH = 100   # `[[[[...` or `{a: {a: ...`: PyYAML's parser slows down per level, then recurses too deep


def _check_flow_depth(text: str, file: str) -> None:
    """Refuse flow collections nested deeper than MAX_YAML_DEPTH (quotes and comments skipped)."""
    depth = 0
    line = 1
    quote = ""
    comment = False
    prev = "\n"
    for c in text:
        if c == "\n":
            line += 1
            comment = False
        elif comment:
            pass
        elif quote:
            if c == quote:
                quote = ""
        elif c in "'\"" and prev in " \t\n[{,:":
            quote = c
        elif c == "#" and prev in " \t\n":
            comment = True
        elif c in "[{":
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise ScenarioError(file, line, "yaml", f"nested more than {MAX_YAML_DEPTH} levels deep")
        elif c in "]}":
            depth = max(0, depth - 1)
        prev = c


MAX_YAML_NODES = 100_000   # values once aliases are expanded: "billion laughs" stops here


def _check_expansion(root: YamlNode, file: str) -> None:
    """Refuse an alias that contains itself and a document whose aliases expand past MAX_YAML_NODES.

    PyYAML builds both (a cycle of references; a few lines that stand for billions
    of values), and everything that walks the tree afterwards would never end.
    """
    on_path: set[int] = set()
    stack: list[tuple[YamlNode, bool]] = [(root, True)]
    seen = 0
    while stack:
        node, enter = stack.pop()
        if not enter:
            on_path.discard(id(node))
            continue
        if id(node) in on_path:
            raise ScenarioError(file, node.start_mark.line + 1, "yaml", "an alias refers to a value that contains it")
        seen += 1
        if seen > MAX_YAML_NODES:
            raise ScenarioError(file, node.start_mark.line + 1, "yaml",
                                f"more than {MAX_YAML_NODES} values once aliases are expanded "
                                "(aliases nested in aliases?)")
        if isinstance(node, (MappingNode, SequenceNode)):
            on_path.add(id(node))
            stack.append((node, False))
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    stack.append((k, True))
                    stack.append((v, True))
            else:
                stack.extend((item, True) for item in node.value)


def _key_text(key: YamlNode) -> str:
    return str(key.value) if isinstance(key, ScalarNode) else "?"


def _check_duplicate_keys(node: YamlNode, file: str, loc: Loc) -> None:
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            name = _key_text(k)
            here = (*loc, name)
            if name in seen:
                raise ScenarioError(file, k.start_mark.line + 1, format_loc(here), "duplicate key")
            seen.add(name)
            _check_duplicate_keys(v, file, here)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(item, file, (*loc, i))


def _locate(root: YamlNode, loc: Loc) -> tuple[int, int]:
    """(line of the value at `loc`, line of its key) — as deep as the tree goes."""
    node = root
    value_line = key_line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, MappingNode):
            for k, v in node.value:
                if _key_text(k) == str(part):
                    node, key_line, value_line = v, k.start_mark.line + 1, v.start_mark.line + 1
                    break
            else:
                return value_line, value_line
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            key_line = value_line = node.start_mark.line + 1
        else:
            break
    return value_line, key_line


def format_loc(loc: Loc) -> str:
    """("links", 1, "ends", 0) -> "links[1].ends[0]"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "scenario"


# --- pydantic errors -> one message -------------------------------------------------


def _first_error(exc: ValidationError, root: YamlNode, file: str) -> ScenarioError:
    found: list[tuple[tuple[int, int, int], ScenarioError]] = []
    for order, err in enumerate(exc.errors()):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and (p == "[key]" or "[" in p)))
        kind = err["type"]
        value_line, key_line = _locate(root, loc)
        line = key_line if kind == "extra_forbidden" or "[key]" in err["loc"] else value_line
        # On one line, an unknown key is likelier the cause than a missing one (a typo).
        rank = (line, 0 if kind == "extra_forbidden" else 1, order)
        found.append((rank, ScenarioError(file, line, format_loc(loc), _message(err, loc, root))))
    found.sort(key=lambda t: t[0])
    return found[0][1]


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)


def _message(err: Any, loc: Loc, root: YamlNode | None = None) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        valid = _valid_keys(loc[:-1], root)
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
        return "unknown field" + (f'; did you mean "{close[0]}"?' if close else "")
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":   # one line, even where the value quoted in it spans several
        return msg.removeprefix("Value error, ").replace("\n", "\\n")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping (key: value), not {_show(err.get('input'))}"
    if kind == "list_type":
        return f"must be a list, not {_show(err.get('input'))}"
    if kind == "string_type":
        return f"must be text, not {_show(err.get('input'))}"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", "")).replace("'", '"')
        return f"must be {expected}, not {_show(err.get('input'))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number, not {_show(err.get('input'))}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number, not {_show(err.get('input'))}"
    if kind == "too_short":
        n = err.get("ctx", {}).get("min_length", 1)
        return f"must have at least {n} entr{'y' if n == 1 else 'ies'}"
    text = msg.replace("Input should be", "must be", 1)
    return f"{text}, not {_show(err.get('input'))}"


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional down to the model / list / dict inside."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _valid_keys(loc: Loc, root: YamlNode | None = None) -> list[str]:
    """The keys the model at `loc` accepts (aliases as written in files); inside a node, its
    kind's own keys too (`imsi` on a ue)."""
    if root is not None and len(loc) >= 2 and loc[0] == "nodes":
        kind = _node_at(root, (*loc[:2], "kind"))
        name = str(kind.value) if isinstance(kind, ScalarNode) else DEFAULT_NODE_KIND
        params = NODE_KINDS[name].params_model if name in NODE_KINDS else None
        if params is not None and len(loc) > 2 and loc[2] not in Node.model_fields:
            return _walk(params, loc[2:])
        if params is not None and len(loc) == 2:
            return _walk(Node, ()) + _walk(params, ())
    return _walk(Scenario, loc)


def _walk(tp: Any, loc: Loc) -> list[str]:
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            tp = field.annotation if not field.metadata else typing.Annotated[(field.annotation, *field.metadata)]
        elif origin is list:
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


# --- line numbers the runner needs ---------------------------------------------------


def _attach_lines(scenario: Scenario, root: MappingNode, file: str) -> None:
    scenario._file = file
    for name, node in scenario.nodes.items():
        value_line, _ = _locate(root, ("nodes", name, "setup"))
        setup_node = _node_at(root, ("nodes", name, "setup"))
        if isinstance(setup_node, ScalarNode):
            if setup_node.style == ">":
                raise ScenarioError(file, value_line, f"nodes.{name}.setup",
                                    "use a literal block (`setup: |`) so each command stays on its own line")
            # A block scalar's text starts on the line after its `|` indicator.
            node._setup_first_line = value_line + 1 if setup_node.style == "|" else value_line
    if scenario.cloud is not None:
        value_line, _ = _locate(root, ("cloud", "commands"))
        commands = _node_at(root, ("cloud", "commands"))
        if isinstance(commands, ScalarNode):
            scenario.cloud._first_line = value_line + 1 if commands.style == "|" else value_line
    for i, probe in enumerate(scenario.probes):
        probe._file_line = _locate(root, ("probes", i))[0]
    for i, event in enumerate(scenario.events):
        event._file_line = _locate(root, ("events", i))[0]


def _read_files(scenario: Scenario, root: MappingNode, file: str) -> None:
    """Each node's `files:` as bytes: a one-word value naming a file beside the scenario is
    read from there (inside the scenario's folder only); block text and anything else is the content.

    A one-word value with a `/` that names no file there is an error, as it is
    almost certainly a path that was mistyped.
    """
    base = Path(file).resolve().parent
    for name, node in scenario.nodes.items():
        mapping = _node_at(root, ("nodes", name, "files"))
        if not isinstance(mapping, MappingNode):
            continue
        data: dict[str, bytes] = {}
        for key, value in mapping.value:
            path = FileSystem.norm(_key_text(key))
            text = node.files[path]
            field = f"nodes.{name}.files.{_key_text(key)}"
            line = value.start_mark.line + 1
            word = isinstance(value, ScalarNode) and value.style not in ("|", ">") and text.strip() == text \
                and text != "" and not any(c.isspace() for c in text) and not text.startswith("/")
            if not word:
                data[path] = text.encode()
                continue
            source = (base / text).resolve()
            if not source.is_relative_to(base):
                raise ScenarioError(file, line, field, f'"{text}" is outside the scenario\'s folder ({base})')
            if source.is_file():
                try:
                    data[path] = source.read_bytes()
                except OSError as e:
                    raise ScenarioError(file, line, field, f'cannot read "{text}": {e.strerror}') from None
            elif "/" in text:
                raise ScenarioError(file, line, field,
                                    f'no file "{text}" beside the scenario (in {base}); '
                                    "to give the content itself, write it as a block (`|`)")
            else:
                data[path] = text.encode()
        node._file_data = data


def _node_at(root: YamlNode, loc: Loc) -> YamlNode | None:
    node: YamlNode | None = root
    for part in loc:
        if isinstance(node, MappingNode):
            node = next((v for k, v in node.value if _key_text(k) == str(part)), None)
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        else:
            return None
    return node
