"""The rule for image paths read from a dataset's own files (they stay inside the dataset's image folder),
the error for a data file or folder that is not there, and the one way text files of a dataset are decoded
(UTF-8, no invisible control characters or odd whitespace, numbers as plain decimals).

Why: split files and CSVs are data a user downloads or edits, and the path in them is joined to a
root. An absolute path (``/etc/passwd``) or one that climbs out (``../../x.jpg``) would read a file
that is not part of the dataset — silently, as a wrong training image. Every reader (LaMem splits,
MemCat's CSV) asks :func:`escape_reason` and turns a reason into its own error naming file and line.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from labkit.core.errors import DataError


class MissingDataError(DataError, FileNotFoundError):
    """A data file or folder the user named (``data_root``, a shard, a basis, a video) does not exist.

    Why both parents: it is a :class:`~labkit.core.errors.DataError`, so the command line prints it as one
    line like every other bad input, and still a ``FileNotFoundError``, so callers that caught the built-in
    error before keep working.
    """


def escape_reason(relative: str | PurePath) -> str | None:
    """Why ``relative`` would leave the folder it is joined to (absolute, or a ``..`` part); None if it stays.

    Both POSIX and Windows spellings are checked (``C:\\x.jpg`` and ``..\\x.jpg`` are refused too),
    because split files travel between systems.
    """
    text = str(relative)
    if not text:
        return "is empty"
    for flavour in (PurePosixPath, PureWindowsPath):
        p = flavour(text)
        if p.anchor:  # "/x", "\\x", "C:x", "C:\\x"
            return "is absolute (or names a drive)"
        if ".." in p.parts:
            return "goes up with '..'"
    return None


def read_utf8(path: Path, error: type[DataError], what: str = "file") -> str:
    """The text of ``path`` as UTF-8 (a byte-order mark is dropped), or ``error`` naming the line and byte.

    Why no fallback encoding: split files and CSVs carry file names and captions in many languages, and
    reading a Latin-1 file as anything else turns them into different strings without a word; the user who
    re-saves it as UTF-8 knows what the text says.
    """
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise error(f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}: {e.reason})", path=path,
                    where=raw.count(b"\n", 0, e.start) + 1,
                    fix=f"re-save the {what} as UTF-8 (a spreadsheet or editor may have saved it as Latin-1 / "
                        "Windows-1252)") from None


_CONTROL_NAMES = {"\v": "vertical tab", "\f": "form feed", "\r": "carriage return", "\x00": "NUL",
                  "\x1c": "file separator", "\x1d": "group separator", "\x1e": "record separator",
                  "\x1f": "unit separator", "\x85": "next line"}


def odd_character(text: str) -> str | None:
    """The first character of ``text`` that has no place in a line of a dataset's text file, described
    (``"U+000B (vertical tab) at column 6"``); None if there is none.

    Odd means a control character other than tab, or whitespace other than space and tab (``\\v``, ``\\f``,
    a no-break space, U+2028 …). Why refuse them: Python's ``str.splitlines`` and ``str.split`` treat many of
    them as line or field breaks, so one line silently becomes two entries (or a name gains a separator),
    while inside a name they are invisible and never part of a real dataset's file name. The user who sees
    the code point and column can delete it.
    """
    for col, ch in enumerate(text, start=1):
        if ch == "\t" or ch == " ":
            continue
        if ch.isspace() or unicodedata.category(ch) == "Cc":
            name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, "control character").lower()
            return f"U+{ord(ch):04X} ({name}) at column {col}"
    return None


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def plain_decimal(text: str) -> float | None:
    """``text`` as a float if it is a plain decimal number (ASCII digits, an optional sign, point and exponent);
    None otherwise.

    Why not ``float()`` alone: it also accepts ``0.5_0`` (read as 0.5, Python's digit grouping), digits of
    other scripts and surrounding whitespace — a score that was typed or exported wrong would pass as another
    number. ``nan`` and ``inf`` are not plain decimals either; a caller that wants to say "not finite" asks
    :func:`math.isfinite` on ``float(text)`` itself.
    """
    return float(text) if _DECIMAL.fullmatch(text) else None
