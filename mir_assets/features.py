"""The generated assets: one per family with a computation of its own (`Family.compute`).

Each reads the decoded mix, the stems and the beat grid its declaration asks for, calls
the family's function per track (:func:`mir_assets.runtime.for_each_track`), and hands
the values to the feature store; sidecar files go to the track folder and frame series
to the `timeseries` table.
"""

import numpy as np
from dagster import AssetExecutionContext, AssetIn, AssetsDefinition, asset

from mir.analysis import read_beat_grid
from mir.config import MasterConfig
from mir.family import Family, Track
from mir.stems import find_stems, require_stems
from mir_assets.runtime import decoded, family_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings


def feature_asset(family: Family, cfg: MasterConfig) -> AssetsDefinition:
    """The asset of a family with a computation: its arguments from the declaration; its
    inputs `source_audio`, `beat_grid` when it needs beats, and the assets it `reads`
    (their values of each track are the track's `values`)."""
    names = ["source_audio", *(["beat_grid"] if family.beats else []), *family.reads]
    ins = {name: AssetIn() for name in dict.fromkeys(names)}

    def compute_all(
        context: AssetExecutionContext, settings: PipelineSettings, **inputs: dict[str, dict]
    ) -> dict[str, dict]:
        source_audio, beat_grid = inputs["source_audio"], inputs.get("beat_grid")

        def compute(track_id: str) -> dict:
            track_dir = settings.track_dir(track_id)
            beats = downbeats = None
            if family.beats:
                beats, downbeats = read_beat_grid(track_dir, beat_grid.get(track_id))
            stems = {}
            if family.stems:
                find = require_stems if family.stems_required else find_stems
                stems = {n: decoded(p) for n, p in find(track_dir, family.stems).items()}
            path = full_mix_path(settings, track_id, source_audio[track_id])
            values: dict = {}
            for name in family.reads:
                values.update(inputs[name][track_id])  # KeyError: not stored for this track
            track = Track(
                audio=lambda: decoded(path),  # per-stem families never decode the mix
                config=settings.config,
                stems=stems,
                beats=beats,
                downbeats=downbeats,
                out_dir=track_dir,
                values=values,
            )
            result = family.run(track)
            if track.series:
                settings.tables.write_arrays(
                    track_id, -1, {k: np.asarray(v) for k, v in track.series.items()}
                )
            return result

        return for_each_track(context, settings, compute)

    return asset(ins=ins, **family_asset_args(family, cfg))(compute_all)
