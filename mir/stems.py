"""Stems of a track folder: `drums`, `bass`, `other`, `vocals` in any supported format."""

from __future__ import annotations

from pathlib import Path

from mir.audio import AUDIO_EXTENSIONS
from mir.errors import MirError
from mir.feature_table import STEMS as STEM_NAMES

# preferred when a stem exists in several formats: lossless first
_PREFERENCE = ("flac", "wav", "aiff", "aif", "ogg", "mp3", "m4a", "aac")


class StemsMissing(MirError):
    """The stems a feature needs are not in the track folder."""


def find_stems(track_dir: str | Path, names=STEM_NAMES) -> dict[str, Path]:
    """The stem files present in `track_dir` (never a sub-folder), name -> path."""
    track_dir = Path(track_dir)
    found = {}
    for name in names:
        for ext in _PREFERENCE:
            if ext in AUDIO_EXTENSIONS and (track_dir / f"{name}.{ext}").is_file():
                found[name] = track_dir / f"{name}.{ext}"
                break
    return found


#: the separator that gives all four stems, for the message of a model that gives fewer
FOUR_STEM_HINT = (
    "separation.backend: demucs with separation.demucs.model: htdemucs (the default), or a "
    "BS-RoFormer whose yaml lists drums, bass, other and vocals in training.instruments"
)


def _separated_by(track_dir: Path) -> tuple[str, list[str]] | None:
    """(model, stems it wrote) from the track's `.INFO`, when the `stems` asset ran."""
    from mir.info import InfoError, info_path, read_info

    try:
        info = read_info(info_path(track_dir))
    except InfoError:
        return None
    files = info.get("stem_files")
    if not isinstance(files, list) or not files:
        return None
    model = f"{info.get('stem_backend', '?')}: {info.get('stem_model', '?')}"
    return model, [Path(str(f)).stem for f in files]


def missing_stems_message(track_dir: str | Path, missing: list[str]) -> str:
    """Why `missing` stems are not in `track_dir`: the separator that made the track's
    stems does not produce them (and which does), or the stems were never made."""
    track_dir = Path(track_dir)
    made = _separated_by(track_dir)
    names = ", ".join(missing)
    if made is not None:
        model, produced = made
        absent = [n for n in missing if n not in produced]
        if absent:
            return (
                f"{track_dir}: no {names} stem(s): the separator that made this track's stems "
                f"({model}) gives {', '.join(produced)} only, not {', '.join(absent)}; a "
                f"four-stem separator gives them ({FOUR_STEM_HINT}): configure it and "
                "materialize `stems` again"
            )
    return (
        f"{track_dir}: no {names} stem(s) (expected <stem>.flac/.wav/.mp3/... in the "
        "track folder); materialize the `stems` asset for this track first"
    )


def require_stems(track_dir: str | Path, names) -> dict[str, Path]:
    """Like :func:`find_stems`, but every name in `names` must be there.

    Raises
    ------
    StemsMissing
        Naming the folder and the missing stems, and, when the track's separator does not
        produce them, that model and the one that does.
    """
    found = find_stems(track_dir, names)
    missing = [n for n in names if n not in found]
    if missing:
        raise StemsMissing(missing_stems_message(track_dir, missing))
    return found
