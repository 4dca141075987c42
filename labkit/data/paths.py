"""The rule for image paths read from a dataset's own files (they stay inside the dataset's image folder),
the error for a data file or folder that is not there, and the one way text files of a dataset are decoded.

Why: split files and CSVs are data a user downloads or edits, and the path in them is joined to a
root. An absolute path (``/etc/passwd``) or one that climbs out (``../../x.jpg``) would read a file
that is not part of the dataset — silently, as a wrong training image. Every reader (LaMem splits,
MemCat's CSV) asks :func:`escape_reason` and turns a reason into its own error naming file and line.
"""

from __future__ import annotations

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
