"""Structure asset: sections with boundaries on downbeats, repetition labels and names.

Its declaration is `mir.families.STRUCTURE`; the asset is a function of its own (not
generated) for the UI: a run of one track shows the picture of its sections.
"""

import base64

from dagster import AssetExecutionContext, MetadataValue

from mir.analysis import read_beat_grid
from mir.info import sidecar_path
from mir.structure import SECTIONS, analyze_structure, sections_png, write_sections
from mir_assets.runtime import decoded, for_each_track, full_mix_path
from resources.settings import PipelineSettings

#: tracks of a batch run whose form the run's metadata lists
FORMS_SHOWN = 200


def structure(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    source_audio: dict[str, dict],
    beat_grid: dict[str, dict],
) -> dict[str, dict]:
    """Sections (`<Track>.SECTIONS`) on the downbeats of the beat grid, with labels, names,
    confidences, loudness and energy; `section_count`, `form`, `section_mean_seconds`,
    `section_grid`. A run of one track shows its form and a picture of the sections over
    the short-term loudness; a batch lists the forms of its tracks."""
    pictures: dict[str, bytes] = {}
    single = len(context.partition_keys) == 1

    def compute(track_id: str) -> dict:
        track_dir = settings.track_dir(track_id)
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        beats, downbeats = read_beat_grid(track_dir, beat_grid.get(track_id))
        found = analyze_structure(audio, beats, downbeats, settings.config.structure)
        write_sections(sidecar_path(track_dir, SECTIONS), found.sections)
        if single:
            pictures[track_id] = sections_png(found, title=f"{track_id}: {found.form}")
        return {**found.values(), "section_grid": found.grid}

    result = for_each_track(context, settings, compute)
    if pictures:
        ((_, png),) = pictures.items()
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
