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


def require_stems(track_dir: str | Path, names) -> dict[str, Path]:
    """Like :func:`find_stems`, but every name in `names` must be there.

    Raises
    ------
    StemsMissing
        Naming the folder and the missing stems.
    """
    found = find_stems(track_dir, names)
    missing = [n for n in names if n not in found]
    if missing:
        raise StemsMissing(
            f"{track_dir}: no {', '.join(missing)} stem(s) (expected <stem>.flac/.wav/.mp3/... in the "
            "track folder); materialize the `stems` asset for this track first"
        )
    return found
