"""Structure asset: sections with boundaries on downbeats, repetition labels and names."""

import base64

from dagster import AssetExecutionContext, MetadataValue, asset

from mir.feature_table import Feature
from mir.info import sidecar_path
from mir.structure import analyze_structure, sections_png, write_sections
from mir_assets.rhythm import read_beat_grid
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

SECTIONS = ".SECTIONS"
FEATURES = [
    Feature("section_count", 1, 100_000, "", "sections of the track in .SECTIONS"),
    Feature("section_mean_seconds", 0, 86400, "s", "mean length of the track's sections"),
]
#: `form`: the sections in order, intros and outros by name, the rest by repetition
#: label ("intro A B A B C B outro"); `section_grid`: what the boundaries snap to
#: ("downbeats"; "beats", every 4th, from a tracker without bars; "seconds" without beats)
STRUCTURE_KEYS = ["section_count", "form", "section_mean_seconds", "section_grid"]
#: tracks of a batch run whose form the run's metadata lists
FORMS_SHOWN = 200


@asset(
    **feature_asset_args(
        "structure", STRUCTURE_KEYS, features=FEATURES, kinds={"numpy", "matplotlib", "duckdb"}
    )
)
def structure(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    source_audio: dict[str, dict],
    beat_grid: dict[str, dict],
) -> dict[str, dict]:
    """Sections (`<Track>.SECTIONS`: `start`, `end`, `label`, `name`, `label_confidence`,
    `name_confidence`, `lufs`, `energy`, tab-separated, one section per line), every
    boundary on a downbeat of the beat grid; `section_count`, `form` and
    `section_mean_seconds`. Labels (A, B, ...) mark repeated material; names are intro,
    verse, chorus, bridge, break or outro (mir/structure.py). No model: bar-level
    self-similarity of harmony and timbre from the intermediates the other features
    share. A run of one track shows its form and a picture of the sections over the
    short-term loudness; a batch lists the forms."""
    pictures: dict[str, bytes] = {}
    single = len(context.partition_keys) == 1

    def compute(track_id: str) -> dict:
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        beats, downbeats = read_beat_grid(settings, track_id, beat_grid)
        found = analyze_structure(audio, beats, downbeats, settings.config.structure)
        write_sections(sidecar_path(settings.track_dir(track_id), SECTIONS), found.sections)
        if single:
            pictures[track_id] = sections_png(found, title=f"{track_id}: {found.form}")
        return {**found.values(), "section_grid": found.grid}

    result = for_each_track(context, settings, compute)
    if pictures:
        ((track_id, png),) = pictures.items()
        embedded = "data:image/png;base64," + base64.b64encode(png).decode()
        context.add_output_metadata({"sections": MetadataValue.md(f"![sections]({embedded})")})
    elif result:
        rows = "\n".join(
            f"| {tid} | {v['form']} | {v['section_count']} |"
            for tid, v in list(result.items())[:FORMS_SHOWN]
        )
        context.add_output_metadata(
            {"forms": MetadataValue.md(f"| track | form | sections |\n|---|---|---|\n{rows}")}
        )
    return result
