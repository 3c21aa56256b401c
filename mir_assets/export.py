"""sat_dataset: the Stable Audio Tools dataset folder, built from the training crops;
sat_dataset_card: its conditioners and card, once over the whole dataset."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, Output

from mir.captions.template import caption_for
from mir.dataset.crops import CAPTIONS
from mir.dataset.files import link_or_copy, write_json
from mir.dataset.sat_export import (
    CONDITIONING_NAME,
    TIMESERIES_SUFFIX,
    conditioning_fragment,
    remove_other_files,
    sidecar,
    sidecar_keys,
    write_dataset_card,
    write_dataset_files,
)
from mir.errors import MissingInput
from mir.info import info_path, read_info
from mir_assets.crops import CROPS_TABLE
from mir_assets.quality import exclude_from_dataset
from mir_assets.runtime import for_each_track, input_cursors
from resources.settings import PipelineSettings


def sat_dataset(
    context: AssetExecutionContext, settings: PipelineSettings, training_crops: dict[str, dict]
) -> Output[dict[str, dict]]:
    """`<dataset>/<Track>/<crop audio>` + `<crop>.json` + `<crop>.TIMESERIES.npz` for every
    crop, and at the root `dataset_config.json` (`dataset_type: audio_dir`) with
    `custom_metadata.py` for stable-audio-tools. The conditioners to merge into a model
    config (`model_config_conditioning.json`) and the dataset's card (`README.md`) read
    every sidecar of the dataset: they are `sat_dataset_card`'s, once per library.

    A sidecar holds `prompt`, `seconds_start`, `seconds_total` and the crop's value of each
    of `export.conditioning_keys` that it has. The prompt is the crop's Music Flamingo
    caption when it has any (its own with `crops.flamingo`, else the track's it carries),
    else the track's, else the template caption built from the crop's own values (its
    tempo, key, loudness, labels). The fragment has a `number` conditioner for each
    configured key that every sidecar of the dataset holds (ranges from the feature table):
    :func:`sat_dataset_card`.

    A track's folder holds exactly its crops of the `crops` table: files of crops that no
    longer exist are removed, and each file is written under a temporary name and renamed
    into place, so a killed run leaves no half-written sample.

    A track whose `audio_quality` flags fall in a category of `export.exclude` gets no
    crops, and its folder is removed; `dataset_excluded` says why ("" when included).
    """
    cursors = input_cursors(context)
    cfg = settings.config.export
    root = settings.config.paths.dataset
    config_path = write_dataset_files(root)
    all_rows = settings.tables.read_crop_rows(CROPS_TABLE, list(context.partition_keys))
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
        track_captions = {k: v for k, v in track_info.items() if k.startswith(CAPTIONS)}
        out_dir = root / track_id
        keep: set[str] = set()
        for row in all_rows.get(track_id, []):
            audio = crops_dir / row["file"]
            values = read_info(crops_dir / f"{audio.stem}.INFO")
            target = out_dir / audio.name
            # a crop's own captions stand alone: none of the track's (a revision, say)
            # may outrank them
            own = any(k.startswith(CAPTIONS) for k in values)
            prompt = caption_for(values if own else {**track_captions, **values})
            prompts.append(prompt)
            # sidecar and series first: the audio, which makes the sample, comes last
            write_json(
                target.with_suffix(".json"),
                sidecar(values, prompt=prompt, seconds_total=total, keys=cfg.conditioning_keys),
            )
            keep.add(target.with_suffix(".json").name)
            series = crops_dir / f"{audio.stem}{TIMESERIES_SUFFIX}"
            if series.exists():
                link_or_copy(series, out_dir / series.name)
                keep.add(series.name)
            link_or_copy(audio, target)
            keep.add(target.name)
        removed = remove_other_files(out_dir, keep)
        return {
            "dataset_crops": len(all_rows.get(track_id, [])),
            "dataset_dir": out_dir.relative_to(settings.config.paths.dataset).as_posix(),
            "dataset_excluded": "",
            "dataset_removed": len(removed),
        }

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
    return Output(result, tags=cursors)


def sat_dataset_card(
    context: AssetExecutionContext, settings: PipelineSettings
) -> MaterializeResult:
    """The dataset's conditioners and card, over every sample of `paths.dataset`: once per
    library (after the tracks' `sat_dataset`), not in each track's run, as both read every
    sidecar. `model_config_conditioning.json`: a `number` conditioner for each configured
    key (`export.conditioning_keys`) that every sidecar holds, its range from the feature
    table; `README.md`: the card (mir/dataset/card.py)."""
    cfg = settings.config.export
    root = settings.config.paths.dataset
    root.mkdir(parents=True, exist_ok=True)
    present, n_sidecars = sidecar_keys(root)
    keys = [k for k in cfg.conditioning_keys if k in present]
    left_out = [k for k in cfg.conditioning_keys if k not in present]
    fragment = conditioning_fragment(
        keys,
        prompt_model=cfg.prompt_model,
        prompt_max_length=cfg.prompt_max_length,
        seconds_max=cfg.seconds_max,
    )
    write_json(root / CONDITIONING_NAME, fragment, indent=2)
    card = write_dataset_card(root, cfg=settings.config)
    if left_out and n_sidecars:
        context.log.warning(
            f"conditioning keys not held by every crop, left out of {CONDITIONING_NAME}: "
            f"{', '.join(left_out)}"
        )
    context.log.info(f"{n_sidecars} samples; conditioners: {', '.join(keys) or 'none'}")
    return MaterializeResult(
        metadata={
            "samples": MetadataValue.int(n_sidecars),
            "conditioning": MetadataValue.path(str(root / CONDITIONING_NAME)),
            "card": MetadataValue.path(str(card)),
            "conditioning_keys": MetadataValue.json(keys),
            "conditioning_keys_left_out": MetadataValue.json(left_out),
        }
    )
