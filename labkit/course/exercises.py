"""Self-checks for classroom exercises.

An exercise cell holds a function whose body sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` (nbgrader's markers). ``labkit student`` replaces that body with
``raise NotImplementedError``. The check cell below it calls :func:`check_function` (or
:func:`check_value`), which says *what was expected, what came back, and a hint* — never just
"wrong" — and returns what later cells should use: the learner's function once it passes, labkit's
reference implementation until then (saying so), so a student notebook always runs to the end.
Each result is recorded as ``exercise/<name>`` = passed | wrong | unsolved in ``metrics.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labkit.core.record import record

PASSED, WRONG, UNSOLVED = "passed", "wrong", "unsolved"


def _close(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    if isinstance(expected, tuple | list) and not isinstance(got, str):  # (out, weights): every part must agree
        return (isinstance(got, tuple | list) and len(got) == len(expected)
                and all(_close(g, e, rtol, atol) for g, e in zip(got, expected, strict=True)))
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    if hasattr(expected, "detach"):
        expected = expected.detach().cpu().numpy()
    try:
        g, e = np.asarray(got), np.asarray(expected)
        if g.dtype.kind in "fiub" and e.dtype.kind in "fiub":
            return g.shape == e.shape and bool(np.allclose(g, e, rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        pass
    return got == expected


def _short(x: Any) -> str:
    if isinstance(x, tuple):
        return "(" + ", ".join(_short(part) for part in x) + ")"
    if hasattr(x, "shape") and getattr(x, "ndim", 0) > 0:
        arr = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
        return f"array of shape {arr.shape}: {np.array2string(arr.ravel()[:6], precision=4)}{'…' if arr.size > 6 else ''}"
    return repr(x)


def _report(name: str, status: str, message: str) -> None:
    record(f"exercise/{name}", status, quiet=True)
    mark = {PASSED: "✔", WRONG: "✘", UNSOLVED: "…"}[status]
    print(f"{mark} exercise {name!r}: {message}")


def check_function(
    name: str,
    solution: Callable,
    reference: Callable,
    cases: Sequence[tuple],
    hint: str = "",
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> Callable:
    """Compare ``solution(*case)`` with ``reference(*case)`` on every case; return what later cells use."""
    for i, case in enumerate(cases, 1):
        args = case if isinstance(case, tuple) else (case,)
        try:
            got = solution(*args)
        except NotImplementedError:
            _report(name, UNSOLVED, "not solved yet — later cells use labkit's reference implementation.")
            return reference
        except Exception as e:  # noqa: BLE001 - a learner's bug is reported, not raised
            _report(name, WRONG, f"case {i} raised {type(e).__name__}: {e}. Hint: {hint} "
                    "(later cells use labkit's reference implementation)")
            return reference
        expected = reference(*args)
        if not _close(got, expected, rtol, atol):
            shown = ", ".join(_short(a) for a in args)
            _report(name, WRONG, f"case {i} ({shown}): expected {_short(expected)}, got {_short(got)}. "
                    f"Hint: {hint} (later cells use labkit's reference implementation)")
            return reference
    _report(name, PASSED, f"passed ({len(cases)} cases).")
    return solution


def check_value(name: str, compute: Callable[[], Any], expected: Any, hint: str = "",
                rtol: float = 1e-5, atol: float = 1e-6) -> Any:
    """Check a value the learner computes (``compute`` is called so an unsolved stub is caught)."""
    try:
        got = compute()
    except NotImplementedError:
        _report(name, UNSOLVED, f"not solved yet — later cells use the expected value {_short(expected)}.")
        return expected
    except Exception as e:  # noqa: BLE001 - a learner's bug is reported, not raised
        _report(name, WRONG, f"raised {type(e).__name__}: {e}. Hint: {hint} (later cells use the expected value)")
        return expected
    if not _close(got, expected, rtol, atol):
        _report(name, WRONG, f"expected {_short(expected)}, got {_short(got)}. Hint: {hint}")
        return expected
    _report(name, PASSED, f"passed ({_short(got)}).")
    return got


def _leaves(out: Any) -> list[Any]:
    """A module's output as a flat list of tensors (tuples, lists and dataclasses of tensors are walked)."""
    if hasattr(out, "detach"):
        return [out]
    if isinstance(out, tuple | list):
        return [t for o in out for t in _leaves(o)]
    if hasattr(out, "__dataclass_fields__"):
        return [t for f in out.__dataclass_fields__ for t in _leaves(getattr(out, f))]
    return []


def _traced(module: Any, args: tuple, seed: int) -> tuple[Any, list[tuple[str, Any]]]:
    """Run ``module(*args)`` from a fixed random state, recording every named submodule's output in call order."""
    import torch

    calls: list[tuple[str, Any]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, o, n=n: calls.append((n, o)))
             for n, m in module.named_modules() if n]
    try:  # no autograd: a check only compares values, and inputs made under inference_mode stay usable
        with torch.random.fork_rng(), torch.no_grad():
            torch.manual_seed(seed)
            out = module(*args)
    finally:
        for h in hooks:
            h.remove()
    return out, calls


def _first_difference(mine: list[tuple[str, Any]], ref: list[tuple[str, Any]], rtol: float, atol: float,
                      rename: Callable[[str], str]) -> str:
    """Name the first submodule (in the reference's call order) whose output differs from the learner's.

    Submodules only one side has (a ReLU module where the learner calls ``F.relu``) are skipped: a missing
    *parameterised* layer was already caught by the state-dict check."""
    got = dict(mine)
    for ref_name, expected in ref:
        name = rename(ref_name)
        if name not in got:
            continue
        a, b = _leaves(got[name]), _leaves(expected)
        if len(a) != len(b) or not all(_close(x, y, rtol, atol) for x, y in zip(a, b, strict=False)):
            return f"the first tensor that differs is the output of `{name}` ({_short(b[0]) if b else 'no tensor'})"
    return "every submodule's output matches; the difference is in what forward does with them"


def check_module(
    name: str,
    build: Callable[[], Any],
    reference: Any,
    cases: Sequence[tuple],
    hint: str = "",
    seed: int = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    rename: Callable[[str], str] | None = None,
) -> Any:
    """The learner writes a whole ``nn.Module``; check it against labkit's *trained* one and return what to use.

    ``build()`` makes the learner's module; the reference's weights (e.g. a shipped checkpoint) are loaded into it
    with ``load_state_dict(strict=True)``, so parameter names and shapes are part of the exercise (the paper's
    symbols, as in the chapter's text). Both then run on every case from the same random state (so a policy that
    samples noise with ``torch.randn_like`` draws the same noise), in the reference's train/eval mode, and every
    output tensor must agree within ``atol``. On a mismatch the message names the *first submodule* whose output
    differs, found with forward hooks, which is where the bug usually is. ``rename`` maps the reference's parameter
    and submodule names to the learner's (a converted Caffe net calls its first layer ``layers.conv1``, the
    learner ``conv1``). Returns the learner's module once it passes, the reference until then (saying so), so the
    notebook always runs to the end.
    """
    rename = rename or (lambda k: k)
    fallback = "later cells use labkit's trained module"
    try:
        mine = build()
    except NotImplementedError:
        _report(name, UNSOLVED, f"not solved yet — {fallback}.")
        return reference
    except Exception as e:  # noqa: BLE001 - a learner's bug is reported, not raised
        _report(name, WRONG, f"building it raised {type(e).__name__}: {e}. Hint: {hint} ({fallback})")
        return reference
    ref_state = {rename(k): v for k, v in reference.state_dict().items()}
    mine_state = mine.state_dict()
    missing = [k for k in ref_state if k not in mine_state]
    extra = [k for k in mine_state if k not in ref_state]
    if missing or extra:
        what = (f"it has no parameter `{missing[0]}` of shape {tuple(ref_state[missing[0]].shape)}" if missing
                else f"it has a parameter `{extra[0]}` the trained module does not")
        _report(name, WRONG, f"the trained weights do not fit: {what}. Name the layers as the text does. "
                f"Hint: {hint} ({fallback})")
        return reference
    shapes = [k for k in ref_state if tuple(ref_state[k].shape) != tuple(mine_state[k].shape)]
    if shapes:
        k = shapes[0]
        _report(name, WRONG, f"`{k}` has shape {tuple(mine_state[k].shape)}, the trained one "
                f"{tuple(ref_state[k].shape)}. Hint: {hint} ({fallback})")
        return reference
    mine.load_state_dict(ref_state)
    mine.train(reference.training)
    for i, case in enumerate(cases, 1):
        args = case if isinstance(case, tuple) else (case,)
        try:
            got, got_calls = _traced(mine, args, seed)
        except NotImplementedError:
            _report(name, UNSOLVED, f"not solved yet — {fallback}.")
            return reference
        except Exception as e:  # noqa: BLE001
            _report(name, WRONG, f"case {i} raised {type(e).__name__}: {e}. Hint: {hint} ({fallback})")
            return reference
        expected, ref_calls = _traced(reference, args, seed)
        a, b = _leaves(got), _leaves(expected)
        if len(a) != len(b) or not all(_close(x, y, rtol, atol) for x, y in zip(a, b, strict=False)):
            where = _first_difference(got_calls, ref_calls, rtol, atol, rename)
            _report(name, WRONG, f"case {i}: with the trained weights loaded, your outputs differ from labkit's; "
                    f"{where}. Hint: {hint} ({fallback})")
            return reference
    _report(name, PASSED, f"passed ({len(cases)} cases, with the reference's weights loaded, outputs within {atol:g}).")
    return mine
