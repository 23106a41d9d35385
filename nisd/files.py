"""Writing results: whole files or nothing, readable as the user's umask says, and CSV
cells that a spreadsheet shows as text.

Every file nisd writes goes through here. A write goes to a temporary file (or folder)
beside its target and is moved in only when complete, so a failed or killed run never
leaves half a result and never replaces an existing one. Temporary files are created
private (``0600``) and given the permissions of an ordinary file under the user's
umask before they are moved in (``0644`` under umask 022), so that a shared folder's
readers can open a report.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nisd.errors import InputError, Problem

__all__ = ["csv_text", "safe_cell", "write_atomic", "write_files"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _file_mode() -> int:
    return 0o666 & ~_umask()


def _target_dir(path: Path, what: str) -> None:
    """Create ``path`` (a folder) or say why it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError([Problem(str(path), f"is a file, not a folder for {what}")]) from None
    except OSError as exc:
        raise InputError([Problem(str(path), f"cannot be created: {exc.strerror}")]) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError([Problem(str(path), "is not writable")])


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to the file ``path`` through a temporary file in its folder.

    Raises
    ------
    InputError
        ``path`` is a folder, or its folder cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError([Problem(str(path), "is a folder: give a file name")])
    _target_dir(path.parent, path.name)
    _clear_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_files(out_dir: str | Path, files: Mapping[str, str]) -> Path:
    """Write every ``name → text`` of ``files`` into ``out_dir``, all or none.

    The files are written into a temporary folder beside ``out_dir`` and moved in only
    when every one is complete; the temporary folder is removed whatever happens.
    Returns ``out_dir``.

    Raises
    ------
    InputError
        ``out_dir`` is a file, or it cannot be created or written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError([Problem(str(out_dir), "is a file, not a folder for the results")])
    _target_dir(out_dir.parent, out_dir.name)
    _clear_leftovers(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-{os.getpid()}-", dir=out_dir.parent))
    try:
        mode = _file_mode()
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
            os.chmod(tmp / name, mode)
        _target_dir(out_dir, "the results")
        for name in files:
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _clear_leftovers(out_dir: Path) -> None:
    """Remove the temporary files and folders of earlier writes of ``out_dir`` whose process
    is gone (a write killed before it could clean up after itself)."""
    for old in out_dir.parent.glob(f".{out_dir.name}-*-*"):
        pid = old.name.removeprefix(f".{out_dir.name}-").split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a string that begins like a formula
    (``= + - @``, tab, carriage return) gets a leading apostrophe (OWASP's rule for CSV
    injection); numbers and other values stay as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with ``\\n`` line ends and every text cell made safe (:func:`safe_cell`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(c) for c in row])
    return buf.getvalue()
