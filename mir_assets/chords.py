"""Chords asset: madmom's major/minor chord segments of the mix and their statistics."""

from dagster import AssetExecutionContext, asset

from mir.chords import chord_features, recognize_chords, write_chords
from mir.info import sidecar_path
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

CHORDS = ".CHORDS"
CHORD_KEYS = ["chord_count", "chord_change_rate", "chord_top", "chord_progression"]


@asset(**feature_asset_args("harmonic", CHORD_KEYS, kinds={"madmom", "duckdb"}))
def chords(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """Chord segments (`<Track>.CHORDS`: `start<TAB>end<TAB>label` per line, seconds with six
    decimals, labels such as `C:maj`, `A:min`, `N` for none) from madmom's chord recogniser
    (`chords.model`: CNN or deep chroma, each with its CRF); `chord_count`,
    `chord_change_rate` (per minute), `chord_top` (the three longest-held chords) and
    `chord_progression` (the most frequent 4-chord run)."""

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        segments = recognize_chords(audio, model=settings.config.chords.model)
        write_chords(sidecar_path(settings.track_dir(track_id), CHORDS), segments)
        return chord_features(segments, audio.duration_s)

    return for_each_track(context, settings, compute)
