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
