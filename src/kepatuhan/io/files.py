"""Opening input files safely: existence, directories, size limits, UTF-8 (with BOM)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputFileError, Problem

__all__ = ["MAX_BYTES", "read_text"]

#: The largest input file read (bytes); larger files are refused with a clear error.
#: Override with the environment variable ``KEPATUHAN_MAX_BYTES``.
MAX_BYTES = 2 * 1024**3


def _limit() -> int:
    raw = os.environ.get("KEPATUHAN_MAX_BYTES")
    return int(raw) if raw and raw.isdigit() else MAX_BYTES


def check_file(path: str | os.PathLike[str]) -> Path:
    """The path as a Path, after checking it exists, is a file and is not too big."""
    p = Path(path)
    where = str(path)
    if not p.exists():
        raise InputFileError(
            Problem("no such file", path=where, expected="a file", found="nothing")
        )
    if p.is_dir():
        raise InputFileError(
            Problem(
                "is a directory, expected a file",
                path=where,
                expected="a file",
                found="a directory",
            )
        )
    size = p.stat().st_size
    if size > _limit():
        raise InputFileError(
            Problem(
                f"file too large: {size} bytes, the limit is {_limit()} (KEPATUHAN_MAX_BYTES)",
                path=where,
            )
        )
    return p


def decode(data: bytes, where: str) -> str:
    """UTF-8 text (a leading byte-order mark is dropped); non-UTF-8 raises with the offset."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            Problem(
                f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                "save the file as UTF-8",
                path=where,
                line=line,
                expected="UTF-8 text",
                found=f"byte 0x{data[exc.start]:02x}",
            )
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputFileError(
            Problem("a NUL byte: this looks like a binary file", path=where, line=line)
        )
    return text


def read_text(path: str | os.PathLike[str]) -> str:
    """The whole file as text, after every check above."""
    p = check_file(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputFileError(Problem(f"cannot read: {exc.strerror}", path=str(path))) from None
    return decode(data, str(path))
