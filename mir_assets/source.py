"""source_audio: the track's byte-exact copy in the library, and what it is."""

import shutil
from pathlib import Path

from dagster import AssetExecutionContext

from mir.audio import extension
from mir.errors import AudioError, MirError
from mir.tracks import file_sha256
from mir_assets.runtime import decoded, for_each_track, share_decoded
from resources.settings import PipelineSettings


def _copy_original(source: Path, dest: Path, sha256: str) -> None:
    """Copy (never move) `source` to `dest` unless an identical copy is already there."""
    if dest.exists() and file_sha256(dest) == sha256:
        return
    tmp = dest.with_name(dest.name + ".partial")
    shutil.copy2(source, tmp)
    if file_sha256(tmp) != sha256:
        tmp.unlink(missing_ok=True)
        raise AudioError(source, "changed while it was being copied; it will be retried")
    tmp.replace(dest)


def source_audio(context: AssetExecutionContext, settings: PipelineSettings) -> dict[str, dict]:
    """The original file copied to `<library>/<Track Name>/full_mix.<ext>`.

    The original is only read. Records `full_mix` (file name), `source_path` (relative to
    `paths.inbox` for a file there, so machines that mount it elsewhere agree),
    `sha256`, `duration_s` (s), `sample_rate` (Hz), `channels` and `format`.
    The file must decode: a broken file fails here, before any feature runs.
    """

    def compute(track_id: str) -> dict:
        row = settings.tables.track(track_id)
        if row is None:
            raise MirError(f"track {track_id!r} is not registered: add its file to the inbox")
        source = Path(row["source_path"])
        if not source.is_file():
            raise AudioError(source, "the original file no longer exists")
        audio = decoded(source)  # fails on unreadable, empty, truncated or non-audio files
        sha = file_sha256(source)
        if sha != row["sha256"]:
            context.log.warning(f"{source} changed since it was registered")
        track_dir = settings.track_dir(track_id)
        track_dir.mkdir(parents=True, exist_ok=True)
        dest = track_dir / f"full_mix.{extension(source)}"
        _copy_original(source, dest, sha)
        share_decoded(dest, audio)  # the copy is the same bytes: decoded once
        return {
            "full_mix": dest.name,
            "source_path": settings.tables.stored_path(source),
            "sha256": sha,
            "duration_s": round(audio.duration_s, 6),
            "sample_rate": audio.sr,
            "channels": audio.channels,
            "format": extension(source),
        }

    return for_each_track(context, settings, compute)
