"""Caption metrics as the papers report them: BLEU-1..4, METEOR, ROUGE-L and CIDEr from ``pycocoevalcap``
(the COCO caption evaluation code), after its PTB tokenizer.

Why a wrapper: the scorers want ``{id: [str, ...]}`` dicts of *already tokenised* text, and whether that
tokenisation happened is the difference between comparable and incomparable numbers (hobincar/SA-LSTM
scores raw references, so "tomato." and "tomato" never match). ``tokenize=False`` reproduces that on
purpose. The PTB tokenizer and METEOR are Java programs; BLEU, ROUGE-L and CIDEr are pure Python.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from labkit.core.errors import DependencyError
from labkit.metrics.errors import MetricInputError

METRICS: tuple[str, ...] = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr")
JAVA_METRICS: tuple[str, ...] = ("METEOR",)  # and the PTB tokenizer (tokenize=True)


class JavaMissingError(DependencyError):
    """``java`` is not on PATH, but a requested step needs it."""


def java_available() -> bool:
    """Whether METEOR and the PTB tokenizer can run (``java`` on PATH)."""
    return shutil.which("java") is not None


def _need_java(what: str) -> None:
    if not java_available():
        raise JavaMissingError(
            f"{what} needs Java (`java` on PATH): METEOR and the PTB tokenizer are Java programs",
            fix="install a JRE (e.g. `apt-get install default-jre-headless`), or score without them: "
                "score(..., metrics=('BLEU-4', 'ROUGE-L', 'CIDEr'), tokenize=False)")


def clipped_ngram_matches(candidate: str, references: Sequence[str], n: int = 1) -> tuple[int, int]:
    """BLEU's *modified* n-gram precision for one caption, as (clipped matches, candidate n-grams).

    Each candidate n-gram counts at most as often as it occurs in the single reference that has it most
    (Papineni et al. 2002), so "the the the the" does not get full marks against "the cat is on the mat".
    Words are split on whitespace (tokenise first). Summing both numbers over a corpus gives BLEU's p_n."""
    if n < 1:
        raise MetricInputError(f"n must be >= 1, got {n}")
    if isinstance(references, str) or not references:
        raise MetricInputError("references must be a non-empty list of strings")

    def grams(text: str) -> Counter:
        w = text.split()
        return Counter(tuple(w[i:i + n]) for i in range(len(w) - n + 1))

    cand = grams(candidate)
    most = Counter()
    for ref in references:
        most |= grams(ref)  # per n-gram, its largest count in any one reference
    return sum(min(c, most[g]) for g, c in cand.items()), sum(cand.values())


def ptb_tokenize(captions: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """pycocoevalcap's PTB tokenizer (lower-cases, splits "dog." into "dog ." and drops punctuation).

    The same Java program, options and punctuation list as ``pycocoevalcap``'s ``PTBTokenizer`` (a test checks the
    outputs are equal), run with its stderr captured: the wrapper lets Java print "PTBTokenizer tokenized N tokens
    at …" on the terminal, which landed in every notebook that scores captions. The sentences go in on stdin, so
    nothing is written into the installed package's folder either."""
    _need_java("the PTB tokenizer")
    import subprocess

    from pycocoevalcap.tokenizer import ptbtokenizer as ptb

    keys = [k for k, v in captions.items() for _ in v]
    sentences = "\n".join(c.replace("\n", " ") for v in captions.values() for c in v)
    cmd = ["java", "-cp", ptb.STANFORD_CORENLP_3_4_1_JAR, "edu.stanford.nlp.process.PTBTokenizer", "-preserveLines",
           "-lowerCase"]
    proc = subprocess.run(cmd, cwd=Path(ptb.__file__).parent, input=sentences.encode(), capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"the PTB tokenizer failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-300:]}")
    out: dict[str, list[str]] = {}
    for k, line in zip(keys, proc.stdout.decode().split("\n"), strict=False):
        out.setdefault(k, []).append(" ".join(w for w in line.rstrip().split(" ") if w not in ptb.PUNCTUATIONS))
    return out


@lru_cache(maxsize=1)
def _meteor():
    """One METEOR Java process per Python session (starting it costs seconds; it serves any number of calls)."""
    from pycocoevalcap.meteor.meteor import Meteor

    return Meteor()


def score(references: Mapping[str, Sequence[str]], candidates: Mapping[str, str], tokenize: bool = True,
          metrics: Sequence[str] = METRICS) -> dict[str, float]:
    """Corpus-level scores of one candidate caption per id against that id's references.

    ``tokenize=True`` runs the PTB tokenizer once over references and candidates together (one Java start);
    ``tokenize=False`` only splits on whitespace, keeping case and punctuation. Returns ``{metric: value}``
    for the requested ``metrics`` (names in :data:`METRICS`), values in [0, 1] except CIDEr (0–10)."""
    return score_systems(references, {"": candidates}, tokenize, metrics)[""]


def score_systems(references: Mapping[str, Sequence[str]], systems: Mapping[str, Mapping[str, str]],
                  tokenize: bool = True, metrics: Sequence[str] = METRICS) -> dict[str, dict[str, float]]:
    """:func:`score` for several systems' candidates (e.g. greedy and beam) against the same references,
    with a single PTB tokenizer run for all of them: ``{system: {metric: value}}``."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise MetricInputError(f"unknown metric(s) {unknown}; choose from {list(METRICS)}")
    if not references:
        raise MetricInputError("nothing to score: no ids")
    for name, candidates in systems.items():
        if set(references) != set(candidates):
            extra, missing = set(candidates) - set(references), set(references) - set(candidates)
            raise MetricInputError(
                f"references and candidates{f' of {name!r}' if name else ''} must have the same ids: {len(missing)} "
                f"without a candidate (e.g. {sorted(missing)[:3]}), {len(extra)} without references "
                f"(e.g. {sorted(extra)[:3]})")
    empty = [k for k, v in references.items() if isinstance(v, str) or len(v) == 0]
    if empty:
        raise MetricInputError(f"references must be non-empty lists of strings; bad for {empty[:3]}")
    needs_java = [m for m in metrics if m in JAVA_METRICS] + (["the PTB tokenizer"] if tokenize else [])
    if needs_java:
        _need_java(" and ".join(needs_java))
    ids = sorted(references)
    if tokenize:  # one Java call for everything: keys tagged so they cannot collide
        tok = ptb_tokenize({**{("ref", k): list(references[k]) for k in ids},
                            **{(n, "cand", k): [c[k]] for n, c in systems.items() for k in ids}})
        gts = {k: tok[("ref", k)] for k in ids}
        res = {n: {k: tok[(n, "cand", k)] for k in ids} for n in systems}
    else:
        gts = {k: [" ".join(r.split()) for r in references[k]] for k in ids}
        res = {n: {k: [" ".join(c[k].split())] for k in ids} for n, c in systems.items()}
    return {n: _compute(gts, res[n], metrics) for n in systems}


def _compute(gts: dict[str, list[str]], res: dict[str, list[str]], metrics: Sequence[str]) -> dict[str, float]:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    out: dict[str, float] = {}
    if any(m.startswith("BLEU") for m in metrics):
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        out.update({f"BLEU-{n}": float(bleu[n - 1]) for n in range(1, 5) if f"BLEU-{n}" in metrics})
    if "METEOR" in metrics:
        out["METEOR"] = float(_meteor().compute_score(gts, res)[0])
    if "ROUGE-L" in metrics:
        out["ROUGE-L"] = float(Rouge().compute_score(gts, res)[0])
    if "CIDEr" in metrics:
        out["CIDEr"] = float(Cider().compute_score(gts, res)[0])
    return {m: out[m] for m in metrics}
