"""Tiny autoencoders of the real architectures, with random weights, written as their
published files (checkpoint + configuration) for the latent tests.

The shapes that matter are the real ones: SAME patches 256 samples, groups 16 patches per
frame (4096 samples) and gives 256 channels; the SAO VAE downsamples 2048 times to 64
channels. Only the widths and depths inside are small."""

from __future__ import annotations

from pathlib import Path

import torch

from mir.latents.autoencoders import build_autoencoder, save_autoencoder


def same_config(*, sliding: bool) -> dict:
    """A SAME configuration: SAME-L's shape (sliding window) or SAME-S's (chunks with the
    midpoint shift), 16 wide instead of 1536 or 768."""
    block = dict(
        channels=8,
        c_mults=[2],
        strides=[16],
        transformer_depths=[2],
        latent_dim=256,
        differential=True,
        dim_heads=8,
        dyt=True,
        variable_stride=True,
        ff_mult=3,
    )
    block.update(
        {"sliding_window": [1, 1]} if sliding else {"chunk_size": 32, "chunk_midpoint_shift": True}
    )
    return {
        "model_type": "autoencoder",
        "sample_rate": 44100,
        "audio_channels": 2,
        "model": {
            "encoder": {"type": "same", "config": {"in_channels": 512, **block}},
            "decoder": {
                "type": "same",
                "config": {"out_channels": 512, "sinusoidal_blocks": [1], **block},
            },
            "bottleneck": {"type": "softnorm", "config": {"dim": 256, "auto_scale": True}},
            "pretransform": {"type": "patched", "config": {"channels": 2, "patch_size": 256}},
            "latent_dim": 256,
            "downsampling_ratio": 4096,
            "io_channels": 2,
        },
    }


def sao_vae_config() -> dict:
    """Stable Audio Open 1.0's VAE configuration (stable-audio-tools'
    stable_audio_2_0_vae.json), 4 channels wide instead of 128."""
    oobleck = dict(channels=4, c_mults=[1, 2, 4, 8, 16], strides=[2, 4, 4, 8, 8], use_snake=True)
    return {
        "model_type": "autoencoder",
        "sample_rate": 44100,
        "audio_channels": 2,
        "model": {
            "encoder": {
                "type": "oobleck",
                "config": {"in_channels": 2, "latent_dim": 128, **oobleck},
            },
            "decoder": {
                "type": "oobleck",
                "config": {"out_channels": 2, "latent_dim": 64, "final_tanh": False, **oobleck},
            },
            "bottleneck": {"type": "vae"},
            "latent_dim": 64,
            "downsampling_ratio": 2048,
            "io_channels": 2,
        },
    }


CONFIGS = {
    "same-l": lambda: same_config(sliding=True),
    "same-s": lambda: same_config(sliding=False),
    "sao-vae": sao_vae_config,
}


def write_tiny_autoencoder(encoder: str, folder: Path, *, seed: int = 0) -> Path:
    """Random weights (every parameter moved off its initial value, so no zero-initialised
    branch stays silent) in `folder`, as the
    encoder's published files; returns the folder."""
    torch.manual_seed(seed)
    config = CONFIGS[encoder]()
    ae = build_autoencoder(encoder, config)
    with torch.no_grad():
        for name, p in ae.module.named_parameters():
            if not name.endswith("running_std"):
                p.add_(torch.randn_like(p) * 0.2)
    save_autoencoder(ae, config, folder)
    return folder
