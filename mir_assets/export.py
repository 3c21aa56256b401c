"""sat_dataset: the Stable Audio Tools dataset folder, built from the training crops."""

import json

from dagster import AssetExecutionContext, MetadataValue, asset

from mir.captions import caption_for
from mir.errors import MissingInput
from mir.info import info_path, read_info
from mir.sat_export import link_or_copy, sidecar, write_dataset_files
from mir_assets.crops import CROPS_TABLE
from mir_assets.quality import exclude_from_dataset
from mir_assets.runtime import feature_asset_args, for_each_track
from resources.duckdb_tables import read_crop_rows
from resources.settings import PipelineSettings


@asset(**feature_asset_args("export", [], deps=["captions", "audio_quality"], kinds={"json"}))
def sat_dataset(
    context: AssetExecutionContext, settings: PipelineSettings, training_crops: dict[str, dict]
) -> dict[str, dict]:
    """`<dataset>/<Track>/<crop audio>` + `<crop>.json` (prompt, seconds_start, seconds_total,
    numeric features) for every crop, and at the root `dataset_config.json`
    (`dataset_type: audio_dir`) with `custom_metadata.py` for stable-audio-tools.

    The prompt is the crop's Music Flamingo caption when one exists, else the track's,
    else the template caption built from the crop's own features.

    A track whose `audio_quality` flags fall in a category of `export.exclude` gets no
    crops, and its folder is removed; `dataset_excluded` says why ("" when included).
    """
    root = settings.config.paths.dataset
    config_path = write_dataset_files(root)
    all_rows = read_crop_rows(settings.tables, CROPS_TABLE, list(context.partition_keys))
    prompts: list[str] = []
    excluded = exclude_from_dataset(settings, root)  # removes their folders

    def compute(track_id: str) -> dict:
        if track_id in excluded:
            return {"dataset_crops": 0, "dataset_dir": "", "dataset_excluded": excluded[track_id]}
        crops_dir = settings.config.paths.crops / track_id
        track_info = read_info(info_path(settings.track_dir(track_id)))
        if "duration_s" not in track_info:  # seconds_total is never made up
            raise MissingInput(
                f"duration_s in {info_path(settings.track_dir(track_id))}", "source_audio"
            )
        total = float(track_info["duration_s"])
        track_captions = {k: v for k, v in track_info.items() if k.startswith("music_flamingo_")}
        count = 0
        for row in all_rows.get(track_id, []):
            audio = crops_dir / row["file"]
            values = read_info(crops_dir / f"{audio.stem}.INFO")
            target = root / track_id / audio.name
            link_or_copy(audio, target)
            prompt = caption_for({**track_captions, **values})
            prompts.append(prompt)
            target.with_suffix(".json").write_text(
                json.dumps(
                    sidecar(values, prompt=prompt, seconds_total=total),
                    indent=1,
                    ensure_ascii=False,
                )
            )
            count += 1
        return {"dataset_crops": count, "dataset_dir": str(root / track_id), "dataset_excluded": ""}

    result = for_each_track(context, settings, compute)
    context.add_output_metadata(
        {
            "dataset_config": MetadataValue.path(str(config_path)),
            "sample_prompt": MetadataValue.text(prompts[0] if prompts else ""),
            "dataset_excluded": MetadataValue.json(
                {t: excluded[t] for t in context.partition_keys if t in excluded}
            ),
        }
    )
    return result
