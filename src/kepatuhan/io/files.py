"""Files in and out, safely.

Reading: the path must name a regular file (a FIFO, a device such as ``/dev/zero``, a
directory, or a link to one of them is refused before a byte is read), no larger than the
size limit, and the limit holds *while* reading too (a file that grows, or lies in
``stat``, is cut off at limit + 1 bytes and refused). Text is UTF-8 (a BOM is dropped).

Writing: :func:`write_atomic` writes to a temporary file in the target's directory and
renames it over the target (:func:`os.replace`), so a failure leaves either the old file or
nothing, never half a file. :func:`check_output` refuses, before anything is computed or
written, an output path in a missing directory, a directory, or one that is an input file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import InputFileError, KepatuhanError, Problem

__all__ = [
    "MAX_BYTES",
    "OutputFileError",
    "check_file",
    "check_output",
    "read_bytes",
    "read_text",
    "same_file",
    "write_atomic",
    "write_text_atomic",
]

#: The largest input file read (bytes); larger files are refused with a clear error.
#: Override with the environment variable ``KEPATUHAN_MAX_BYTES``.
MAX_BYTES = 2 * 1024**3

#: Bytes read at a time, so the size limit is enforced while reading.
_CHUNK = 1 << 20


class OutputFileError(KepatuhanError):
    """An output file cannot be written: missing directory, not writable, or an input file."""


def _limit() -> int:
    raw = os.environ.get("KEPATUHAN_MAX_BYTES")
    return int(raw) if raw and raw.isdigit() and len(raw) < 20 else MAX_BYTES


def _kind(mode: int) -> str:
    """A plain name for a file type that is not a regular file."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _too_large(size: int | str, where: str) -> InputFileError:
    return InputFileError(
        Problem(
            f"file too large: {size} bytes, the limit is {_limit()} (KEPATUHAN_MAX_BYTES)",
            path=where,
        )
    )


def check_file(path: str | os.PathLike[str]) -> Path:
    """The path as a Path, after checking it exists, is a regular file and is not too big.

    Links are followed (``os.stat``), so a link to ``/dev/zero`` is refused as a device.
    """
    p = Path(path)
    where = str(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputFileError(
            Problem("no such file", path=where, expected="a file", found="nothing")
        ) from None
    except OSError as exc:  # permission denied on a folder, a loop of links, a name too long
        raise InputFileError(Problem(f"cannot read: {exc.strerror}", path=where)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputFileError(
            Problem(
                "is a directory, expected a file",
                path=where,
                expected="a file",
                found="a directory",
            )
        )
    if not stat.S_ISREG(st.st_mode):
        kind = _kind(st.st_mode)
        raise InputFileError(
            Problem(
                f"is {kind}, expected a regular file",
                path=where,
                expected="a regular file",
                found=kind,
            )
        )
    if st.st_size > _limit():
        raise _too_large(st.st_size, where)
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


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The whole file as bytes, after :func:`check_file`, never more than the limit.

    The file is read in chunks and refused at limit + 1 bytes: ``stat`` can lie (a file
    growing while it is read, a special file system), the limit must not.
    """
    p = check_file(path)
    where = str(path)
    limit = _limit()
    chunks: list[bytes] = []
    got = 0
    try:
        with open(p, "rb") as f:
            while got <= limit:
                chunk = f.read(min(_CHUNK, limit + 1 - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except FileNotFoundError:  # removed between the check and the open
        raise InputFileError(
            Problem("no such file (it vanished while being read)", path=where)
        ) from None
    except OSError as exc:
        raise InputFileError(Problem(f"cannot read: {exc.strerror}", path=where)) from None
    if got > limit:
        raise _too_large(f"more than {limit}", where)
    return b"".join(chunks)


def read_text(path: str | os.PathLike[str]) -> str:
    """The whole file as text, after every check above."""
    return decode(read_bytes(path), str(path))


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name the same file (after links; False if either is absent)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def check_output(path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]) -> Path:
    """Refuse an output path before anything is computed or written.

    Refused: an output that is one of ``inputs`` (the same file after links), a directory,
    a path in a directory that does not exist, is not a directory or is not writable.
    """
    p = Path(path)
    where = str(path)
    for inp in inputs:
        if same_file(p, inp):
            raise OutputFileError(
                Problem(
                    f"the output is the input file {inp}; refusing to overwrite it",
                    path=where,
                    expected="a new file",
                    found="an input file",
                )
            )
    if p.is_dir():
        raise OutputFileError(
            Problem("is a directory, expected a file to write", path=where, found="a directory")
        )
    parent = p.parent
    if not parent.is_dir():
        found = "nothing" if not parent.exists() else "not a directory"
        raise OutputFileError(
            Problem(
                f"cannot write: the directory {parent} does not exist",
                path=where,
                expected="an existing directory",
                found=found,
            )
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputFileError(
            Problem(
                f"cannot write: the directory {parent} is not writable",
                path=where,
                expected="a writable directory",
                found="permission denied",
            )
        )
    return p


def _mode_for(target: Path) -> int:
    """The permissions the written file gets: those of the file it replaces, or the umask's."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write a file all at once: ``write(tmp)`` fills a temporary file, renamed to ``path``.

    The temporary file is in the same directory (so the rename is atomic) and keeps the
    target's suffix (writers that choose the format by it still see ``.csv`` or ``.png``).
    If ``write`` raises, the temporary file is removed and ``path`` is untouched. An
    :class:`OSError` (no directory, no permission, disk full) becomes
    :class:`OutputFileError` naming ``path``.
    """
    p = Path(path)
    where = str(path)
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=p.parent if str(p.parent) else ".", prefix=f".{p.name}.", suffix=p.suffix
        )
    except OSError as exc:
        raise OutputFileError(Problem(f"cannot write: {exc.strerror}", path=where)) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _mode_for(p))
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputFileError(Problem(f"cannot write: {exc.strerror or exc}", path=where)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`write_atomic` of UTF-8 text."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
