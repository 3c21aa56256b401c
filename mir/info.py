"""Track files: the `.INFO` JSON and the `.BEATS_GRID` / `.DOWNBEATS` / `.ONSETS` lists.

`.INFO` is a flat JSON object (UTF-8, 2-space indent, `ensure_ascii=False`) that is only
ever merged, never deleted: :func:`safe_update` takes a lock file, reads, merges, writes a
temporary file, fsyncs it and renames it over the original, so a reader always sees a
complete file and concurrent writers never lose each other's keys.
"""

from __future__ import annotations

import errno
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from mir.errors import MirError

LOCK_TIMEOUT_S = 120.0


class InfoError(MirError):
    """A `.INFO` file that cannot be read or written."""


#: what a read-only file system or a folder without write permission answers
_NOT_WRITABLE_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def _not_writable(folder: Path, detail: str = "") -> InfoError:
    try:
        read_only_fs = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only_fs = False
    why = "it is on a read-only file system" if read_only_fs else "no write permission"
    return InfoError(
        f"library folder {folder} is not writable ({why}{'; ' + detail if detail else ''}): "
        "nothing was written for this track; make the folder writable and run it again"
    )


def require_writable(folder: str | os.PathLike) -> None:
    """Raise :class:`InfoError` unless new files can be written in `folder`.

    A folder that does not exist yet must be creatable: its nearest existing parent
    (the library, for a new track) is checked instead.
    """
    folder = Path(folder)
    existing = folder
    while not existing.is_dir() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        detail = "" if existing == folder else f"cannot create {folder.name}"
        raise _not_writable(existing, detail)


def info_path(track_dir: str | os.PathLike) -> Path:
    """`<track dir>/<folder name>.INFO` (the name follows the folder, not the audio).

    Parameters
    ----------
    track_dir : path-like
        The track's folder in the library.

    Returns
    -------
    Path
    """
    track_dir = Path(track_dir)
    return track_dir / f"{track_dir.name}.INFO"


def sidecar_path(track_dir: str | os.PathLike, suffix: str) -> Path:
    """`<track dir>/<folder name><suffix>`, e.g. suffix ".BEATS_GRID"."""
    track_dir = Path(track_dir)
    return track_dir / f"{track_dir.name}{suffix}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def read_info(path: str | os.PathLike) -> dict[str, Any]:
    """Read a `.INFO`; a missing file reads as `{}`.

    Parameters
    ----------
    path : path-like
        The `.INFO` file (:func:`info_path`).

    Returns
    -------
    dict
        `{key: value}` as stored (JSON: numbers, text, lists, objects; null for a value
        undefined for the track); `{}` for a missing or empty file.

    Raises
    ------
    InfoError
        If the file exists but is not a JSON object.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise InfoError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InfoError(f"{path}: not a JSON object")
    return data


def _quarantine(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    return target


def safe_update(path: str | os.PathLike, values: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `values` into the `.INFO` at `path` atomically; new values win.

    An existing file that is not valid JSON is moved aside to
    `<name>.corrupt-<timestamp>` (reported with a warning) rather than overwritten.
    Writers of one file wait for each other (a lock file beside it, up to
    :data:`LOCK_TIMEOUT_S` = 120 s).

    Parameters
    ----------
    path : path-like
        The `.INFO` file; its folder is created when missing.
    values : mapping
        `{key: value}` to merge; numpy numbers and arrays are written as JSON numbers
        and lists.

    Returns
    -------
    dict
        The merged contents as written.
    """
    import warnings

    path = Path(path)
    lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()  # creates the lock file: the first write into the folder
    except OSError as exc:
        if exc.errno in _NOT_WRITABLE_ERRNOS:
            folder = path.parent
            while not folder.is_dir() and folder != folder.parent:
                folder = folder.parent  # a new track: the library itself refused
            created = Path(exc.filename or path).name
            raise _not_writable(folder, f"cannot create {created}") from exc
        raise
    try:
        try:
            data = read_info(path)
        except InfoError as exc:
            moved = _quarantine(path)
            warnings.warn(f"{exc}; moved aside to {moved.name}", stacklevel=2)
            data = {}
        data.update(_jsonable(dict(values)))
        _atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    finally:
        lock.release()
    return data


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in _NOT_WRITABLE_ERRNOS:
            raise _not_writable(path.parent, f"cannot write {path.name}") from exc
        # a full disk or a read-only library: say so, the previous file is untouched
        raise InfoError(
            f"cannot write {path}: {exc.strerror or exc} (is the disk full or the folder read-only?)"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # make the rename itself durable
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_times(path: str | os.PathLike, times: np.ndarray | list[float]) -> Path:
    """Write event times (s) one per line with six decimals, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    times = np.asarray(times, dtype=float).ravel()
    _atomic_write_text(path, "".join(f"{t:.6f}\n" for t in times))
    return path


def read_sidecar_text(path: str | os.PathLike, *, written_by: str | None = None) -> str | None:
    """The text of a sidecar file (`.BEATS_GRID`, `.CHORDS`, ...), or None when it does not
    exist and `written_by` is not given.

    Raises
    ------
    MissingInput
        If the file does not exist and `written_by` names the asset that writes it.
    """
    from mir.errors import MissingInput

    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if written_by:
            raise MissingInput(path, written_by) from None
        return None


def read_times(path: str | os.PathLike, *, written_by: str | None = None) -> np.ndarray:
    """Read a `.BEATS_GRID` / `.DOWNBEATS` / `.ONSETS` file.

    Parameters
    ----------
    path : path-like
        The file: one time in seconds per line.
    written_by : str, optional
        The asset that writes it (`beat_grid`, ...): a missing file is then an error.

    Returns
    -------
    np.ndarray
        Shape (n,), float64, the times in seconds (≥ 0) in the file's order; empty for an
        empty file, or a missing one without `written_by`.

    Raises
    ------
    MissingInput
        If the file does not exist and `written_by` names the asset that writes it (a
        missing grid is never read as "no beats"); without `written_by`, missing reads as
        empty.
    """
    text = read_sidecar_text(path, written_by=written_by)
    if text is None:
        return np.zeros(0)
    return np.array([float(line) for line in text.split() if line.strip()], dtype=float)
