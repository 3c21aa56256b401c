"""The pre-encoded latent corpora: the windows of every track through the configured
autoencoder, one corpus per source (the mix and the stems of `latents.sources`), with
their sidecars, series, controls, captions and cards."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    MetadataValue,
    asset_check,
)
from filelock import FileLock

from mir.audio import Audio
from mir.captions.template import template_caption
from mir.dataset import corpus as corpus_lib
from mir.dataset.files import write_json
from mir.dataset.sat_export import conditioning_values
from mir.dataset.timeseries import read_npz
from mir.dataset.windows import Window
from mir.errors import ModelNotFound
from mir.info import info_path, read_info, sidecar_path
from mir.latents.autoencoders import check_autoencoder
from mir.latents.presets import Preset, autoencoder_dir, check_window_frames, preset
from mir.stems import find_stems
from mir_assets.runtime import decoded, for_each_track, full_mix_path, model_failure
from mir_assets.timeseries import WINDOWS_NPZ
from resources.gpu import GpuResource
from resources.settings import PipelineSettings


def corpus_root(settings: PipelineSettings, p: Preset) -> Path:
    return settings.config.paths.latents / p.name


def model_dir(settings: PipelineSettings, p: Preset) -> Path:
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


def _sha256(path: Path) -> str:
    """The identity of a source file: its content, so that a stem written again with the
    same samples is not encoded again (about 1 ms per MB)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _stereo_at(audio: Audio, sr: int) -> np.ndarray:
    """(n, 2) float32 at the autoencoder's rate."""
    if audio.sr == sr:
        return audio.stereo()
    from mir.audio import resample

    st = audio.stereo()
    return np.stack(
        [resample(st[:, c].copy(), orig_sr=audio.sr, target_sr=sr) for c in range(2)], axis=1
    )


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
    per run on the GPU resource, batched, stored float16), one corpus per source of
    `latents.sources` (the mix; a stem where the track folder has its file):
    `<latents>/<preset>/<source>/` holds `NNNNNN.npy` (C, T), `NNNNNN.json` (prompt,
    seconds_start, seconds_total, padding_mask, track, source and its path, samples,
    relative position and the conditioning values of `export.conditioning_keys`),
    `NNNNNN.TIMESERIES.npz` (every series pooled to T), `filelist.txt`, `silence.npy`,
    `details.json`, `README.md` (the card, with its plots). Beside it: `<source>_ctrl/`
    (one C x T control array per item and their normalisation, bounded:
    :func:`mir.dataset.corpus.write_controls`) and `<source>_sat_pre_encoded.json`
    (stable-audio-tools' pre_encoded dataset config); for all sources, `captions.json`
    and `items.json`.

    Ids are stable and shared by the sources: a window keeps its id; only items whose
    source audio or plan changed are encoded again. Without the autoencoder's files the
    asset fails with the missing file and its config key (`mir run` leaves it out)."""
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
    sources = list(cfg.sources)
    paths = {source: corpus_lib.corpus_paths(root, source) for source in sources}
    for source_paths in paths.values():
        source_paths["corpus"].mkdir(parents=True, exist_ok=True)
    items_path, captions_path = paths[sources[0]]["items"], paths[sources[0]]["captions"]
    lock = FileLock(str(root / ".lock"))
    keys = settings.config.export.conditioning_keys
    encoded: Counter[str] = Counter()
    written: dict[str, set[str]] = {source: set() for source in sources}

    def compute(track_id: str) -> dict:
        track_dir = settings.track_dir(track_id)
        mix_path = full_mix_path(settings, track_id, source_audio[track_id])
        values = read_info(info_path(track_dir))
        arrays, meta = read_npz(sidecar_path(track_dir, WINDOWS_NPZ))
        if meta.get("preset") != p.name or int(meta.get("frames", 0)) != frames:
            raise ValueError(
                f"{WINDOWS_NPZ} was planned for {meta.get('preset')} at {meta.get('frames')} "
                f"frames, not {p.name} at {frames}: materialize latent_windows again"
            )
        windows = _windows(meta, p)
        stems = find_stems(track_dir)
        files = {"mix": mix_path, **{s: stems[s] for s in sources if s in stems}}
        track_s = meta["n_samples"] / p.sample_rate
        fields = [k for k in arrays if k != "padding_mask"]
        window_values = {"bpm": values.get("bpm")} if values.get("bpm_is_defined") else {}
        tiers = captions_of(values, window_values)
        n_encoded = 0
        with lock:
            index = corpus_lib.ItemIndex.load(items_path)
            names = {w.index: index.assign(track_id, w.index) for w in windows}
            # windows of an earlier plan that no longer exist, in every corpus they are in
            removed = [n for wi, n in index.of_track(track_id).items() if wi >= len(windows)]
            for name in removed:
                for source in {*index.items[name]["plans"], *sources}:
                    gone = corpus_lib.corpus_paths(root, source)
                    corpus_lib.remove_item(gone["corpus"], gone["ctrl"], name)
                del index.items[name]
            for source in sources:
                corpus, ctrl = paths[source]["corpus"], paths[source]["ctrl"]
                path = files.get(source)
                if path is None:  # no such stem in the track folder (any more)
                    for name in names.values():
                        corpus_lib.remove_item(corpus, ctrl, name)
                        index.items[name]["plans"].pop(source, None)
                    continue
                identity = (values.get("sha256") if source == "mix" else None) or _sha256(path)
                todo: list[tuple[str, Window]] = []
                for w in windows:
                    name = names[w.index]
                    plan = corpus_lib.window_plan(w, preset=p.name, source_id=str(identity))
                    if index.plan(name, source) != plan or not (corpus / f"{name}.npy").is_file():
                        todo.append((name, w))
                    index.items[name]["plans"][source] = plan
                latents_of: dict[str, np.ndarray] = {}
                if todo:
                    stereo = _stereo_at(decoded(path), p.sample_rate)
                    batch = np.stack([corpus_lib.window_audio(stereo, w) for _, w in todo])
                    out = ae.encode(batch, batch_size=cfg.batch_size)
                    latents_of = {name: z for (name, _), z in zip(todo, out, strict=True)}
                    encoded[source] += len(todo)
                    n_encoded += len(todo)
                for w in windows:
                    name = names[w.index]
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
                        "source": source,
                        "path": str(path),
                        "relpath": f"{track_dir.name}/{path.name}",
                        "timestamps": [w.start, w.start + w.valid],
                        "start_sample": w.start,
                        "end_sample": w.start + w.valid,
                        "sample_rate": p.sample_rate,
                        "position": round(w.start / meta["n_samples"], 6),
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
                    written[source].add(name)
            captions = (
                json.loads(captions_path.read_text(encoding="utf-8"))
                if captions_path.is_file()
                else {}
            )
            for name in removed:
                captions.pop(name, None)
            captions.update({name: tiers for name in names.values()})
            corpus_lib.write_captions(captions_path, captions)
            index.save()
        return {
            "latent_items": len(windows),
            "latent_items_encoded": n_encoded,
            "latent_items_removed": len(removed),
            "latent_corpus": root.relative_to(settings.config.paths.latents).as_posix(),
            "latent_sources": [s for s in sources if s in files],
        }

    result = for_each_track(context, settings, compute)
    summary: dict[str, dict] = {}
    with lock:
        silence = ae.encode(np.zeros((1, 2, frames * p.samples_per_frame), np.float32))
        for source in sources:
            corpus, ctrl = paths[source]["corpus"], paths[source]["ctrl"]
            details = {
                "preset": p.name,
                "encoder": p.encoder,
                "encoder_files": ae.source,
                "source": source,
                "latent_channels": p.latent_channels,
                "frames": frames,
                "samples_per_frame": p.samples_per_frame,
                "sample_rate": p.sample_rate,
                "frame_rate": round(p.frame_rate, 6),
                "dtype": "float16",
                "seconds_total": p.seconds_total,
                "fields": sorted(_fields(corpus)),
            }
            corpus_lib.write_corpus_files(corpus, silence=silence, details=details)
            controls = corpus_lib.write_controls(corpus, ctrl, written=written[source])
            write_json(
                paths[source]["sat_config"],
                corpus_lib.sat_pre_encoded_config(
                    corpus, frames=frames, dataset_id=f"mir_{p.name}_{source}"
                ),
                indent=2,
            )
            items = corpus_lib.corpus_items(corpus)
            corpus_lib.write_corpus_card(
                corpus, cfg=settings.config, details=details, controls=controls, items=items
            )
            summary[source] = {
                **corpus_lib.corpus_summary(items),
                "encoded_this_run": encoded[source],
                "control_channels": len(controls["channels"]),
                "controls_written": controls["rewritten"],
            }
    context.add_output_metadata(
        {
            "corpora": MetadataValue.path(str(root)),
            "corpus_items": MetadataValue.int(sum(v["items"] for v in summary.values())),
            "items_encoded_this_run": MetadataValue.int(sum(encoded.values())),
            "sources": MetadataValue.md(
                "| source | items | tracks | hours | encoded | control channels | controls "
                "written |\n|---|---|---|---|---|---|---|\n"
                + "\n".join(
                    f"| {s} | {v['items']} | {v['tracks']} | {v['hours']} | "
                    f"{v['encoded_this_run']} | {v['control_channels']} | "
                    f"{v['controls_written']} |"
                    for s, v in summary.items()
                )
            ),
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
    description="Each corpus (one per source of latents.sources) is what both pre-encoded readers need: every .npy with its .json and series, shapes (C, T), padding_mask and series of T, filelist and silence right, nothing else in it.",
)
def latent_corpus_check(settings: PipelineSettings) -> AssetCheckResult:
    """The corpora of the configured preset, checked file by file (mir/dataset/corpus.py,
    `check_corpus`): a broken corpus is a failed check in the UI, never an item a training
    loader silently replaces with another."""
    p = preset(settings.config.latents.preset)
    root = corpus_root(settings, p)
    problems: list[str] = []
    items: dict[str, int] = {}
    for source in settings.config.latents.sources:
        corpus = corpus_lib.corpus_paths(root, source)["corpus"]
        problems += [f"{source}: {x}" for x in corpus_lib.check_corpus(corpus)]
        items[source] = len(corpus_lib.item_names(corpus)) if corpus.is_dir() else 0
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "corpora": MetadataValue.path(str(root)),
            "items": MetadataValue.json(items),
            "problems": MetadataValue.md("\n".join(f"- {x}" for x in problems[:50]) or "none"),
        },
    )


#: the checks of this module, for the definitions
ASSET_CHECKS = [latent_corpus_check]
