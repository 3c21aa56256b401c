"""BS-RoFormer separation through audio-separator, from a local model folder only.

audio-separator looks its models up in lists it downloads (`download_checks.json`, model
data JSON files) and checks for ffmpeg, which it needs only for its own file I/O. Here the
lists are written into the model folder before the separator starts (so it finds them and
never reaches the network), the ffmpeg check is skipped (we decode and encode ourselves),
and only the Separator and its MDXC/RoFormer module are imported: its MDX module pulls
onnx2torch and a torchvision that cannot import beside our torch, and is never touched.

As in the original, the input is peak-normalised to `peak` (0.9) and so is each stem;
the result says so (`peak_normalized`), so stem loudness is not read as the mix's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound
from mir.separation.core import Separation, _stereo, process_in_blocks

ROFORMER_SR = 44100
_LIST_KEYS = (
    "vr_download_list",
    "mdx_download_list",
    "mdx_download_vip_list",
    "demucs_download_list",
    "mdx23c_download_list",
    "mdx23c_download_vip_list",
    "roformer_download_list",
)


def _config_file(cfg) -> Path | None:
    stem = Path(cfg.model_file).stem
    for candidate in (f"{stem}.yaml", f"config_{stem}.yaml", f"{stem}_config.yaml"):
        if (Path(cfg.model_dir) / candidate).is_file():
            return Path(cfg.model_dir) / candidate
    return None


def check_roformer(cfg) -> None:
    """Raise ModelNotFound unless the checkpoint and its yaml are in `cfg.model_dir`."""
    ckpt = Path(cfg.model_dir) / cfg.model_file
    if not ckpt.is_file():
        raise ModelNotFound(ckpt, "separation.bs_roformer.model_file")
    if _config_file(cfg) is None:
        raise ModelNotFound(
            Path(cfg.model_dir) / f"{Path(cfg.model_file).stem}.yaml", "separation.bs_roformer.model_file",
            "the model's yaml configuration belongs beside its checkpoint",
        )  # fmt: skip


def write_model_lists(cfg) -> None:
    """Write the lists audio-separator would download, naming the configured model.

    An existing `download_checks.json` (the user's copy of the real list) is extended, not
    replaced.
    """
    folder = Path(cfg.model_dir)
    checks = folder / "download_checks.json"
    lists = json.loads(checks.read_text()) if checks.is_file() else {}
    for key in _LIST_KEYS:
        lists.setdefault(key, {})
    config = _config_file(cfg)
    lists["roformer_download_list"][f"Local BS-RoFormer: {cfg.model_file}"] = {
        cfg.model_file: config.name
    }
    checks.write_text(json.dumps(lists, indent=1))
    for name in ("vr_model_data.json", "mdx_model_data.json"):
        if not (folder / name).is_file():
            (folder / name).write_text("{}")


def load_roformer(cfg):
    """Load the configured BS-RoFormer through audio-separator's own loader (CPU or GPU).

    Returns audio-separator's MDXC separator instance; :func:`separate_roformer` runs it.
    """
    check_roformer(cfg)
    write_model_lists(cfg)
    from audio_separator.separator import Separator

    class LocalSeparator(Separator):
        def check_ffmpeg_installed(self):  # our own I/O needs no ffmpeg
            return None

    output_dir = Path(cfg.model_dir) / ".audio-separator-output"
    separator = LocalSeparator(
        model_file_dir=str(cfg.model_dir),
        output_dir=str(output_dir),
        log_level=logging.WARNING,
        mdxc_params={
            "segment_size": 256,
            "override_model_segment_size": False,
            "batch_size": cfg.batch_size,
            "overlap": 2,
            "pitch_shift": 0,
        },
    )
    separator.load_model(cfg.model_file)
    return separator.model_instance


def separate_roformer(
    model, samples: np.ndarray, sr: int, cfg, *, device: str = "cpu", block_s: float = 60.0
) -> Separation:
    """Separate with a loaded BS-RoFormer: 44.1 kHz stereo, input and stems peak-normalised."""
    from mir.audio import resample

    stereo = _stereo(samples)
    if sr != ROFORMER_SR:
        stereo = np.stack(
            [resample(stereo[:, c], orig_sr=sr, target_sr=ROFORMER_SR) for c in range(2)], axis=1
        )
    peak = float(np.abs(stereo).max())
    mix = (stereo * (cfg.peak / peak) if peak > 0 else stereo).T.astype(np.float32)
    names: list[str] = []

    def run(block) -> np.ndarray:
        out = model.demix(np.ascontiguousarray(block))
        names[:] = list(out)
        return np.stack([np.asarray(out[n], dtype=np.float32)[:, : block.shape[1]] for n in out])

    probe = model.demix(np.zeros((2, ROFORMER_SR), np.float32))  # the stems the model yields
    estimates = process_in_blocks(
        run, mix, n_sources=len(probe), block=int(block_s * ROFORMER_SR), fade=ROFORMER_SR
    )
    names = names or list(probe)
    stems = {}
    for i, name in enumerate(names):
        stem = estimates[i].T
        stem_peak = float(np.abs(stem).max())
        stems[name.lower()] = stem * (cfg.peak / stem_peak) if stem_peak > 0 else stem
    return Separation(stems=stems, sr=ROFORMER_SR, peak_normalized=True)
