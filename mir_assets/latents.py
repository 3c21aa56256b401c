"""The pre-encoded latent corpus: the windows of every track through the configured
autoencoder, with their sidecars, series, controls, captions and card."""

import json

import numpy as np
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    MetadataValue,
    asset_check,
)
from filelock import FileLock

from mir.captions.template import template_caption
from mir.dataset import corpus as corpus_lib
from mir.dataset.sat_export import conditioning_values, write_json
from mir.dataset.timeseries import read_npz
from mir.dataset.windows import Window
from mir.errors import ModelNotFound
from mir.info import info_path, read_info, sidecar_path
from mir.latents.autoencoders import check_autoencoder
from mir.latents.presets import Preset, autoencoder_dir, check_window_frames, preset
from mir_assets.runtime import decoded, for_each_track, full_mix_path, model_failure
from mir_assets.timeseries import WINDOWS_NPZ
from resources.gpu import GpuResource
from resources.settings import PipelineSettings

#: the licence of each autoencoder's weights, for the card
LICENCES = {
    "same-l": "Stability AI Community License (stabilityai/SAME-L)",
    "same-s": "Stability AI Community License (stabilityai/SAME-S)",
    "sao-vae": "Stability AI Community License (stabilityai/stable-audio-open-1.0)",
}


def corpus_root(settings: PipelineSettings, p: Preset):
    return settings.config.paths.latents / p.name


def model_dir(settings: PipelineSettings, p: Preset):
    return autoencoder_dir(settings.config.latents, p)


def _windows(meta: dict, p: Preset) -> list[Window]:
    return [
        Window(
            i,
            s,
            s + meta["frames"] * p.samples_per_frame,
            v,
            p.sample_rate,
            meta["frames"],
            p.samples_per_frame,
        )
        for i, (s, v) in enumerate(zip(meta["starts"], meta["valid"], strict=True))
    ]


def captions_of(values: dict, window_values: dict) -> dict[str, str]:
    """The caption tiers of an item: the template caption of the track's values with the
    window's, and the track's short and full model captions where they exist."""
    tiers = {"template": template_caption({**values, **window_values})}
    for tier, keys in (
        ("short", ("music_flamingo_short_genre", "music_flamingo_genre_mood")),
        ("full", ("music_flamingo_full",)),
    ):
        for key in keys:
            text = values.get(key)
            if isinstance(text, str) and text.strip():
                tiers[tier] = text.strip()
                break
    return tiers


def latents(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    gpu: GpuResource,
    source_audio: dict[str, dict],
    latent_windows: dict[str, dict],
) -> dict[str, dict]:
    """Every latent window of the track encoded with the preset's autoencoder (loaded once
    per run on the GPU resource, batched, stored float16) into the corpus
    `<latents>/<preset>/mix/`: `NNNNNN.npy` (C, T), `NNNNNN.json` (prompt, seconds_start,
    seconds_total, padding_mask, track, source path, samples, relative position and the
    conditioning values of `export.conditioning_keys`), `NNNNNN.TIMESERIES.npz` (every
    series pooled to T), `filelist.txt`, `silence.npy`, `details.json`, `README.md` (the
    card). Beside it: `mix_ctrl/` (one C x T control array per item and their
    normalisation), `captions.json`, `items.json` and `sat_pre_encoded.json`
    (stable-audio-tools' pre_encoded dataset config).

    Ids are stable: a window keeps its id; only windows whose audio or plan changed are
    encoded again. Without the autoencoder's files the asset fails with the missing file
    and its config key (`mir run` leaves it out)."""
    cfg = settings.config.latents
    p = preset(cfg.preset)
    frames = check_window_frames(p, cfg.window_frames)
    folder = model_dir(settings, p)
    try:
        check_autoencoder(p.encoder, folder)
    except ModelNotFound as exc:
        raise model_failure(exc) from exc
    from mir.latents.autoencoders import load_autoencoder, preset_check

    ae = gpu.model(("latents", p.encoder, str(folder)), lambda: load_autoencoder(p.encoder, folder))
    preset_check(p, ae)
    root = corpus_root(settings, p)
    paths = corpus_lib.corpus_paths(root)
    corpus, ctrl = paths["corpus"], paths["ctrl"]
    corpus.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / ".lock"))
    keys = settings.config.export.conditioning_keys
    encoded_total = 0

    def compute(track_id: str) -> dict:
        nonlocal encoded_total
        track_dir = settings.track_dir(track_id)
        mix_path = full_mix_path(settings, track_id, source_audio[track_id])
        values = read_info(info_path(track_dir))
        source_id = str(
            values.get("sha256") or f"{mix_path.stat().st_size}:{mix_path.stat().st_mtime_ns}"
        )
        arrays, meta = read_npz(sidecar_path(track_dir, WINDOWS_NPZ))
        if meta.get("preset") != p.name or int(meta.get("frames", 0)) != frames:
            raise ValueError(
                f"{WINDOWS_NPZ} was planned for {meta.get('preset')} at {meta.get('frames')} "
                f"frames, not {p.name} at {frames}: materialize latent_windows again"
            )
        windows = _windows(meta, p)
        audio = decoded(mix_path)
        stereo = None
        track_s = meta["n_samples"] / p.sample_rate
        with lock:
            index = corpus_lib.ItemIndex.load(paths["items"])
            todo: list[tuple[str, Window]] = []
            names = {}
            for w in windows:
                name = index.assign(track_id, w.index)
                names[w.index] = name
                plan = corpus_lib.window_plan(w, preset=p.name, source_id=source_id)
                if index.items[name]["plan"] != plan or not (corpus / f"{name}.npy").is_file():
                    todo.append((name, w))
                index.items[name]["plan"] = plan
            # windows of an earlier plan that no longer exist
            removed = [n for wi, n in index.of_track(track_id).items() if wi >= len(windows)]
            for name in removed:
                corpus_lib.remove_item(corpus, ctrl, name)
                del index.items[name]
            latents_of: dict[str, np.ndarray] = {}
            if todo:
                if audio.sr == p.sample_rate:
                    stereo = audio.stereo()
                else:
                    from mir.audio import resample

                    st = audio.stereo()
                    stereo = np.stack(
                        [
                            resample(st[:, c].copy(), orig_sr=audio.sr, target_sr=p.sample_rate)
                            for c in range(2)
                        ],
                        axis=1,
                    )
                batch = np.stack([corpus_lib.window_audio(stereo, w) for _, w in todo])
                encoded = ae.encode(batch, batch_size=cfg.batch_size)
                latents_of = {name: z for (name, _), z in zip(todo, encoded, strict=True)}
                encoded_total += len(todo)
            captions_path = paths["captions"]
            captions = (
                json.loads(captions_path.read_text(encoding="utf-8"))
                if captions_path.is_file()
                else {}
            )
            for name in removed:
                captions.pop(name, None)
            fields = [k for k in arrays if k != "padding_mask"]
            for w in windows:
                name = names[w.index]
                window_values = {"bpm": values.get("bpm")} if values.get("bpm_is_defined") else {}
                tiers = captions_of(values, window_values)
                captions[name] = tiers
                position = w.start / meta["n_samples"]
                mask = w.padding_mask()
                item_series = {k: arrays[k][w.index] for k in fields}
                item_series["position_ts"] = np.clip(
                    (w.start_s + w.frame_s * (np.arange(w.n_frames) + 0.5)) / track_s, 0, 1
                ).astype(np.float32) * np.asarray(mask, np.float32)
                metadata = {
                    "prompt": tiers.get("full") or tiers.get("short") or tiers["template"],
                    "seconds_start": round(w.start_s, 6),
                    "seconds_total": round(
                        w.duration_s if p.seconds_total == "window" else track_s, 6
                    ),
                    "padding_mask": mask,
                    "track_id": track_id,
                    "path": str(mix_path),
                    "relpath": f"{track_dir.name}/{mix_path.name}",
                    "timestamps": [w.start, w.start + w.valid],
                    "start_sample": w.start,
                    "end_sample": w.start + w.valid,
                    "sample_rate": p.sample_rate,
                    "position": round(position, 6),
                    "window": w.index,
                    "window_seconds": round(w.duration_s, 6),
                    "track_seconds": round(track_s, 6),
                    **conditioning_values(values, keys),
                }
                corpus_lib.write_item(
                    corpus,
                    name,
                    latents=latents_of.get(name),
                    metadata=metadata,
                    series=item_series,
                    series_meta={
                        "frames": w.n_frames,
                        "frame_rate": p.frame_rate,
                        "padding_mask": mask,
                        "track_id": track_id,
                        "window": w.index,
                    },
                )
            corpus_lib.write_captions(captions_path, captions)
            index.save()
        return {
            "latent_items": len(windows),
            "latent_items_encoded": len(todo),
            "latent_items_removed": len(removed),
            "latent_corpus": corpus.relative_to(settings.config.paths.latents).as_posix(),
        }

    result = for_each_track(context, settings, compute)
    with lock:
        silence = ae.encode(np.zeros((1, 2, frames * p.samples_per_frame), np.float32))
        fields = sorted({*_fields(corpus)})
        details = {
            "preset": p.name,
            "encoder": p.encoder,
            "encoder_files": ae.source,
            "latent_channels": p.latent_channels,
            "frames": frames,
            "samples_per_frame": p.samples_per_frame,
            "sample_rate": p.sample_rate,
            "frame_rate": round(p.frame_rate, 6),
            "dtype": "float16",
            "seconds_total": p.seconds_total,
            "fields": fields,
        }
        names = corpus_lib.write_corpus_files(corpus, silence=silence, details=details)
        controls = corpus_lib.write_controls(corpus, ctrl)
        write_json(
            paths["sat_config"],
            corpus_lib.sat_pre_encoded_config(corpus, frames=frames, dataset_id=f"mir_{p.name}"),
            indent=2,
        )
        summary = corpus_lib.corpus_summary(corpus)
        corpus_lib.write_card(
            corpus,
            summary=summary,
            configuration={"latents": settings.config.latents.model_dump(mode="json"), **details},
            models=[
                {
                    "keys": "NNNNNN.npy, silence.npy",
                    "model": f"{p.encoder} ({folder})",
                    "licence": LICENCES[p.encoder],
                },
                {
                    "keys": "beat/downbeat activations",
                    "model": "madmom RNN",
                    "licence": "CC BY-NC-SA 4.0 (madmom's models)",
                },
                {
                    "keys": "chords_idx_ts",
                    "model": "madmom chord recogniser",
                    "licence": "CC BY-NC-SA 4.0 (madmom's models)",
                },
                {
                    "keys": "rms_<stem>_ts, onset_envelope_<stem>_ts, f0_*",
                    "model": f"stems: {settings.config.separation.backend}",
                    "licence": "see models/README.md, Separation",
                },
                {
                    "keys": "prompt (full/short tiers)",
                    "model": "Music Flamingo (when configured)",
                    "licence": "nvidia/music-flamingo-hf's non-commercial terms",
                },
                {
                    "keys": "the other series, template prompts",
                    "model": "no model (signal processing)",
                    "licence": "-",
                },
            ],
            fields=fields,
            controls=controls,
        )
    context.add_output_metadata(
        {
            "corpus": MetadataValue.path(str(corpus)),
            "corpus_items": MetadataValue.int(len(names)),
            "corpus_hours": MetadataValue.float(float(summary["hours"])),
            "items_encoded_this_run": MetadataValue.int(encoded_total),
            "control_channels": MetadataValue.int(len(controls["channels"])),
            **{
                f"gpu_{k}": v for k, v in gpu.metadata().items() if isinstance(v, int | float | str)
            },
        }
    )
    return result


def _fields(corpus):
    for name in corpus_lib.item_names(corpus)[:1]:
        arrays, _ = read_npz(corpus / f"{name}{corpus_lib.NPZ_SUFFIX}")
        yield from arrays


@asset_check(
    asset="latents",
    description="The corpus folder is what both pre-encoded readers need: every .npy with its .json and series, shapes (C, T), padding_mask and series of T, filelist and silence right, nothing else in it.",
)
def latent_corpus_check(settings: PipelineSettings) -> AssetCheckResult:
    """The corpus of the configured preset, checked file by file (mir/dataset/corpus.py,
    `check_corpus`): a broken corpus is a failed check in the UI, never an item a training
    loader silently replaces with another."""
    p = preset(settings.config.latents.preset)
    corpus = corpus_lib.corpus_paths(corpus_root(settings, p))["corpus"]
    problems = corpus_lib.check_corpus(corpus)
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "corpus": MetadataValue.path(str(corpus)),
            "items": MetadataValue.int(
                len(corpus_lib.item_names(corpus)) if corpus.is_dir() else 0
            ),
            "problems": MetadataValue.md("\n".join(f"- {x}" for x in problems[:50]) or "none"),
        },
    )


#: the checks of this module, for the definitions
ASSET_CHECKS = [latent_corpus_check]
