"""The SAME autoencoders of Stable Audio 3 (SAME-S and SAME-L), for inference.

SAME (Stability AI, 2026) turns 44.1 kHz stereo into 256 channels at 4096 samples per
frame: a patching pretransform (256 samples of each channel side by side: 512 channels at
1/256 of the rate), one transformer resampling block (16 patches and one learned token per
latent frame, the token's output is the frame), a linear projection to the latent width
and a soft-norm bottleneck. The decoder mirrors it: a linear projection up, a resampling
block that grows 16 tokens from each latent frame, and the patches back to samples.

This is the project's own implementation of the architecture published in
Stability-AI/stable-audio-3 (MIT; `stable_audio_3/models/autoencoders.py`, `transformer.py`,
`bottleneck.py`, `pretransforms.py`, `factory.py`), written for inference and for the
options the SAME configurations use. Parameter names follow upstream's, so the released
`model.safetensors` (with its `model_config.json`) loads as it is; see
:func:`mir.latents.autoencoders.load_state` for the weight-norm folding. Left out: training
paths (checkpointing, the soft-norm losses and running statistics), conformer and
cross-attention blocks, stride overrides and prepended conditioning, flash/flex attention
kernels (the sliding window runs as PyTorch SDPA over chunks with a halo, the same
arithmetic). Two deliberate differences, both only when a configuration asks for noise:
`mask_noise` and the bottleneck's `noise_regularize` add noise in training only, so that
encoding and decoding are deterministic.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

#: attention chunk of the sliding-window path (queries per SDPA call, keys with a halo)
SLIDING_CHUNK = 1024


# -- normalisation, positions, feed-forward -----------------------------------------------


class DynamicTanh(nn.Module):
    """`gamma * tanh(alpha * x) + beta` (DyT), in place of a layer norm."""

    def __init__(self, dim: int, init_alpha: float = 4.0, **_: Any):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1) * init_alpha)
        self.gamma = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * torch.tanh(self.alpha * x) + self.beta


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-5, **_: Any):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x, x.shape[-1:], weight=self.gamma, eps=self.eps)


class LayerScale(nn.Module):
    def __init__(self, dim: int, init_val: float = 1e-5):
        super().__init__()
        self.scale = nn.Parameter(torch.full([dim], init_val))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class RotaryEmbedding(nn.Module):
    """Rotary positions over the first `dim` channels of each head (base 10000)."""

    def __init__(self, dim: int, base: float = 10000.0):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)))

    def freqs(self, n: int) -> torch.Tensor:
        t = torch.arange(n, device=self.inv_freq.device, dtype=torch.float32)
        f = torch.outer(t, self.inv_freq.float())
        return torch.cat((f, f), dim=-1)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def _apply_rotary(t: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    rot = freqs.shape[-1]
    head, tail = t[..., :rot].float(), t[..., rot:]
    head = head * freqs.cos() + _rotate_half(head) * freqs.sin()
    return torch.cat((head.to(t.dtype), tail), dim=-1)


class Sin(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(math.pi * x)


class GLU(nn.Module):
    def __init__(self, dim_in: int, dim_out: int, activation: nn.Module):
        super().__init__()
        self.act = activation
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * self.act(gate)


class FeedForward(nn.Module):
    """A gated feed-forward layer (SiLU gate, or sin(pi x) in SAME-L's later decoder blocks)."""

    def __init__(self, dim: int, mult: float = 4, no_bias: bool = False, sinusoidal: bool = False):
        super().__init__()
        inner = int(dim * mult)
        # indices 1 and 3 are upstream's (identity) channel transposes: the names of the
        # two linear layers stay `ff.0.proj` and `ff.2`
        self.ff = nn.Sequential(
            GLU(dim, inner, Sin() if sinusoidal else nn.SiLU()),
            nn.Identity(),
            nn.Linear(inner, dim, bias=not no_bias),
            nn.Identity(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ff(x)


# -- attention ------------------------------------------------------------------------------


def _band_attention(q, k, v, left: int, right: int) -> torch.Tensor:
    """SDPA where query i sees keys i-left..i+right: queries in chunks, keys with a halo, so
    memory grows with the sequence, not its square."""
    n = q.shape[-2]
    out = []
    for lo in range(0, n, SLIDING_CHUNK):
        hi = min(lo + SLIDING_CHUNK, n)
        k_lo, k_hi = max(0, lo - left), min(n, hi + right)
        delta = (
            torch.arange(k_lo, k_hi, device=q.device)[None, :]
            - torch.arange(lo, hi, device=q.device)[:, None]
        )
        mask = (delta >= -left) & (delta <= right)
        out.append(
            F.scaled_dot_product_attention(
                q[..., lo:hi, :], k[..., k_lo:k_hi, :], v[..., k_lo:k_hi, :], attn_mask=mask
            )
        )
    return torch.cat(out, dim=-2)


class Attention(nn.Module):
    """Multi-head self-attention with optional differential heads (two attention maps, the
    second subtracted) and q/k normalisation (DyT, RMS or layer norm)."""

    def __init__(
        self,
        dim: int,
        dim_heads: int = 64,
        qk_norm: str = "none",
        qk_norm_eps: float = 1e-6,
        differential: bool = False,
        feat_scale: bool = False,
        **_: Any,
    ):
        super().__init__()
        self.heads = dim // dim_heads
        self.differential = differential
        self.to_qkv = nn.Linear(dim, dim * (5 if differential else 3), bias=False)
        self.to_out = nn.Linear(dim, dim, bias=False)
        self.qk_norm = qk_norm
        if qk_norm == "dyt":
            self.q_norm, self.k_norm = DynamicTanh(dim_heads), DynamicTanh(dim_heads)
        elif qk_norm == "rms":
            self.q_norm, self.k_norm = (
                RMSNorm(dim_heads, eps=qk_norm_eps),
                RMSNorm(dim_heads, eps=qk_norm_eps),
            )
        elif qk_norm == "ln":
            self.q_norm = nn.LayerNorm(dim_heads, eps=qk_norm_eps)
            self.k_norm = nn.LayerNorm(dim_heads, eps=qk_norm_eps)
        elif qk_norm not in ("none", "l2"):
            raise ValueError(f"unknown qk_norm {qk_norm!r}")
        self.feat_scale = feat_scale
        if feat_scale:
            self.lambda_dc = nn.Parameter(torch.zeros(dim))
            self.lambda_hf = nn.Parameter(torch.zeros(dim))

    def _attend(self, q, k, v, window):
        if window is None:
            return F.scaled_dot_product_attention(q, k, v)
        return _band_attention(q, k, v, int(window[0]), int(window[1]))

    def forward(self, x: torch.Tensor, freqs: torch.Tensor, window=None) -> torch.Tensor:
        b, n, _ = x.shape
        parts = self.to_qkv(x).chunk(5 if self.differential else 3, dim=-1)
        parts = [p.reshape(b, n, self.heads, -1).transpose(1, 2) for p in parts]
        if self.differential:
            q, k, v, q_diff, k_diff = parts
            q, k = torch.stack([q, q_diff], dim=1), torch.stack([k, k_diff], dim=1)
        else:
            q, k, v = parts
        if self.qk_norm == "l2":
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        elif self.qk_norm != "none":
            q, k = self.q_norm(q).to(q.dtype), self.k_norm(k).to(k.dtype)
        q, k = _apply_rotary(q, freqs).to(v.dtype), _apply_rotary(k, freqs).to(v.dtype)
        if self.differential:
            out = self._attend(q[:, 0], k[:, 0], v, window) - self._attend(
                q[:, 1], k[:, 1], v, window
            )
        else:
            out = self._attend(q, k, v, window)
        out = self.to_out(out.transpose(1, 2).reshape(b, n, -1))
        if self.feat_scale:
            dc = out.mean(dim=-2, keepdim=True)
            out = out + self.lambda_dc * dc + self.lambda_hf * (out - dc)
        return out


class TransformerBlock(nn.Module):
    """Pre-norm self-attention and feed-forward, each added back to the stream."""

    def __init__(
        self,
        dim: int,
        *,
        dim_heads: int = 64,
        norm_type: str = "dyt",
        layer_scale: bool = False,
        attn_kwargs: dict | None = None,
        ff_kwargs: dict | None = None,
        norm_kwargs: dict | None = None,
    ):
        super().__init__()
        norm = {"dyt": DynamicTanh, "rms_norm": RMSNorm}[norm_type]
        norm_kwargs = norm_kwargs or {}
        dim_heads = min(dim_heads, dim)
        self.pre_norm = norm(dim, **norm_kwargs)
        self.self_attn = Attention(dim, dim_heads=dim_heads, **(attn_kwargs or {}))
        self.self_attn_scale = LayerScale(dim) if layer_scale else nn.Identity()
        self.ff_norm = norm(dim, **norm_kwargs)
        self.ff = FeedForward(dim, **(ff_kwargs or {}))
        self.ff_scale = LayerScale(dim) if layer_scale else nn.Identity()
        self.rope = RotaryEmbedding(dim_heads // 2)

    def forward(self, x: torch.Tensor, window=None) -> torch.Tensor:
        freqs = self.rope.freqs(x.shape[-2])
        x = x + self.self_attn_scale(self.self_attn(self.pre_norm(x), freqs, window))
        return x + self.ff_scale(self.ff(self.ff_norm(x)))


# -- the resampling block -----------------------------------------------------------------


def _pad_to_multiple(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    pad = (size - x.shape[dim] % size) % size
    if pad == 0:
        return x
    shape = list(x.shape)
    shape[dim] = pad
    return torch.cat([x, x.new_zeros(shape)], dim=dim)


class TransformerResamplingBlock(nn.Module):
    """Groups of `stride` input frames and the learned tokens of their output frames, through
    one transformer: the encoder keeps the one token after each group of `stride`, the
    decoder the `stride` tokens after each frame.

    Attention runs in chunks of `chunk_size` input frames (with `chunk_midpoint_shift`,
    the second half of the blocks in chunks shifted by half a chunk, so that no boundary
    is seen twice), or over the whole sequence within a sliding window of
    `sliding_window` latent frames each side.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        *,
        type: str = "encoder",
        sliding_window=None,
        chunk_size: int = 128,
        chunk_midpoint_shift: bool = False,
        transformer_depth: int = 3,
        layer_scale: bool = False,
        dim_heads: int = 128,
        differential: bool = True,
        variable_stride: bool = False,
        feat_scale: bool = False,
        sinusoidal_blocks: int = 0,
        mask_noise: float = 0.0,
        ff_mult: float = 3,
        mapping_bias: bool = True,
        dyt: bool = True,
        conv_mapping: bool = False,
        conformer: bool = False,
        cross_attn: bool = False,
        **_: Any,
    ):
        super().__init__()
        if type not in ("encoder", "decoder"):
            raise ValueError(f"unknown block type {type!r}")
        if conformer or cross_attn:
            raise ValueError("conformer and cross-attention blocks are not implemented")
        self.type, self.stride, self.depth = type, stride, transformer_depth
        self.chunk_size, self.chunk_midpoint_shift = chunk_size, chunk_midpoint_shift
        self.mask_noise = mask_noise
        dim = out_channels if type == "encoder" else in_channels
        self.window = None if sliding_window is None else [w * (stride + 1) for w in sliding_window]
        if sliding_window is None and chunk_size % stride:
            raise ValueError(f"stride {stride} must divide chunk_size {chunk_size}")
        self.mapping = (
            nn.Conv1d(
                in_channels,
                out_channels,
                3 if conv_mapping else 1,
                padding="same",
                bias=mapping_bias,
            )
            if in_channels != out_channels
            else nn.Identity()
        )
        self.in_seg, self.out_seg = (stride, 1) if type == "encoder" else (1, stride)
        self.new_tokens = nn.Parameter(
            1e-5 * torch.randn(1, 1 if variable_stride else self.out_seg, dim)
        )
        self.transformers = nn.ModuleList(
            TransformerBlock(
                dim,
                dim_heads=dim_heads,
                norm_type="dyt" if dyt else "rms_norm",
                layer_scale=layer_scale,
                attn_kwargs={
                    "qk_norm": "dyt" if dyt else "rms",
                    "qk_norm_eps": 1e-3,
                    "differential": differential,
                    "feat_scale": feat_scale,
                },
                ff_kwargs={
                    "mult": ff_mult,
                    "sinusoidal": (transformer_depth - i) < sinusoidal_blocks,
                },
                norm_kwargs={"eps": 1e-3},
            )
            for i in range(transformer_depth)
        )

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """The transformers over the token sequence `x` (b, n, d)."""
        b = x.shape[0]
        if self.window is not None:
            for layer in self.transformers:
                x = layer(x, self.window)
            return x
        chunk = self.chunk_size + self.chunk_size // self.stride
        layers = list(self.transformers)
        split = len(layers) // 2 if self.chunk_midpoint_shift else len(layers)

        def chunked(x, group):
            x = x.reshape(-1, chunk, x.shape[-1])
            for layer in group:
                x = layer(x)
            return x.reshape(b, -1, x.shape[-1])

        x = chunked(x, layers[:split])
        if split < len(layers):
            shift = chunk // 2
            x = torch.cat([x[:, :shift], x, x[:, -shift:]], dim=1)
            x = chunked(x, layers[split:])[:, shift:-shift]
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.type == "encoder":
            if self.depth > 0:
                modulo = self.chunk_size if self.window is None else self.in_seg
                x = _pad_to_multiple(x, modulo, dim=-1)
            x = self.mapping(x)
        if self.depth > 0:
            b, d = x.shape[0], x.shape[1]
            x = x.transpose(1, 2)
            if self.type == "decoder":
                modulo = self.chunk_size // self.stride if self.window is None else self.in_seg
                x = _pad_to_multiple(x, modulo, dim=-2)
            groups = x.shape[1] // self.in_seg
            x = x.reshape(b * groups, self.in_seg, d)
            tokens = self.new_tokens.expand(b * groups, self.out_seg, d)
            if self.training and self.mask_noise > 0:
                tokens = tokens + torch.randn_like(tokens) * self.mask_noise
            x = torch.cat([x, tokens], dim=1).reshape(b, -1, d)
            x = self._run(x)
            x = x.reshape(b * groups, self.in_seg + self.out_seg, d)[:, -self.out_seg :]
            x = x.reshape(b, groups * self.out_seg, d).transpose(1, 2)
        if self.type == "decoder":
            x = self.mapping(x)
        return x


class Transpose(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(-1, -2)


class SAMEEncoder(nn.Module):
    def __init__(
        self,
        in_channels: int = 2,
        channels: int = 128,
        latent_dim: int = 32,
        c_mults=(1, 2, 4, 8),
        strides=(2, 4, 8, 8),
        transformer_depths=(3, 3, 3, 3),
        **kwargs: Any,
    ):
        super().__init__()
        dims = [in_channels] + [c * channels for c in c_mults]
        self.layers = nn.ModuleList(
            [
                *(
                    TransformerResamplingBlock(
                        dims[i],
                        dims[i + 1],
                        strides[i],
                        transformer_depth=transformer_depths[i],
                        **kwargs,
                    )
                    for i in range(len(c_mults))
                ),
                Transpose(),
                nn.Linear(dims[-1], latent_dim),
                Transpose(),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class SAMEDecoder(nn.Module):
    def __init__(
        self,
        out_channels: int = 2,
        channels: int = 128,
        latent_dim: int = 32,
        c_mults=(1, 2, 4, 8),
        strides=(2, 4, 8, 8),
        transformer_depths=(3, 3, 3, 3),
        sinusoidal_blocks=None,
        **kwargs: Any,
    ):
        super().__init__()
        dims = [out_channels] + [c * channels for c in c_mults]
        depth = len(c_mults)
        sinusoidal_blocks = list(sinusoidal_blocks or [0] * depth)
        self.layers = nn.ModuleList(
            [
                Transpose(),
                nn.Linear(latent_dim, dims[-1]),
                Transpose(),
                *(
                    TransformerResamplingBlock(
                        dims[i],
                        dims[i - 1],
                        strides[i - 1],
                        type="decoder",
                        transformer_depth=transformer_depths[i - 1],
                        sinusoidal_blocks=sinusoidal_blocks[i - 1],
                        **kwargs,
                    )
                    for i in range(depth, 0, -1)
                ),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class SoftNormBottleneck(nn.Module):
    """A learned per-channel affine map, divided by the running std of the latents (when
    `auto_scale`): the latent scale the diffusion model was trained on."""

    def __init__(
        self, dim: int = 32, noise_augment_dim: int = 0, auto_scale: bool = False, **_: Any
    ):
        super().__init__()
        self.scaling_factor = nn.Parameter(torch.ones(1, dim, 1))
        self.bias = nn.Parameter(torch.zeros(1, dim, 1))
        self.noise_scaling_factor = nn.Parameter(torch.ones(1, noise_augment_dim, 1))
        if auto_scale:
            self.running_std = nn.Parameter(torch.ones(1), requires_grad=False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.scaling_factor + self.bias
        if hasattr(self, "running_std"):
            x = x / self.running_std
        return x

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "running_std"):
            x = x * self.running_std
        return x


class PatchedPretransform(nn.Module):
    """`patch_size` consecutive samples of each channel side by side as channels."""

    def __init__(self, channels: int, patch_size: int, oversampling: int = 1, **kwargs: Any):
        super().__init__()
        if oversampling != 1 or kwargs.get("postfilter_channels"):
            raise ValueError("oversampling and post-filters are not implemented")
        self.channels, self.patch_size = channels, patch_size

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        x = _pad_to_multiple(x, self.patch_size, dim=-1)
        b, c, n = x.shape
        h = self.patch_size
        return x.reshape(b, c, n // h, h).permute(0, 1, 3, 2).reshape(b, c * h, n // h)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        b, ch, n = x.shape
        h = self.patch_size
        return x.reshape(b, ch // h, h, n).permute(0, 1, 3, 2).reshape(b, ch // h, n * h)


class SAMEAutoencoder(nn.Module):
    """Patches, encoder, soft-norm bottleneck (and back), as one module whose state dict
    has upstream's names (`encoder.…`, `decoder.…`, `bottleneck.…`)."""

    def __init__(self, model_config: dict[str, Any]):
        super().__init__()
        cfg = model_config if "encoder" in model_config else model_config["pretransform"]["config"]
        self.latent_dim = int(cfg["latent_dim"])
        self.downsampling_ratio = int(cfg["downsampling_ratio"])
        self.io_channels = int(cfg.get("io_channels", 2))
        self.soft_clip = bool(cfg["decoder"].get("soft_clip", False))
        self.pretransform = PatchedPretransform(**cfg["pretransform"]["config"])
        self.encoder = SAMEEncoder(**cfg["encoder"]["config"])
        self.decoder = SAMEDecoder(**cfg["decoder"]["config"])
        self.bottleneck = SoftNormBottleneck(**cfg["bottleneck"]["config"])

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, channels, samples) -> (batch, latent_dim, samples / downsampling_ratio)."""
        return self.bottleneck.encode(self.encoder(self.pretransform.encode(audio)))

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """(batch, latent_dim, frames) -> (batch, channels, frames * downsampling_ratio), the
        frames first padded as the decoder's chunks need."""
        audio = self.pretransform.decode(self.decoder(self.bottleneck.decode(latents)))
        return torch.tanh(audio) if self.soft_clip else audio
