"""A scenario's parameters: `params:` declares them with defaults, `${name}` uses them.

    params:                       # name: default (one line of text or a number)
      rate: 1mbit
      loss: 1%
    nodes:
      host:
        setup: |
          tc qdisc add dev eth0 root tbf rate ${rate} latency 50ms burst 1540
    links:
      - {ends: [host:eth0, peer:eth0], loss: ${loss}}

The substitution is on the file's text, before YAML reads it, so a parameter
can stand anywhere a value can (a setup line, a link's rate, a probe's count)
and every line keeps its number: errors name the line as written. Only
declared names are replaced, so a setup script's own shell variables
(`${i}` in a `for` loop) are left for the shell. `netplex run FILE --param
rate=10mbit` and `netplex sweep` give other values (docs/sweep.md).

`seed` is special: when the file does not declare it, `--param seed=N` sets
the scenario's RNG seed, as `netplex run --seed N` does.

Errors (a `ScenarioError` naming file, line and field): a given name the
file does not declare, a declared name the file never uses, a default that
is not one line of text or a number, a value with a line break.
"""
from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, ScalarNode

from netplex.errors import ScenarioError

__all__ = ["PARAM_NAME", "SEED", "declared_params", "expand_params"]

PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SEED = "seed"   # sets the RNG seed where the file does not declare it
_USE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PARAMS_KEY = re.compile(r"^params[ \t]*:", re.MULTILINE)


def declared_params(text: str) -> dict[str, tuple[str, int]]:
    """The file's `params:`: name -> (default as written, its line). Empty when it declares none
    or when the file is not readable YAML (the loader then reports why)."""
    if not _PARAMS_KEY.search(text):
        return {}
    # Read with every use replaced by a plain word: `{rate: ${rate}}` is a YAML error as written.
    neutral = _USE.sub(lambda m: m.group(1), text)
    try:
        root = yaml.compose(neutral, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, MappingNode):
        return {}
    block = next((v for k, v in root.value if isinstance(k, ScalarNode) and k.value == "params"), None)
    if not isinstance(block, MappingNode):
        return {}
    out: dict[str, tuple[str, int]] = {}
    for k, v in block.value:
        line = k.start_mark.line + 1
        if isinstance(k, ScalarNode) and isinstance(v, ScalarNode) and "\n" not in v.value:
            out[str(k.value)] = (str(v.value), line)
    return out


def expand_params(text: str, file: str, given: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The text with every declared `${name}` replaced by its value (`given` over the default),
    and the values used (name -> value; `seed` too when given). Raises ScenarioError."""
    given = dict(given or {})
    declared = declared_params(text)
    for name, value in given.items():
        if "\n" in value or "\r" in value:
            raise ScenarioError(file, 0, "--param", f"--param {name}: a value must be one line")
        if name not in declared and name != SEED:
            known = ", ".join(sorted(declared)) or "none"
            line = min((ln for _, ln in declared.values()), default=1) - 1 if declared else 0
            raise ScenarioError(file, max(line, 0), f"--param {name}",
                                f'the scenario declares no parameter "{name}" (its params: {known})')
    if not declared:
        return text, {SEED: given[SEED]} if SEED in given else {}
    values = {name: given.get(name, default) for name, (default, _) in declared.items()}
    used = {m.group(1) for m in _USE.finditer(text)}
    for name, (default, line) in declared.items():
        if not PARAM_NAME.fullmatch(name):
            continue   # the schema names it (params.NAME)
        if "${" in default:
            raise ScenarioError(file, line, f"params.{name}", "a default cannot use a parameter")
        if name not in used:
            raise ScenarioError(file, line, f"params.{name}", f"declared but never used as ${{{name}}}")
    out = _USE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    if SEED in given and SEED not in declared:
        values[SEED] = given[SEED]
    return out, values
