"""labkit's layers only import downwards, so models never depend on the notebook runner."""

import ast

from helpers import ROOT

PKG = ROOT / "labkit"
RANK = {"core": 0, "data": 1, "caffe": 1, "models": 2, "metrics": 3, "train": 3, "eval": 4, "studies": 5, "viz": 5,
        "course": 6}
# Same-rank or downward imports that are still not allowed: a metric is a function of arrays, never of a model (an
# evaluation protocol that runs a model over a split lives in labkit/eval).
FORBIDDEN = {("metrics", "models"), ("metrics", "train")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "labkit" else None


def _imports():
    """(file relative to labkit/, its layer, the labkit layer it imports, the module named) for every import."""
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        if rel.parts[0] in ("__init__", "__main__"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                if target := _layer(name):
                    yield rel, rel.parts[0], target, name


def test_every_layer_has_a_rank():
    assert {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").is_file()} | {"train"} == set(RANK)


def test_no_upward_imports():
    problems = [f"labkit/{rel}.py imports {name} ({own} → {target} is upward)"
                for rel, own, target, name in _imports() if target in RANK and RANK[target] > RANK[own]]
    assert not problems, "\n".join(problems)


def test_metrics_never_import_a_model():
    """metrics/ maps arrays to numbers; running a model over a split is an evaluation protocol (labkit/eval)."""
    problems = [f"labkit/{rel}.py imports {name} ({own} → {target} is not allowed)"
                for rel, own, target, name in _imports() if (own, target) in FORBIDDEN]
    assert not problems, "\n".join(problems)
