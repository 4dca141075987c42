"""The ``labkit`` command: list, params, run, sweep, student, sync, predict, doctor."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from labkit.core.errors import LabkitError
from labkit.course.notebooks import course_notebooks, notebooks_dir, resolve
from labkit.course.pairing import first_difference, sync
from labkit.course.params import ParameterError, parse_cli_params, read_params
from labkit.course.runner import NotebookFailed, prepare, run_notebook, strip_run_metadata


def _parse_pairs(notebook: Path, pairs: list[list[str]], profile: str | None = None) -> dict:
    """``-p NAME VALUE`` pairs → typed values. A name given twice, or ``-p profile`` beside a different
    ``--profile``, is refused: silently keeping the last one runs something other than what was typed."""
    values = {}
    for name, (raw,), (value,) in parse_cli_params(notebook, pairs):
        if name in values:
            raise ParameterError(f"-p {name} is given twice ({values[name]!r} and {raw!r})",
                                 fix=f"give it once; to run several values, use labkit sweep {notebook.stem} -p {name} V1 V2")
        values[name] = value
    if profile is not None and "profile" in values and values["profile"] != profile:
        raise ParameterError(f"-p profile {values['profile']} and --profile {profile} disagree", fix="give one of them")
    return values


def cmd_list(args: argparse.Namespace) -> int:
    for nb in course_notebooks(required=True):
        params = read_params(nb)
        print(f"{nb.stem:34s} " + ", ".join(f"{p.name}={p.default!r}" for p in params.values()))
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    nb = resolve(args.notebook)
    params = read_params(nb)
    if args.json:
        print(json.dumps({n: {"type": p.type, "default": p.default, "help": p.help, "choices": list(p.choices)}
                          for n, p in params.items()}, indent=2))
        return 0
    print(f"Parameters of {nb.name}:")
    for p in params.values():
        print("  " + p.describe())
    return 0


def _refuse_protected_out(out: Path, notebooks: list[Path], flat: bool) -> None:
    """A run writes only into its own folder: never into notebooks/ or data/ (that is what --inplace is for, with
    default parameters only), and never over the notebook it runs (``--flat`` into that notebook's folder)."""
    from labkit.core.assets import data_dir

    targets = [out.resolve()] if flat else [(out / nb.stem).resolve() for nb in notebooks]
    own = {nb.resolve().parent: f"the folder of {nb.name}" for nb in notebooks if flat}  # the same folder only
    inside = {notebooks_dir().resolve(): "notebooks/ (the committed notebooks)", data_dir().resolve(): "data/"}
    for target in targets:
        for folder, what in {**own, **inside}.items():
            if target == folder or (folder in inside and folder in target.parents):
                raise ParameterError(f"labkit run --out {out} would write into {what} and could replace what is there",
                                     fix="choose another --out (the default is runs/); to re-execute a committed "
                                         "notebook with its defaults, use --inplace")


def cmd_run(args: argparse.Namespace) -> int:
    if args.all == bool(args.notebooks):
        raise ParameterError("labkit run: name notebooks or pass --all (not both)")
    notebooks = course_notebooks(required=True) if args.all else [resolve(n) for n in args.notebooks]
    if args.flat and len(notebooks) > 1:
        raise ParameterError("labkit run --flat takes a single notebook")
    if args.inplace and (args.params or args.profile not in (None, "quick")):
        raise ParameterError("labkit run --inplace executes committed notebooks with their quick defaults only")
    if args.inplace:
        outside = [nb.name for nb in notebooks if nb.resolve().parent != notebooks_dir().resolve()]
        if outside:
            raise ParameterError(f"labkit run --inplace rewrites the course's committed notebooks only; {outside[0]} "
                                 f"is not in {notebooks_dir()}", fix="run it with --out instead")
        args.profile = None  # --profile quick is the default: injecting it would make a parameterised notebook
    if not args.inplace:
        _refuse_protected_out(Path(args.out), notebooks, args.flat)
    # An edit to a text source (NN_name.py) must be what runs: bring each pair level *before* executing. Without
    # this, --inplace executed the stale .ipynb and its closing sync then overwrote the newer .py with it.
    paired = [nb for nb in notebooks if nb.with_suffix(".py").is_file() and nb.resolve().parent == notebooks_dir().resolve()]
    if paired:
        sync(paired)
    # Validate everything first: a typo in the last notebook's parameters must not cost a whole run.
    plans = [(nb, _parse_pairs(nb, args.params or [], args.profile)) for nb in notebooks]
    for nb, values in plans:
        prepare(nb, values, args.profile)
    results = []
    for i, (nb, values) in enumerate(plans, 1):
        print(f"[{i}/{len(plans)}] {nb.stem} {values or ''}", flush=True)
        out_path = nb if args.inplace else None
        res = run_notebook(nb, values, Path(args.out), args.profile, progress=not args.quiet,
                           output_path=out_path, flat=args.flat)
        if args.inplace:
            strip_run_metadata(nb)
            sync([nb])  # inputs are unchanged; keeps the text source level with the executed notebook
        shown = {k: v for k, v in res.metrics.items() if isinstance(v, int | float)}
        print(f"    done in {res.seconds:.0f}s -> {res.output}  metrics: {json.dumps(shown)}", flush=True)
        results.append(res)
    total = sum(r.seconds for r in results)
    print(f"ran {len(results)} notebook(s) in {total:.0f}s; outputs under {args.out}/")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from labkit.course.sweep import sweep

    nb = resolve(args.notebook)
    out = Path(args.out or f"runs/sweep_{nb.stem}")
    _refuse_protected_out(out, [nb], flat=True)
    if nb.with_suffix(".py").is_file() and nb.resolve().parent == notebooks_dir().resolve():
        sync([nb])  # the runs execute the .ipynb: an edit to the text source must be in it first
    rows = sweep(nb, args.axes, out, workers=args.workers, scheduler=args.scheduler, profile=args.profile,
                 progress=not args.quiet, force=args.force)
    print((out / "sweep.md").read_text())
    failed = [r["run"] for r in rows if r["status"] != "ok"]
    print(f"{len(rows) - len(failed)} of {len(rows)} runs ok; table: {out / 'sweep.csv'}")
    if failed:
        print(f"failed runs (see their run.log): {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def cmd_student(args: argparse.Namespace) -> int:
    from labkit.course.student import build_student

    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ParameterError(f"--out {args.out} is a file, not a folder", fix="name a folder (it is created if missing)")
    notebooks = [resolve(n) for n in args.notebooks] if args.notebooks else course_notebooks(required=True)
    counts = build_student(notebooks, Path(args.out), force=args.force)
    for name, n in counts.items():
        print(f"{name:40s} {n} exercise solution(s) replaced")
    print(f"student notebooks written to {args.out}/ (outputs cleared); run them with `labkit run <path>`")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    notebooks = [resolve(n) for n in args.notebooks] if args.notebooks else course_notebooks(required=True)
    done = sync(notebooks, keep=args.keep)
    for nb, what in zip(notebooks, done, strict=True):
        problem = first_difference(nb)
        print(f"{nb.stem:34s} {problem or what.split(': ', 1)[1]}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from labkit.course.predict import predict_folder, safe_text

    res = predict_folder(args.folder, args.csv, args.model, args.checkpoint, args.att_maps, args.batch_size,
                         args.recursive, progress=not args.quiet)
    for name, why in res.skipped:
        print(f"labkit predict: skipped {name}: {why}", file=sys.stderr)
    maps = f"; {len(res.attention_maps)} attention-map PNGs in {safe_text(args.att_maps)}" if res.attention_maps else ""
    print(f"scored {res.scored} image(s) -> {safe_text(str(res.csv))}{maps}; skipped {len(res.skipped)} "
          "unreadable or broken")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from labkit.course.doctor import findings, report

    info = findings()
    print(json.dumps(info, indent=2) if args.json else report(info))
    return 1 if info["problems"] else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="labkit", description="Run and inspect the course's notebooks.")
    ap.add_argument("--debug", action="store_true", help="show the traceback of an error, not only its one line")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="the notebooks in course order, with their parameters")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("params", help="a notebook's parameters: name, type, default, help")
    p.add_argument("notebook")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_params)
    p = sub.add_parser("run", help="execute notebooks headless through papermill")
    p.add_argument("notebooks", nargs="*", help="names (02, 02_resmem) or paths")
    p.add_argument("--all", action="store_true", help="every notebook in course order")
    p.add_argument("-p", "--param", dest="params", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a parameter (repeatable)")
    p.add_argument("--profile", choices=["quick", "full"], default=None)
    p.add_argument("--out", default="runs", help="output folder (default: runs/)")
    p.add_argument("--inplace", action="store_true", help="write executed notebooks back into notebooks/")
    p.add_argument("--flat", action="store_true", help="write outputs straight into --out (one notebook)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("sweep", help="a grid of runs collected into one experiment table")
    p.add_argument("notebook")
    p.add_argument("-p", "--param", dest="axes", nargs="+", action="append", metavar=("NAME", "VALUE"),
                   required=True, help="a parameter and the values to sweep over (repeatable)")
    p.add_argument("--workers", type=int, default=1, help="local parallel runs (default 1)")
    p.add_argument("--scheduler", default=None, help="address of a Dask distributed scheduler to run on")
    p.add_argument("--profile", choices=["quick", "full"], default=None)
    p.add_argument("--out", default=None, help="sweep folder (default: runs/sweep_<notebook>)")
    p.add_argument("--force", action="store_true",
                   help="re-run finished runs in --out that another notebook, version or profile produced "
                        "(their folders move to .replaced/)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("student", help="generate the student notebooks (solutions stubbed, outputs cleared)")
    p.add_argument("notebooks", nargs="*", help="default: every course notebook")
    p.add_argument("--out", default="student")
    p.add_argument("--force", action="store_true", help="replace student notebooks in --out that differ (a learner's work)")
    p.set_defaults(func=cmd_student)
    p = sub.add_parser("sync", help="bring each notebook and its text source (NN_name.py) level after an edit")
    p.add_argument("notebooks", nargs="*", help="default: every course notebook")
    p.add_argument("--keep", choices=["py", "ipynb"], default=None,
                   help="when both sides changed since the last sync: the side whose inputs win (the other's edits are lost)")
    p.set_defaults(func=cmd_sync)
    p = sub.add_parser("predict", help="score a folder of images: a CSV of memorability scores (+ AMNet attention maps)")
    p.add_argument("folder")
    p.add_argument("--model", choices=["resmem", "amnet", "triplemem"], default="resmem")
    p.add_argument("--checkpoint", default=None, help="AMNet (required) or TripleMem (optional): a file saved by "
                                                      "labkit.models.amnet/triplemem.save_checkpoint")
    p.add_argument("--csv", required=True, help="CSV to write: name,prediction")
    p.add_argument("--att-maps", default=None, help="AMNet: folder for one attention-map PNG per image")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--recursive", action="store_true", help="also images in sub-folders")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("doctor", help="check the environment, device and bundled assets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
    return ap


def _library_error_families() -> dict[str, str]:
    """Class name → family of every LabkitError subclass (a notebook's exception arrives as its class name only)."""
    found, todo = {}, [LabkitError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls.family
        todo += cls.__subclasses__()
    return found


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand. Bad input is one line on stderr and exit status 2; a failing notebook exits 1."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NotebookFailed as e:
        if args.debug:
            raise
        family = _library_error_families().get(e.ename)
        if family:  # the notebook met bad input (a data file, a folder): labkit's message first, as for any bad input
            print(f"labkit: error ({family}): {' '.join(e.evalue.split())}", file=sys.stderr)
            print(f"labkit: raised inside {e}", file=sys.stderr)
            return 2
        print(f"labkit: notebook failed: {e}", file=sys.stderr)
        return 1
    except (LabkitError, OSError) as e:  # labkit's bad-input families, or the system refusing a path the user gave
        if args.debug:
            raise
        kind = getattr(e, "family", None) or type(e).__name__
        print(f"labkit: error ({kind}): {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C reaches the kernel too; the notebook client's pending cell task then fails with DeadKernelError, and
        # asyncio logs "Task exception was never retrieved" with a traceback when that task is collected as the
        # process exits. The run is already marked interrupted, so that log is noise after our one line.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        print("labkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
