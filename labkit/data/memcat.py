"""MemCat (Goetschalckx & Wagemans, 2019): 10,000 images in 5 categories with human memorability scores.

Layout of the released dataset (``root`` is the folder that holds both)::

    root/data/memcat_image_data.csv      header row; columns image_file, category, subcategory, …,
                                         memorability_w_fa_correction (last); a leading unnamed
                                         index column (pandas' to_csv) may come first
    root/images/<category>/<subcategory>/<image_file>

The score we use is ``memorability_w_fa_correction`` (hit rate corrected for false alarms), the
one ResMem was trained against. Rows are read strictly: a missing column, an empty field, a score
outside [-1, 1] or not a plain decimal (``0.5_0``, ``nan``), a control character or odd whitespace
(``\\v``, a no-break space) in a name, an image path that leaves ``images/`` (absolute or ``..``, the rule of
:mod:`labkit.data.paths`) or a missing image is a :class:`MemCatFormatError` naming the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labkit.core.checks import require_path
from labkit.core.errors import DataError
from labkit.data.paths import escape_reason, odd_character, plain_decimal, read_utf8

CSV_PATH = Path("data") / "memcat_image_data.csv"
SCORE_COLUMN = "memorability_w_fa_correction"
REQUIRED = ("image_file", "category", "subcategory", SCORE_COLUMN)
CATEGORIES = ("animal", "food", "landscape", "sports", "vehicle")


class MemCatFormatError(DataError):
    """The MemCat folder or CSV does not have the released layout."""


@dataclass(frozen=True)
class MemCatImage:
    """One MemCat row: where the image is, its category and its human memorability score."""

    path: Path
    category: str
    subcategory: str
    score: float


def load_memcat(root: str | Path, check_files: bool = True, limit: int | None = None) -> list[MemCatImage]:
    """Rows of ``root/data/memcat_image_data.csv`` in file order (``limit``: the first n rows only)."""
    root = require_path("root", root)
    csv_path = root / CSV_PATH
    if not csv_path.is_file():
        raise MemCatFormatError(f"{csv_path} not found: data_root must be the MemCat folder holding data/ and images/")
    text = read_utf8(csv_path, MemCatFormatError, "CSV")
    try:
        return _memcat_rows(root, csv_path, csv.reader(io.StringIO(text, newline="")), check_files, limit)
    except csv.Error as e:
        raise MemCatFormatError(f"not a readable CSV ({e})", path=csv_path) from None


def _memcat_rows(root: Path, csv_path: Path, reader: Iterator[list[str]], check_files: bool,
                 limit: int | None) -> list[MemCatImage]:
    """The rows of the CSV text, each checked (see the module docstring); errors name the line."""
    header = next(reader, None)
    if header is None:
        raise MemCatFormatError(f"{csv_path} is empty")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise MemCatFormatError(f"{csv_path}: header lacks column(s) {missing}; found {header[:6]}…")
    if header[-1] != SCORE_COLUMN:
        raise MemCatFormatError(f"{csv_path}: last column should be {SCORE_COLUMN!r}, found {header[-1]!r}")
    col = {c: header.index(c) for c in REQUIRED}
    out: list[MemCatImage] = []
    for line, row in enumerate(reader, start=2):
        if limit is not None and len(out) >= limit:
            break
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise MemCatFormatError(f"{csv_path}:{line}: {len(row)} fields, header has {len(header)}")
        for c in REQUIRED:
            odd = odd_character(row[col[c]])
            if odd:
                raise MemCatFormatError(f"{csv_path}:{line}: {c} holds the character {odd}; no MemCat name or score "
                                        "has one — delete it (or re-save the CSV as plain text)")
        file, cat, sub, raw = (row[col[c]].strip(" \t") for c in REQUIRED)
        if not file or not cat or not sub:
            raise MemCatFormatError(f"{csv_path}:{line}: empty image_file/category/subcategory")
        score = plain_decimal(raw)  # not float(): it reads "0.5_0" as 0.5
        if score is None:
            raise MemCatFormatError(f"{csv_path}:{line}: score {raw!r} is not a number (a plain decimal such as "
                                    "0.775 expected)")
        if not -1.0 <= score <= 1.0:
            raise MemCatFormatError(f"{csv_path}:{line}: score {score} outside [-1, 1]")
        relative = Path(cat, sub, file)
        reason = escape_reason(relative)
        if reason:
            raise MemCatFormatError(f"{csv_path}:{line}: image path {relative.as_posix()!r} {reason}; "
                                    "category, subcategory and image_file must name a file under images/")
        path = root / "images" / relative
        if check_files and not path.is_file():
            raise MemCatFormatError(f"{csv_path}:{line}: image {path} does not exist")
        out.append(MemCatImage(path=path, category=cat, subcategory=sub, score=score))
    if not out:
        raise MemCatFormatError(f"{csv_path} has a header but no rows")
    return out
