"""labkit's layers only import downwards, so models never depend on the notebook runner."""

import ast

from helpers import ROOT

PKG = ROOT / "labkit"
RANK = {"core": 0, "data": 1, "caffe": 1, "models": 2, "metrics": 3, "train": 3, "studies": 4, "viz": 4, "course": 5}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "labkit" else None


def test_no_upward_imports():
    problems = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        if rel.parts[0] in ("__init__", "__main__"):
            continue
        own = rel.parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                target = _layer(name)
                if target and target in RANK and RANK[target] > RANK[own]:
                    problems.append(f"labkit/{rel}.py imports {name} ({own} → {target} is upward)")
    assert not problems, "\n".join(problems)
