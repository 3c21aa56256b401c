"""Harmonic assets: chroma, HPCP, TIV and key of the track; harmonic motion of stems."""

from dagster import AssetExecutionContext, asset

from mir import analysis
from mir.feature_table import HARMONIC_STEMS
from mir.stems import find_stems, require_stems
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

HARMONIC_KEYS = [
    *(f"chroma_{i}" for i in range(12)), *(f"hpcp_{i}" for i in range(12)),
    *(f"tiv_{i}" for i in range(12)), "tonic", "tonic_strength", "key_confidence",
    "key_source",
]  # fmt: skip
STEM_HARMONIC_KEYS = [f"harmonic_{k}_{s}" for s in HARMONIC_STEMS for k in ("movement", "variance")]


@asset(**feature_asset_args("harmonic", HARMONIC_KEYS, captions=True, kinds={"essentia", "duckdb"}))
def harmonic_features(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`chroma_0..11`, `hpcp_0..11` (bin 0 = C), `tiv_0..11`, `tonic` (C = 0),
    `tonic_strength`, `tonic_scale`, `key_confidence` (0-1), `key_source`, read from bass +
    other stems when present, else the mix (`harmonic_source` says which). The key is the
    consensus of Essentia's edmm and edma profiles and madmom's key CNN, with the tonic
    chord naming it among close keys (mir.harmonic.combine_key_opinions)."""

    def compute(track_id: str) -> dict:
        mix = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        stems = {
            n: decoded(p)
            for n, p in find_stems(settings.track_dir(track_id), HARMONIC_STEMS).items()
        }
        return analysis.harmonic(mix, stems)

    return for_each_track(context, settings, compute)


@asset(
    **feature_asset_args(
        "harmonic",
        STEM_HARMONIC_KEYS,
        needs_stems=True,
        deps=["stems"],
        kinds={"librosa", "duckdb"},
    )
)
def stem_harmonic(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`harmonic_movement_<stem>` and `harmonic_variance_<stem>` of the bass and other stems."""

    def compute(track_id: str) -> dict:
        stems = {
            n: decoded(p)
            for n, p in require_stems(settings.track_dir(track_id), HARMONIC_STEMS).items()
        }
        return analysis.stem_harmonic(stems)

    return for_each_track(context, settings, compute)
