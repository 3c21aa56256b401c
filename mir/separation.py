"""Source separation: a mix into drums, bass, other and vocals.

Backends load their weights from local folders only (never a download): Demucs from a
model repository in Demucs's own layout (`<name>.yaml` listing `<sig>[-<checksum>].th`
files), BS-RoFormer through audio-separator (see :mod:`mir.roformer`). Long tracks are
separated in blocks with a crossfade, so memory stays bounded by the block, not the
track.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound

STEM_NAMES = ("drums", "bass", "other", "vocals")
DEMUCS_MODELS = (
    "htdemucs",
    "htdemucs_ft",
    "htdemucs_6s",
    "hdemucs_mmi",
    "mdx",
    "mdx_extra",
    "mdx_q",
    "mdx_extra_q",
)
LOSSLESS = {"flac", "wav", "aiff", "aif"}
MP3_BITRATES = (128, 192, 256, 320)


@dataclass
class Separation:
    """Stems of one track.

    Attributes
    ----------
    stems : dict of name -> np.ndarray (n_samples, 2) float32
    sr : int
        Sample rate of the stems, in Hz.
    peak_normalized : bool
        True when each stem was scaled to a fixed peak (BS-RoFormer), so its loudness is
        not comparable with the mix.
    flagged : list of str
        Stems found near-silent and mixed into `other`.
    """

    stems: dict[str, np.ndarray]
    sr: int
    peak_normalized: bool = False
    flagged: list[str] = field(default_factory=list)
    extra: dict[str, np.ndarray] = field(default_factory=dict)


# -- Demucs ----------------------------------------------------------------------------


def demucs_model_available(name: str, repo: Path) -> bool:
    """True when `repo` holds `<name>.yaml` (a bag) or a `<name>[-checksum].th` file."""
    repo = Path(repo)
    return (
        (repo / f"{name}.yaml").is_file()
        or any(repo.glob(f"{name}.th"))
        or any(repo.glob(f"{name}-*.th"))
    )


def require_demucs(name: str, repo: Path, *, config_key: str = "separation.demucs.model") -> None:
    """Raise :class:`ModelNotFound` unless `repo` holds the Demucs model `name`."""
    if not demucs_model_available(name, repo):
        raise ModelNotFound(
            Path(repo) / f"{name}.yaml",
            config_key,
            f"put {name}.yaml and the .th files it lists in {repo} (separation.demucs.repo)",
        )


def load_demucs(name: str, repo: Path, *, config_key: str = "separation.demucs.model"):
    """Load a Demucs model (or bag of models) from a local repository, never the network.

    Raises
    ------
    ModelNotFound
        When the repository has neither `<name>.yaml` nor `<name>*.th`.
    """
    repo = Path(repo)
    require_demucs(name, repo, config_key=config_key)
    from demucs.pretrained import get_model

    model = get_model(name, repo=repo)
    model.eval()
    return model


def separate_demucs(
    model,
    samples: np.ndarray,
    sr: int,
    *,
    device: str = "cpu",
    shifts: int = 0,
    overlap: float = 0.25,
    block_s: float = 60.0,
) -> Separation:
    """Separate a mix with a loaded Demucs model.

    Parameters
    ----------
    samples : np.ndarray, (n_samples, channels)
        The mix; resampled to the model's rate and made stereo.
    block_s : float
        The track is separated in blocks of this many seconds (1 s crossfade), so a long
        track needs memory for one block plus the output.
    """
    import torch
    from demucs.apply import apply_model

    from mir.audio import resample

    model_sr = int(model.samplerate)
    stereo = _stereo(samples)
    if sr != model_sr:
        stereo = np.stack(
            [resample(stereo[:, c], orig_sr=sr, target_sr=model_sr) for c in range(2)], axis=1
        )
    wav = torch.from_numpy(np.ascontiguousarray(stereo.T))  # a copy, normalised in place
    del stereo
    ref = wav.mean(0)
    mean, std = ref.mean(), ref.std()
    del ref
    std = std if std > 1e-8 else torch.tensor(1.0)
    wav.sub_(mean).div_(std)

    def run(block: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            out = apply_model(
                model,
                block[None],
                shifts=shifts,
                split=True,
                overlap=overlap,
                progress=False,
                device=device,
            )
        return (out[0] * std + mean).float().cpu().numpy()  # (sources, 2, n)

    estimates = process_in_blocks(
        run, wav, n_sources=len(model.sources), block=int(block_s * model_sr), fade=model_sr
    )
    # transposed views, not copies: a long track's stems are the largest arrays here
    stems = {name: estimates[i].T for i, name in enumerate(model.sources)}
    return Separation(stems=stems, sr=model_sr)


def process_in_blocks(run: Callable, wav, *, n_sources: int, block: int, fade: int) -> np.ndarray:
    """Apply `run` to overlapping blocks of `wav` (channels, n) and crossfade the results.

    Returns an array (n_sources, channels, n) assembled block by block, so only one block
    of intermediate tensors is alive at a time.
    """
    channels, n = wav.shape
    out = np.zeros((n_sources, channels, n), dtype=np.float32)
    if n <= block + fade:
        out[:] = run(wav)
        return out
    start = 0
    while start < n:
        end = min(n, start + block + fade)
        piece = run(wav[:, start:end])
        length = end - start
        weight = np.ones(length, dtype=np.float32)
        if start > 0:
            weight[:fade] = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        if end < n:
            weight[-fade:] = np.linspace(1.0, 0.0, fade, dtype=np.float32)
        out[:, :, start:end] += piece * weight
        if end == n:
            break
        start = end - fade
    return out


# -- post-processing --------------------------------------------------------------------


def _stereo(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] == 1:
        return np.repeat(x, 2, axis=1)
    return x[:, :2]


def fold_extra_stems(separation: Separation, *, keep: bool = False) -> dict[str, np.ndarray]:
    """Sum stems beyond drums/bass/other/vocals (piano, guitar) into `other`.

    Returns the extra stems themselves (for saving when `keep` is set)."""
    extra = {k: v for k, v in separation.stems.items() if k not in STEM_NAMES}
    for name, stem in extra.items():
        if "other" in separation.stems:
            separation.stems["other"] = separation.stems["other"] + stem
        else:
            separation.stems["other"] = stem.copy()
        if not keep:
            del separation.stems[name]
    return extra


def near_silent(stem: np.ndarray, *, rms_dbfs: float = -39.0, peak_dbfs: float = -20.0) -> bool:
    """A stem whose RMS and peak both lie below the thresholds (the spec's quality check)."""
    peak = float(np.abs(stem).max()) if stem.size else 0.0
    rms = float(np.sqrt(np.mean(stem.astype(np.float64) ** 2))) if stem.size else 0.0
    to_db = lambda v: 20 * np.log10(v) if v > 0 else -np.inf  # noqa: E731
    return to_db(rms) < rms_dbfs and to_db(peak) < peak_dbfs


def quality_check(
    separation: Separation, *, rms_dbfs: float = -39.0, peak_dbfs: float = -20.0
) -> list[str]:
    """Flag near-silent stems, mix each into `other` and replace it with silence."""
    flagged = []
    for name in ("drums", "bass", "vocals"):
        stem = separation.stems.get(name)
        if stem is not None and near_silent(stem, rms_dbfs=rms_dbfs, peak_dbfs=peak_dbfs):
            separation.stems["other"] = separation.stems["other"] + stem
            separation.stems[name] = np.zeros(stem.shape, dtype=np.float32)
            flagged.append(name)
    separation.flagged = flagged
    return flagged


def instrumental(separation: Separation, mix: np.ndarray | None = None) -> np.ndarray:
    """The mix without vocals: mix - vocals when the mix is given (and the stems are
    level-consistent), else the sum of the other stems."""
    if mix is not None and not separation.peak_normalized:
        n = min(mix.shape[0], separation.stems["vocals"].shape[0])
        return (_stereo(mix)[:n] - separation.stems["vocals"][:n]).astype(np.float32)
    return sum(v for k, v in separation.stems.items() if k != "vocals").astype(np.float32)


def stem_format(source_ext: str, requested: str = "auto") -> str:
    """FLAC for lossless sources, MP3 otherwise (the original's rule), unless set."""
    if requested != "auto":
        return requested
    return "flac" if source_ext.lower() in LOSSLESS else "mp3"


def mp3_bitrate(source: Path, requested: int | None = None) -> int:
    """The source's bitrate rounded up to 128/192/256/320 kbps (128 when unknown)."""
    if requested:
        return int(requested)
    try:
        import mutagen

        info = mutagen.File(str(source))
        kbps = (
            int(info.info.bitrate / 1000)
            if info is not None and getattr(info.info, "bitrate", 0)
            else 128
        )
    except Exception:
        kbps = 128
    return next((b for b in MP3_BITRATES if b >= kbps), 320)


def write_stem(path: Path, samples: np.ndarray, sr: int, *, bitrate: int = 192) -> Path:
    """Write a stem: FLAC/WAV through soundfile, MP3 through lameenc at `bitrate` kbps."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    if path.suffix.lower() == ".mp3":
        import lameenc

        encoder = lameenc.Encoder()
        encoder.set_bit_rate(int(bitrate))
        encoder.set_in_sample_rate(int(sr))
        encoder.set_channels(2)
        encoder.set_quality(2)
        pcm = (np.clip(_stereo(samples), -1.0, 1.0) * 32767.0).astype("<i2")
        data = encoder.encode(pcm.tobytes()) + encoder.flush()
        tmp.write_bytes(bytes(data))
    else:
        import soundfile as sf

        subtype = "PCM_24" if path.suffix.lower() in (".flac", ".wav", ".aiff") else None
        sf.write(
            str(tmp),
            np.clip(samples, -1.0, 1.0),
            sr,
            subtype=subtype,
            format=path.suffix.lstrip(".").upper(),
        )
    tmp.replace(path)
    return path


# -- backends by configuration -------------------------------------------------------------


def write_separation(
    result: Separation, out_dir: Path, source: Path, cfg, *, mix: np.ndarray | None = None
) -> tuple[str, list[str]]:
    """Write a separation's stems to `out_dir` as the `stems` asset and `mir separate` both
    do: FLAC for a lossless `source`, MP3 at the source's bitrate otherwise (or
    `cfg.output_format`), the model's extra stems with `cfg.keep_extra_stems`, and
    `full_mix_instrumental` with `cfg.instrumental` (mix - vocals when `mix`, at the
    stems' rate, is given). Returns (format, file names written)."""
    from mir.audio import extension

    fmt = stem_format(extension(source), cfg.output_format)
    bitrate = mp3_bitrate(source, cfg.mp3_bitrate or None)
    outputs = dict(result.stems)
    if cfg.keep_extra_stems:
        outputs.update(result.extra)
    if cfg.instrumental:
        outputs["full_mix_instrumental"] = instrumental(result, mix)
    names = [
        write_stem(out_dir / f"{name}.{fmt}", samples, result.sr, bitrate=bitrate).name
        for name, samples in outputs.items()
    ]
    return fmt, names


def check_model(cfg) -> None:
    """Raise :class:`ModelNotFound` unless the configured separation model is in place.

    `cfg` is the `separation` section of the configuration.
    """
    if cfg.backend == "demucs":
        require_demucs(cfg.demucs.model, cfg.demucs.repo)
    else:
        from mir.roformer import check_roformer

        check_roformer(cfg.bs_roformer)


def model_loader(cfg) -> tuple[tuple, Callable[[], object]]:
    """(cache key, loader) of the configured separation model."""
    if cfg.backend == "demucs":
        key = ("demucs", cfg.demucs.model, str(cfg.demucs.repo))
        return key, lambda: load_demucs(cfg.demucs.model, cfg.demucs.repo)
    from mir.roformer import load_roformer

    key = ("bs_roformer", cfg.bs_roformer.model_file, str(cfg.bs_roformer.model_dir))
    return key, lambda: load_roformer(cfg.bs_roformer)


def separate(model, samples: np.ndarray, sr: int, cfg, *, device: str = "cpu") -> Separation:
    """Separate with the configured backend, fold extra stems and run the quality check."""
    if cfg.backend == "demucs":
        result = separate_demucs(
            model,
            samples,
            sr,
            device=device,
            shifts=cfg.demucs.shifts,
            overlap=cfg.demucs.overlap,
            block_s=cfg.block_seconds,
        )
    else:
        from mir.roformer import separate_roformer

        result = separate_roformer(
            model, samples, sr, cfg.bs_roformer, device=device, block_s=cfg.block_seconds
        )
    result.extra = fold_extra_stems(result, keep=cfg.keep_extra_stems)
    if cfg.quality_check:
        quality_check(result, rms_dbfs=cfg.quality_rms_dbfs, peak_dbfs=cfg.quality_peak_dbfs)
    return result


def save_demucs_model(model, repo: Path, name: str) -> Path:
    """Save a Demucs model as a one-model repository entry: `<name>.yaml` naming
    `<name>0001-<sha256[:8]>.th`, in Demucs's own package format (what `load_demucs` reads).

    Used to make random-weight models of the real architectures for tests and benchmarks.
    """
    import yaml
    from demucs.states import get_state, save_with_checksum

    args, kwargs = model._init_args_kwargs
    package = {
        "klass": type(model),
        "args": args,
        "kwargs": kwargs,
        "state": get_state(model, None, False),
        "training_args": {},
    }
    repo = Path(repo)
    repo.mkdir(parents=True, exist_ok=True)
    save_with_checksum(package, repo / f"{name}0001.th")
    (repo / f"{name}.yaml").write_text(yaml.safe_dump({"models": [f"{name}0001"]}))
    return repo
