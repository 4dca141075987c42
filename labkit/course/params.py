"""Notebook parameters: read the ``parameters`` cell, describe it, and validate values *before* a run.

papermill only warns about unknown parameters and never checks types, so a sweep with a typo runs
for minutes with the default. Here each parameter's type comes from its annotation in the
parameters cell (``epochs: int = 3  # help``), choices from help text that starts ``a|b|c:``, a range
from help text that starts ``1..:`` (at least 1), ``0..1:`` (inclusive), ``..6:``, ``>0:`` or ``<1:`` (no ``=``:
papermill drops a line whose help holds one), and a bad name or value
is a ``ParameterError`` raised before any kernel starts — not 20 seconds later inside the notebook.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from papermill.translators import PythonTranslator

from labkit.core.errors import ParameterError

__all__ = ["Param", "ParameterError", "Range", "parse_cli_params", "parse_cli_value", "read_params", "validate"]


INT64 = (-(2**63), 2**63 - 1)  # torch, NumPy and JSON readers elsewhere all take whole numbers in this range
_CHOICES = re.compile(r"^\s*([\w.\-]+(?:\s*\|\s*[\w.\-]+)+)\s*[:;,—-]")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*(?:(?P<op>[<>])\s*(?P<bound>{_NUMBER})|(?P<lo>{_NUMBER})?\s*\.\.\s*(?P<hi>{_NUMBER})?)\s*:")


@dataclass(frozen=True)
class Range:
    """The values a numeric parameter may take, declared in its help text (``1..:``, ``>0:``, ``0..1:``)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def contains(self, v: float) -> bool:
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return False
        return not (self.high is not None and (v > self.high or (self.high_open and v == self.high)))

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return f"{'<' if self.high_open else '<='} {self.high:g}"


def parse_range(help_text: str) -> Range | None:
    """The range a help text declares at its start, or None."""
    m = _RANGE.match(help_text)
    if not m or (m["op"] is None and m["lo"] is None and m["hi"] is None):
        return None
    if m["op"]:
        bound = float(m["bound"])
        return Range(low=bound, low_open=True) if m["op"] == ">" else Range(high=bound, high_open=True)
    return Range(float(m["lo"]) if m["lo"] else None, float(m["hi"]) if m["hi"] else None)


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # the annotation as written, e.g. "int", "Optional[str]", "list[int]"
    default: Any
    help: str = ""
    choices: tuple[str, ...] = field(default=())
    range: Range | None = None

    def describe(self) -> str:
        extra = f" (one of {', '.join(self.choices)})" if self.choices else f" ({self.range})" if self.range else ""
        return f"{self.name}: {self.type} = {self.default!r}{extra}  {self.help}".rstrip()


def parameters_cell(nb: nbformat.NotebookNode, path: Path | str = "notebook") -> nbformat.NotebookNode:
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            if cell is not code[0]:
                raise ParameterError(f"{path}: the cell tagged 'parameters' must be the first code cell")
            return cell
    raise ParameterError(f"{path}: no code cell is tagged 'parameters'")


def read_params(path: Path | str) -> dict[str, Param]:
    """Parameters of a notebook in the order they are declared."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError("no such notebook file", path=path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # not JSON, not a notebook, unreadable bytes: nbformat raises many kinds
        raise ParameterError(f"is not a readable Jupyter notebook ({type(e).__name__}: {str(e).splitlines()[0][:120]})",
                             path=path, fix="open it in Jupyter to check, or restore it with git checkout") from None
    source = parameters_cell(nb, path).source
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ParameterError(f"{path}: the parameters cell is not valid Python ({e})") from e
    # papermill's own inspection (what `papermill --help-notebook` shows) supplies the help texts
    cell = parameters_cell(nb, path)
    helps = {p.name: p.help for p in PythonTranslator.inspect(cell)}
    params: dict[str, Param] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "typing":
            continue  # `from typing import Optional` may open the cell
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name) or node.value is None:
            raise ParameterError(
                f"{path}: parameters cell line {node.lineno}: write every parameter as "
                "`name: type = value  # help` so its type can be checked"
            )
        name = node.target.id
        if name not in helps and "|" in ast.unparse(node.annotation):
            raise ParameterError(
                f"{path}: parameter {name!r} (line {node.lineno}): write Optional[X] / Union[...] instead of "
                "'X | None'; papermill's parameter parser cannot read '|' annotations"
            )
        if name not in helps:
            raise ParameterError(
                f"{path}: papermill cannot read parameter {name!r} (line {node.lineno}); keep it on one line "
                "and leave '=' out of its help comment"
            )
        try:
            default = ast.literal_eval(node.value)
        except ValueError as e:
            raise ParameterError(f"{path}: default of {name!r} must be a literal") from e
        help_text = helps.get(name, "")
        m = _CHOICES.match(help_text)
        choices = tuple(s.strip() for s in m.group(1).split("|")) if m else ()
        p = Param(name, ast.unparse(node.annotation), default, help_text, choices, parse_range(help_text))
        if not type_matches(default, p.type):
            raise ParameterError(f"{path}: default of {name!r} ({default!r}) does not match its type {p.type}")
        if p.range and isinstance(default, int | float) and not isinstance(default, bool) and not p.range.contains(default):
            raise ParameterError(f"{path}: default of {name!r} ({default!r}) is outside its declared range {p.range}")
        params[name] = p
    return params


def type_matches(value: Any, annotation: str) -> bool:
    """Whether ``value`` fits the annotation (int, float, str, bool, None, Optional, ``|``, list, tuple, dict)."""
    return _matches(value, ast.parse(annotation, mode="eval").body)


def _matches(value: Any, node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return value is None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _matches(value, node.left) or _matches(value, node.right)
    if isinstance(node, ast.Name):
        simple = {
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "str": lambda v: isinstance(v, str),
            "bool": lambda v: isinstance(v, bool),
            "None": lambda v: v is None,
            "list": lambda v: isinstance(v, list),
            "dict": lambda v: isinstance(v, dict),
            "tuple": lambda v: isinstance(v, list | tuple),
            "Any": lambda v: True,
        }
        if node.id not in simple:
            raise ParameterError(f"unsupported parameter annotation {node.id!r}")
        return simple[node.id](value)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        outer, inner = node.value.id, node.slice
        args = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if outer == "Optional":
            return value is None or _matches(value, args[0])
        if outer == "Union":
            return any(_matches(value, a) for a in args)
        if outer in ("list", "List"):
            return isinstance(value, list) and all(_matches(v, args[0]) for v in value)
        if outer in ("tuple", "Tuple"):
            if not isinstance(value, list | tuple):
                return False
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                return all(_matches(v, args[0]) for v in value)
            return len(value) == len(args) and all(_matches(v, a) for v, a in zip(value, args, strict=True))
        if outer in ("dict", "Dict"):
            return isinstance(value, dict)
    raise ParameterError(f"unsupported parameter annotation {ast.unparse(node)!r}")


def parse_cli_value(raw: str, param: Param) -> Any:
    """Turn a command-line string into a value of the parameter's type, or raise ParameterError."""
    candidates: list[Any] = []
    text = raw.strip()
    if text.lower() in ("true", "false"):
        candidates.append(text.lower() == "true")
    if text.lower() in ("none", "null"):
        candidates.append(None)
    try:
        candidates.append(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        pass
    candidates.append(raw)
    for value in candidates:
        if type_matches(value, param.type):
            return validate_param_value(param, value)
    raise ParameterError(f"parameter {param.name!r} expects {param.type}, got {raw!r}")


def parse_cli_params(notebook: Path, groups: Sequence[Sequence[str]]) -> Iterator[tuple[str, list[str], list[Any]]]:
    """``-p NAME VALUE [VALUE ...]`` groups as typed (``labkit run``: one value each; ``labkit sweep``: an axis) →
    ``(name, the raw strings, their typed values)``, checked against ``notebook``'s parameters cell: a group with no
    value, a name the notebook does not declare (with a did-you-mean) or a value of the wrong type is a
    ParameterError. A generator, so each caller's own checks (a name given twice, a value repeated) run group by
    group, in the order the groups were typed."""
    declared = read_params(notebook)
    for name, *raws in groups:
        if not raws:
            raise ParameterError(f"-p {name} needs at least one value to sweep over", fix=f"e.g. -p {name} 1 2 3")
        if name not in declared:
            validate(declared, {name: None}, Path(notebook).name)  # raises, naming the closest parameter
        yield name, raws, [parse_cli_value(r, declared[name]) for r in raws]


def validate_param_value(param: Param, value: Any) -> Any:
    """``value`` if it fits ``param`` (its type annotation and its choices), an int widened to float for a
    float parameter (so the notebook sees the type it declared), else a ParameterError naming the parameter."""
    if not type_matches(value, param.type):
        raise ParameterError(
            f"parameter {param.name!r} expects {param.type}, got {type(value).__name__} {value!r}"
        )
    if param.choices and str(value) not in param.choices:
        raise ParameterError(f"parameter {param.name!r} must be one of {', '.join(param.choices)}; got {value!r}")
    if (param.range and isinstance(value, int | float) and not isinstance(value, bool)
            and not (math.isfinite(value) and param.range.contains(value))):
        raise ParameterError(f"parameter {param.name!r} must be {param.range}; got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
        raise ParameterError(f"parameter {param.name!r} must fit in 64 bits (between {INT64[0]} and {INT64[1]}); "
                             f"got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and param.type == "float":
        value = float(value)
    return value


def validate(params: dict[str, Param], values: dict[str, Any], notebook: str = "notebook") -> dict[str, Any]:
    """Check names and types of ``values`` (already Python objects); returns them, ints widened to float."""
    out = {}
    for name, value in values.items():
        if name not in params:
            close = difflib.get_close_matches(name, params, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ParameterError(
                f"{notebook} has no parameter {name!r}.{hint} Its parameters: {', '.join(params)}"
            )
        out[name] = validate_param_value(params[name], value)
    return out
