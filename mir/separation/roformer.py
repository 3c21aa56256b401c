"""BS-RoFormer separation from a local checkpoint and its yaml (the files UVR and
audio-separator publish), with the model modules of audio-separator 0.47.1 vendored in
:mod:`mir._vendor.bs_roformer`.

Loading follows audio-separator's RoformerLoader (the yaml's `model:` section gives the
network's arguments; a checkpoint may hold the state dict itself or under `state_dict` or
`model`), and :meth:`RoformerModel.demix` its MDXC separator for RoFormer models:
windows of `stft_hop_length * (inference.dim_t - 1)` samples, `overlap` windows over
each sample, each weighted by a Hamming window and the sum divided by the weights.

As in the original, the input is peak-normalised to `peak` (0.9) and so is each stem;
the result says so (`peak_normalized`), so stem loudness is not read as the mix's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound
from mir.separation.core import Separation, _stereo, process_in_blocks

ROFORMER_SR = 44100
#: prediction windows over each sample (audio-separator's MDXC `overlap`, our default there)
OVERLAP = 2
#: the network's arguments a yaml may give (audio-separator's `_create_bs_roformer`), with
#: the defaults it applies; `dim`, `depth` and `freqs_per_bands` are required
_MODEL_DEFAULTS = {
    "stereo": False, "num_stems": 2, "time_transformer_depth": 2, "freq_transformer_depth": 2,
    "linear_transformer_depth": 0, "dim_head": 64, "heads": 8, "attn_dropout": 0.0,
    "ff_dropout": 0.0, "flash_attn": True, "mlp_expansion_factor": 4, "sage_attention": False,
    "zero_dc": True, "use_torch_checkpoint": False, "skip_connection": False,
}  # fmt: skip
_STFT_KEYS = ("stft_n_fft", "stft_hop_length", "stft_win_length")


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


@dataclass
class RoformerModel:
    """A loaded BS-RoFormer: the network, its outputs' stems in order, and its window.

    A single-target model (the yaml's `training.target_instrument`, as the default
    `model_bs_roformer_ep_317` for vocals) yields one stem; the other, `residual`, is the
    mix minus it, named as audio-separator names it.
    """

    net: object
    instruments: list[str]
    chunk_size: int
    overlap: int = OVERLAP
    #: windows per forward pass (`separation.bs_roformer.batch_size`)
    batch_size: int = 1
    residual: str | None = None

    @property
    def stems(self) -> list[str]:
        """Every stem :meth:`demix` returns, in order."""
        return [*self.instruments, *([self.residual] if self.residual else [])]

    def demix(self, mix: np.ndarray) -> dict[str, np.ndarray]:
        """`{stem: (2, n) float32}` of a (2, n) mix at 44.1 kHz, on the network's device."""
        import torch
        from scipy.signal import windows

        net = self.net
        device = next(net.parameters()).device
        chunk, n = self.chunk_size, mix.shape[1]
        step = chunk // self.overlap
        window = torch.tensor(windows.hamming(chunk), dtype=torch.float32)
        shape = (len(self.instruments), *mix.shape)
        result = torch.zeros(shape, dtype=torch.float32)
        weight = torch.zeros(shape, dtype=torch.float32)
        audio = torch.as_tensor(np.ascontiguousarray(mix), dtype=torch.float32)
        starts = chunk_starts(n, chunk, step)
        with torch.inference_mode():
            for first in range(0, len(starts), self.batch_size):
                batch = starts[first : first + self.batch_size]
                # windows are `chunk` long, but for a mix shorter than one window
                parts = torch.stack([audio[:, s : s + chunk] for s in batch])
                outs = net(parts.to(device)).to("cpu")
                if outs.ndim == 3:  # a one-stem model gives (batch, channels, samples)
                    outs = outs.unsqueeze(1)
                length = min(parts.shape[-1], outs.shape[-1])
                for start, out in zip(batch, outs, strict=True):
                    result[..., start : start + length] += out[..., :length] * window[:length]
                    weight[..., start : start + length] += window[:length]
        result /= weight.clamp(min=1e-10)
        out = {name: result[i].numpy() for i, name in enumerate(self.instruments)}
        if self.residual:
            out[self.residual] = mix.astype(np.float32) - out[self.instruments[0]]
        return out


def chunk_starts(n: int, chunk: int, step: int) -> list[int]:
    """Window starts `step` apart covering `n` samples, the last window ending at the end
    (audio-separator's `_roformer_chunk_starts`)."""
    starts: list[int] = []
    for offset in range(0, n, step):
        if offset + chunk >= n:
            tail = max(n - chunk, 0)
            if not starts or starts[-1] != tail:
                starts.append(tail)
            break
        starts.append(offset)
    return starts


def load_roformer(cfg) -> RoformerModel:
    """Load the configured BS-RoFormer on the CPU (:func:`separate_roformer` moves it to
    its device)."""
    import torch
    import yaml

    from mir._vendor.bs_roformer import BSRoformer

    check_roformer(cfg)
    config_path = _config_file(cfg)
    # UVR's yamls hold python tuples (`!!python/tuple`), as audio-separator reads them
    with open(config_path, encoding="utf-8") as f:
        config = yaml.load(f, Loader=yaml.FullLoader)
    model_cfg = config.get("model") or {}
    missing = [k for k in ("dim", "depth", "freqs_per_bands") if k not in model_cfg]
    if missing:
        raise ValueError(f"{config_path}: `model:` lacks {', '.join(missing)}")
    args = {k: model_cfg.get(k, default) for k, default in _MODEL_DEFAULTS.items()}
    args.update({k: model_cfg[k] for k in ("dim", "depth", "freqs_per_bands", *_STFT_KEYS) if k in model_cfg})  # fmt: skip
    net = BSRoformer(**args)
    state = torch.load(Path(cfg.model_dir) / cfg.model_file, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state:
            state = state[key]
            break
    net.load_state_dict(state)
    net.eval()
    training = config.get("training") or {}
    target = training.get("target_instrument")
    instruments = [target] if target else list(training.get("instruments") or [])
    residual = _residual_name(target, list(training.get("instruments") or [])) if target else None
    hop = model_cfg.get("stft_hop_length") or (config.get("audio") or {}).get("hop_length")
    dim_t = (config.get("inference") or {}).get("dim_t")
    if not instruments or not hop or not dim_t:
        raise ValueError(
            f"{config_path}: needs training.instruments, model.stft_hop_length (or "
            "audio.hop_length) and inference.dim_t"
        )
    return RoformerModel(
        net=net,
        instruments=instruments,
        chunk_size=int(hop) * (int(dim_t) - 1),
        batch_size=cfg.batch_size,
        residual=residual,
    )


def _residual_name(target: str, instruments: list[str]) -> str:
    """The name audio-separator gives the mix minus a single target: the yaml's other
    instrument, else the target's pair (vocals and instrumental), else `no <target>`."""
    others = [name for name in instruments if name != target]
    if others:
        return others[0]
    pairs = {"vocals": "instrumental", "instrumental": "vocals"}
    return pairs.get(target.lower(), f"no {target}")


def separate_roformer(
    model: RoformerModel,
    samples: np.ndarray,
    sr: int,
    cfg,
    *,
    device: str = "cpu",
    block_s: float = 60.0,
) -> Separation:
    """Separate with a loaded BS-RoFormer: 44.1 kHz stereo, input and stems peak-normalised."""
    from mir.audio import resample

    model.net.to(device)
    stereo = _stereo(samples)
    if sr != ROFORMER_SR:
        stereo = np.stack(
            [resample(stereo[:, c], orig_sr=sr, target_sr=ROFORMER_SR) for c in range(2)], axis=1
        )
    peak = float(np.abs(stereo).max())
    mix = (stereo * (cfg.peak / peak) if peak > 0 else stereo).T.astype(np.float32)

    def run(block) -> np.ndarray:
        out = model.demix(np.ascontiguousarray(block))
        return np.stack([out[n][:, : block.shape[1]] for n in model.stems])

    estimates = process_in_blocks(
        run,
        mix,
        n_sources=len(model.stems),
        block=int(block_s * ROFORMER_SR),
        fade=ROFORMER_SR,
    )
    stems = {}
    for i, name in enumerate(model.stems):
        stem = estimates[i].T
        stem_peak = float(np.abs(stem).max())
        stems[name.lower()] = stem * (cfg.peak / stem_peak) if stem_peak > 0 else stem
    return Separation(stems=stems, sr=ROFORMER_SR, peak_normalized=True)
