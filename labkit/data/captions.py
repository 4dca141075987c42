"""Captions: vocabulary, tokenisation and padding; captions of the constructed digit-event videos; the MSVD
corpus and its features.

Why a constructed set: MSVD's videos are YouTube downloads (many gone) and its features are gigabytes, so the
quick profile captions **constructed digit-event videos** (:mod:`labkit.data.digit_events`, ``task="sequence"``):
two real MNIST digits of different classes, shown one after the other for 3–5 frames each among clutter frames.
Their captions say which digit came first, "a 3 appears then a 7 appears", in :data:`PHRASINGS` (one names the
digits in reverse order, "before a 7 comes a 3"), so the two digit words of a caption must look at different frames
and references disagree on wording the way human ones do. :func:`parse_caption` reads back which digits a caption
asserts in which order (the digit-accuracy metric). The MSVD loader reads the real formats (the corpus CSV and
HDF5 features keyed by video id) for ``data_root`` runs.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from labkit.core.checks import require_int, require_path, require_strings
from labkit.core.errors import DataError
from labkit.data.paths import read_utf8
from labkit.data.sequences import pad_or_trim

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS: tuple[str, ...] = (PAD, BOS, EOS, UNK)  # ids 0, 1, 2, 3 in every vocabulary
MSVD_COLUMNS: tuple[str, ...] = ("VideoID", "Start", "End", "WorkerID", "Source", "AnnotationTime", "Language",
                                 "Description")
MSVD_SPLITS: tuple[int, int, int] = (1200, 100, 670)  # train / val / test clips (Venugopalan et al. 2015)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class CaptionFormatError(DataError):
    """A caption file, vocabulary or feature file that does not have the expected format."""


def tokenize(text: str) -> list[str]:
    """Lower-cased words and numbers, punctuation dropped ("A man's dog, running." → a man's dog running).

    A light stand-in for the PTB tokenizer for *training*; scores always go through the real one
    (``labkit.metrics.captioning``)."""
    return _WORD.findall(text.lower())


@dataclass
class Vocabulary:
    """Word ↔ id map; ids 0–3 are ``<pad> <bos> <eos> <unk>``, the rest by falling count then alphabet."""

    itos: list[str]

    def __post_init__(self) -> None:
        if tuple(self.itos[:4]) != SPECIALS:
            raise CaptionFormatError(f"a vocabulary must start with {SPECIALS}, got {self.itos[:4]}")
        if len(set(self.itos)) != len(self.itos):
            dup = [w for w, c in Counter(self.itos).items() if c > 1]
            raise CaptionFormatError(f"vocabulary has duplicate words: {dup[:5]}")
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    pad, bos, eos, unk = 0, 1, 2, 3

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 1) -> Vocabulary:
        """Words seen at least ``min_count`` times (rarer ones become ``<unk>``).

        ``captions`` must be an iterable of strings: ``None`` or one bare string (which would count its
        letters as words) is refused by name before anything is counted.
        """
        captions = require_strings("captions", captions, "caption strings")
        require_int("min_count", min_count)
        if min_count < 1:
            raise CaptionFormatError(f"min_count must be >= 1, got {min_count}")
        counts = Counter(w for c in captions for w in tokenize(c))
        words = sorted((w for w, n in counts.items() if n >= min_count and w not in SPECIALS),
                       key=lambda w: (-counts[w], w))
        return cls(list(SPECIALS) + words)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str, max_len: int | None = None) -> list[int]:
        """``<bos> w1 … wn <eos>`` as ids; with ``max_len`` the words are cut so the whole fits."""
        ids = [self.stoi.get(w, self.unk) for w in tokenize(text)]
        if max_len is not None:
            if max_len < 2:
                raise CaptionFormatError(f"max_len must leave room for <bos> and <eos>, got {max_len}")
            ids = ids[: max_len - 2]
        return [self.bos, *ids, self.eos]

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Words up to the first ``<eos>``, without ``<bos>``/``<pad>``."""
        words = []
        for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
            if i == self.eos:
                break
            if i in (self.bos, self.pad):
                continue
            if not 0 <= i < len(self.itos):
                raise CaptionFormatError(f"token id {i} is outside the vocabulary of {len(self.itos)}")
            words.append(self.itos[i])
        return " ".join(words)

    def to_dict(self) -> dict:
        return {"itos": list(self.itos)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Vocabulary:
        if "itos" not in d:
            raise CaptionFormatError("a saved vocabulary needs the key 'itos'")
        return cls(list(d["itos"]))


def pad_captions(seqs: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Id lists → (B, L) long padded with ``pad_id`` and (B,) lengths."""
    if not seqs:
        raise CaptionFormatError("no captions to pad")
    lengths = torch.tensor([len(s) for s in seqs])
    out = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out, lengths


# --------------------------------------------------------------------------- captions of digit-event videos

# Reference phrasings of a video whose digit ``{a}`` is shown before digit ``{b}``; the last names them in reverse
# order. Digits are written as numerals, so a caption's digit words are exactly its one-character numbers. Each
# phrasing's first word fixes which digit it names first ("a", "first": the earlier; "before": the later), so a
# decoder that has chosen its first word knows which frames its first digit word must look at.
PHRASINGS: tuple[str, ...] = (
    "a {a} appears then a {b} appears",
    "first a {a} then a {b}",
    "a {a} is followed by a {b}",
    "before a {b} comes a {a}",
)
_PATTERNS = tuple(re.compile("^" + p.replace("{a}", "(?P<a>[0-9])").replace("{b}", "(?P<b>[0-9])") + "$")
                  for p in PHRASINGS)


def caption_events(first: int, second: int, n_phrasings: int = len(PHRASINGS)) -> list[str]:
    """``n_phrasings`` (1–4) reference captions of a video that shows digit ``first`` and then digit ``second``."""
    if not 1 <= n_phrasings <= len(PHRASINGS):
        raise CaptionFormatError(f"n_phrasings must be in 1..{len(PHRASINGS)}, got {n_phrasings}")
    for d in (first, second):
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or not 0 <= d <= 9:
            raise CaptionFormatError(f"digits must be ints 0..9, got {d!r}")
    return [p.format(a=int(first), b=int(second)) for p in PHRASINGS[:n_phrasings]]


def caption_event_video(events: Sequence, n_phrasings: int = len(PHRASINGS)) -> list[str]:
    """Reference captions of a sequence video from its events (``EventVideo.events`` or ``(digit, start, stop)``
    triples), in order of appearance: exactly two, of different digits, not overlapping in time."""
    rows = [(int(e.digit), int(e.start), int(e.stop)) if hasattr(e, "digit") else tuple(int(x) for x in e)
            for e in events]
    if len(rows) != 2:
        raise CaptionFormatError(f"a sequence video has exactly 2 digit events to describe, got {len(rows)}")
    (d1, s1, e1), (d2, s2, _) = sorted(rows, key=lambda r: (r[1], r[2]))
    if d1 == d2 or s2 < e1:
        raise CaptionFormatError(f"the two events must show different digits in windows that do not overlap, got "
                                 f"{rows}: 'first … then …' would be ambiguous")
    return caption_events(d1, d2, n_phrasings)


def parse_caption(text: str) -> tuple[int, int] | None:
    """Which digits a caption asserts in which order: ``(earlier, later)``, or ``None`` if it is not one of the
    :data:`PHRASINGS` (case and punctuation ignored). "before a 7 comes a 3" → ``(3, 7)``."""
    words = " ".join("a" if w == "an" else w for w in tokenize(text))  # "an 8" as shown by readable()
    for pattern in _PATTERNS:
        m = pattern.match(words)
        if m:  # group a is the earlier digit wherever the phrasing puts it
            return int(m["a"]), int(m["b"])
    return None


_A_BEFORE_VOWEL_SOUND = re.compile(r"\b([Aa]) (?=8\b)")  # "8" is the one numeral 0–9 read with a vowel: "eight"


def readable(caption: str) -> str:
    """A caption as a reader should see it: "a 8 appears" → "an 8 appears" (also "A 8" → "An 8").

    Why only for display: the constructed captions write "a" before every digit, and "a" is a word of the vocabulary
    the shipped decoders were trained with; writing "an 8" in :data:`PHRASINGS` would add a word, change the
    vocabulary and void every shipped checkpoint. So the data keeps one article and the notebook shows English.
    :func:`parse_caption` reads both forms."""
    return _A_BEFORE_VOWEL_SOUND.sub(r"\1n ", caption)


def time_channel(feats: np.ndarray) -> np.ndarray:
    """Frame features (T, D) with one more column, each frame's position in the video, 2t/(T−1) − 1 ∈ [−1, 1]
    (0 for a one-frame video).

    Why: SA-LSTM's context Σ α_i v_i does not change when the frames are shuffled, and a per-frame CNN feature does
    not know *when* its frame was shown, so without this column no decoder could tell "a 3 then a 7" from "a 7 then
    a 3". (Yao et al. get local temporal structure from a 3-D CNN; a column of positions is the smallest stand-in.)"""
    feats = np.asarray(feats)
    if feats.ndim != 2 or len(feats) == 0:
        raise CaptionFormatError(f"features must be (frames, dim) with at least one frame, got shape {feats.shape}")
    t = len(feats)
    pos = np.linspace(-1.0, 1.0, t) if t > 1 else np.zeros(1)
    return np.concatenate([feats, pos[:, None].astype(feats.dtype)], axis=1)


@dataclass
class CaptionSet:
    """Videos' frame features and their reference captions (the unit the notebook trains and scores on).

    ``features[i]`` (T_i, D) belongs to ``ids[i]``; ``captions[id]`` lists that video's references;
    ``events[id]`` (digit-event videos only) its ``(digit, start, stop)`` windows in order of appearance."""

    ids: list[str]
    features: list[np.ndarray]
    captions: dict[str, list[str]]
    events: dict[str, list[tuple[int, int, int]]] | None = None

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.features):
            raise CaptionFormatError(f"{len(self.ids)} ids but {len(self.features)} feature arrays")
        for vid, a in zip(self.ids, self.features, strict=True):  # once here, so no batch ever carries a NaN
            a = np.asarray(a)
            if a.ndim != 2 or len(a) == 0:
                raise CaptionFormatError(f"video {vid!r}: features must be (frames, dim), got shape {a.shape}")
            if not np.isfinite(a).all():
                raise CaptionFormatError(f"video {vid!r}: features hold non-finite values (NaN or inf)",
                                         fix="re-extract this video's features")
        missing = [i for i in self.ids if not self.captions.get(i)]
        if missing:
            raise CaptionFormatError(f"{len(missing)} videos have no caption, e.g. {missing[:3]}")

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, n: int) -> CaptionSet:
        """The first ``n`` videos (a smaller training set for a quick run)."""
        ids = self.ids[:n]
        return CaptionSet(ids, self.features[:n], {i: self.captions[i] for i in ids},
                          None if self.events is None else {i: self.events[i] for i in ids})

    def truth(self) -> dict[str, tuple[int, int]]:
        """``{id: (earlier digit, later digit)}`` of digit-event videos (what :func:`parse_caption` should read)."""
        if self.events is None:
            raise CaptionFormatError("these videos have no digit events (only the digit-event caption set has)")
        return {i: (ev[0][0], ev[1][0]) for i, ev in self.events.items()}


class CaptionDataset(torch.utils.data.Dataset):
    """One sample per (video, reference caption) pair, as dicts of fixed-size tensors for ``labkit.train.fit``:
    ``feats`` (T, D), ``mask`` (T,) bool, ``caption`` (L,) long padded with ``<pad>``."""

    def __init__(self, data: CaptionSet, vocab: Vocabulary, max_len: int = 30, max_frames: int | None = None):
        self.feats, self.mask = pad_or_trim(data.features, max_frames)  # (V, T, D), (V, T)
        pairs = [(v, c) for v, vid in enumerate(data.ids) for c in data.captions[vid]]
        self.video = torch.tensor([v for v, _ in pairs])
        self.captions, self.lengths = pad_captions([vocab.encode(c, max_len) for _, c in pairs], vocab.pad)

    def __len__(self) -> int:
        return len(self.video)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        v = self.video[i]
        return {"feats": self.feats[v], "mask": self.mask[v], "caption": self.captions[i]}


# --------------------------------------------------------------------------- MSVD


@dataclass
class MSVDCorpus:
    """English MSVD captions keyed ``VideoID_Start_End`` (clips in order of first appearance) and how many
    English rows were dropped for an empty description."""

    captions: dict[str, list[str]]
    dropped_empty: int = 0


def read_msvd_csv(path: str | Path, language: str = "English") -> MSVDCorpus:
    """Parse the MSR Video Description Corpus CSV (columns :data:`MSVD_COLUMNS`).

    Rows in other languages are skipped; an English row with an empty description is counted in
    ``dropped_empty`` (the real corpus has a few); anything else malformed raises :class:`CaptionFormatError`.
    The file must be UTF-8 (a byte-order mark is fine): the corpus holds many languages, and guessing
    another encoding would turn their captions into mojibake without a word, so a Latin-1 file is refused
    with the line of its first undecodable byte rather than read with a fallback."""
    path = Path(path)
    if not path.is_file():
        raise CaptionFormatError(f"MSVD corpus CSV {path} does not exist")
    text = read_utf8(path, CaptionFormatError, "CSV")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _msvd_rows(path, reader, language)
    except csv.Error as e:
        raise CaptionFormatError(f"not a readable CSV ({e})", path=path, where=reader.line_num) from None


def _msvd_rows(path: Path, reader: csv.DictReader, language: str) -> MSVDCorpus:
    if reader.fieldnames is None:
        raise CaptionFormatError("the file is empty", path=path, fix=f"expected the header {','.join(MSVD_COLUMNS)}")
    missing = [c for c in MSVD_COLUMNS if c not in reader.fieldnames]
    if missing:
        raise CaptionFormatError(f"missing column(s) {missing}; expected {list(MSVD_COLUMNS)}, got "
                                 f"{reader.fieldnames}", path=path)
    captions: dict[str, list[str]] = {}
    dropped = 0
    for line, row in enumerate(reader, start=2):
        if None in row or any(row[c] is None for c in MSVD_COLUMNS):
            raise CaptionFormatError(f"expected {len(MSVD_COLUMNS)} fields, got a different number (an unquoted "
                                     "comma in Description?)", path=path, where=line)
        if row["Language"] != language:
            continue
        vid, start, end = row["VideoID"].strip(), row["Start"].strip(), row["End"].strip()
        if not vid or not (start.isdigit() and end.isdigit()):
            raise CaptionFormatError(f"need a VideoID and integer Start/End seconds, got {vid!r}, {start!r}, {end!r}",
                                     path=path, where=line)
        if int(end) <= int(start):
            raise CaptionFormatError(f"End {end} is not after Start {start}", path=path, where=line)
        text = row["Description"].strip()
        if not text:
            dropped += 1
            continue
        captions.setdefault(f"{vid}_{start}_{end}", []).append(text)
    if not captions:
        raise CaptionFormatError(f"no {language} captions found", path=path)
    return MSVDCorpus(captions, dropped)


def split_ids(ids: Sequence[str], sizes: Sequence[int] = MSVD_SPLITS) -> dict[str, list[str]]:
    """The standard MSVD split: the first 1200 clips train, the next 100 val, the last 670 test.

    ``ids`` must be the clips in their canonical order (the corpus order of the 1,970 clips that have videos,
    i.e. of your feature file) and exactly ``sum(sizes)`` long; anything else is an error, not a silent cut."""
    if len(set(ids)) != len(ids):
        raise CaptionFormatError("clip ids to split contain duplicates")
    if len(ids) != sum(sizes):
        raise CaptionFormatError(f"the split {tuple(sizes)} needs {sum(sizes)} clips, got {len(ids)}; pass only "
                                 "the clips that have features")
    bounds = np.cumsum([0, *sizes])
    return {name: list(ids[a:b]) for name, a, b in zip(("train", "val", "test"), bounds[:-1], bounds[1:],
                                                        strict=True)}


def _h5py():
    try:
        import h5py
    except ImportError as e:  # not a core dependency of the quick profile
        raise ImportError("reading MSVD features needs the `h5py` package (HDF5); install it with "
                          "`pip install h5py` — the quick profile does not need it") from e
    return h5py


def read_h5_features(path: str | Path, ids: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Frame features from an HDF5 file with one (T, D) dataset per video id (SA-LSTM's layout).

    Every problem — not an HDF5 file, a group or a text dataset where a (T, D) array belongs, a missing
    id, NaN or inf features (which would make every loss NaN, many steps later) — is a
    :class:`CaptionFormatError` naming the file and the key. ``ids`` must be a list of keys; one bare string
    is refused (iterating it would ask for its characters), with the list form as the hint."""
    path = require_path("path", path)
    if ids is not None:
        ids = require_strings("ids", ids, "video ids")
    h5py = _h5py()
    if not path.is_file():
        raise CaptionFormatError(f"feature file {path} does not exist")
    layout = "one (frames, dim) float dataset per video id at the top level (write_h5_features writes it)"
    try:
        with h5py.File(path, "r") as f:
            return _h5_datasets(h5py, f, path, ids, layout)
    except CaptionFormatError:
        raise
    except Exception as e:  # h5py's OSError for a non-HDF5 file, KeyError/RuntimeError from a damaged one
        raise CaptionFormatError(f"not a readable HDF5 feature file ({type(e).__name__}: {e})", path=path,
                                 fix=f"features must be an HDF5 file with {layout}") from e


def _h5_datasets(h5py, f, path: Path, ids: Iterable[str] | None, layout: str) -> dict[str, np.ndarray]:
    wanted = list(f.keys()) if ids is None else list(ids)
    missing = [i for i in wanted if i not in f]
    if missing:
        raise CaptionFormatError(f"no features for {len(missing)} video(s), e.g. {missing[:3]}", path=path,
                                 fix="the feature file and the corpus must use the same VideoID_Start_End keys")
    if not wanted:
        raise CaptionFormatError("the file holds no datasets", path=path, fix=f"expected {layout}")
    out: dict[str, np.ndarray] = {}
    for vid in wanted:
        where = f"{path}[{vid!r}]"
        obj = f[vid]
        if not isinstance(obj, h5py.Dataset):
            raise CaptionFormatError(f"{where}: is a {type(obj).__name__.lower()}, not a dataset; expected {layout}")
        if obj.dtype.kind not in "fiub":
            raise CaptionFormatError(f"{where}: holds {obj.dtype} values, not numbers; expected {layout}")
        if obj.ndim != 2 or obj.shape[0] == 0:
            raise CaptionFormatError(f"{where}: expected a (frames, dim) array, got shape {obj.shape}")
        a = np.asarray(obj, dtype=np.float32)
        finite = np.isfinite(a)
        if not finite.all():
            t = int(np.argmin(finite.all(axis=1)))
            raise CaptionFormatError(f"{where}: {a.size - int(finite.sum())} of {a.size} feature values are NaN or "
                                     f"inf (the first in frame {t})", fix="re-extract this video's features")
        out[vid] = a
    return out


def write_h5_features(path: str | Path, feats: Mapping[str, np.ndarray]) -> None:
    """Inverse of :func:`read_h5_features` (used for fixtures and your own extracted features)."""
    h5py = _h5py()
    with h5py.File(Path(path), "w") as f:
        for vid, a in feats.items():
            f.create_dataset(vid, data=np.asarray(a, dtype=np.float32))


def load_msvd(root: str | Path, csv_name: str = "MSR Video Description Corpus.csv",
              features: str = "features.hdf5", sizes: Sequence[int] = MSVD_SPLITS) -> dict[str, CaptionSet]:
    """MSVD under ``root``: the corpus CSV and an HDF5 feature file; the clips that have both, in corpus
    order, split into train/val/test with :func:`split_ids`."""
    root = Path(root)
    corpus = read_msvd_csv(root / csv_name)
    feats = read_h5_features(root / features)
    ids = [i for i in corpus.captions if i in feats]
    try:
        splits = split_ids(ids, sizes)
    except CaptionFormatError as e:
        raise CaptionFormatError(f"{len(ids)} clips of {root / csv_name} have features in {root / features}: {e}",
                                 fix="keys must be VideoID_Start_End, as the corpus spells them") from None
    return {s: CaptionSet(v, [feats[i] for i in v], {i: corpus.captions[i] for i in v}) for s, v in splits.items()}


# --------------------------------------------------------------------------- the bundled digit-event captions

EVENTS_ASSET = "captions/digit_event_captions.npz"
EVENTS_PCA = "captions/events_pca.npz"


def _events_npz(path: str | Path | None):
    from labkit.core.assets import asset_path

    return np.load(path or asset_path(EVENTS_ASSET))


def event_caption_meta(path: str | Path | None = None) -> dict:
    """How the bundled set was made (``tools/make_caption_assets.py``): generator settings, encoder, sizes, and the
    ``encoder_ceiling`` per split (videos whose two digits the frame encoder's own classifier reads right)."""
    import json

    with _events_npz(path) as z:
        return json.loads(str(z["meta"]))


def event_caption_config(path: str | Path | None = None):
    """The :class:`~labkit.data.digit_events.EventConfig` the bundled videos were drawn with (to re-make their
    frames with :func:`~labkit.data.digit_events.event_video_from_id`)."""
    from labkit.data.digit_events import EventConfig

    return EventConfig.from_dict(event_caption_meta(path)["generator"])


def load_event_captions(n_phrasings: int = len(PHRASINGS), path: str | Path | None = None,
                        with_time: bool = True) -> dict[str, CaptionSet]:
    """The bundled captions of constructed digit-event videos (``tools/make_caption_assets.py``):
    ``{"train", "val", "test"}`` → :class:`CaptionSet` with each frame's 32 whitened frame-encoder features
    (plus, with ``with_time``, the :func:`time_channel`), its digit events and captions re-made from them."""
    with _events_npz(path) as z:
        lengths, split, ids_all = z["lengths"], z["split"], z["ids"]
        events_all, flat = z["events"], z["feats"]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    if bounds[-1] != len(flat) or len(events_all) != len(ids_all):
        raise CaptionFormatError(f"{EVENTS_ASSET}: {len(flat)} feature rows for lengths summing to {bounds[-1]}, "
                                 f"{len(events_all)} event rows for {len(ids_all)} videos",
                                 fix="rebuild it: python tools/make_caption_assets.py")
    out = {}
    for name in ("train", "val", "test"):
        rows = np.flatnonzero(split == name)
        ids = [str(ids_all[r]) for r in rows]
        feats = [flat[bounds[r]:bounds[r + 1]].astype(np.float32) for r in rows]
        if with_time:
            feats = [time_channel(f) for f in feats]
        events = {i: [tuple(int(x) for x in e) for e in events_all[r]] for i, r in zip(ids, rows, strict=True)}
        caps = {i: caption_event_video(events[i], n_phrasings) for i in ids}
        out[name] = CaptionSet(ids, feats, caps, events)
    return out
