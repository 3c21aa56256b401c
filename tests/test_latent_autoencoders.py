"""The autoencoders of the latent corpus, with tiny random weights of the real
architectures: shape and rate, determinism, a decode round trip, loading, missing files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mir.errors import ModelNotFound
from mir.latents.autoencoders import (
    CheckpointMismatch,
    check_autoencoder,
    load_autoencoder,
    preset_check,
)
from mir.latents.presets import PRESETS
from tests.latent_models import write_tiny_autoencoder

#: (encoder, preset, latent channels, samples per frame)
CASES = [
    ("same-l", "sa3-medium", 256, 4096),
    ("same-s", "sa3-small", 256, 4096),
    ("sao-vae", "sao-1.0", 64, 2048),
]


def _stereo(seconds_frames: int, spf: int, n: int = 2, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(seconds_frames * spf) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    return np.stack(
        [np.stack([tone, tone * 0.5]) + 0.01 * rng.standard_normal((2, t.size)) for _ in range(n)]
    ).astype(np.float32)


@pytest.mark.parametrize(("encoder", "preset", "channels", "spf"), CASES)
def test_tiny_autoencoder_gives_the_real_latent_shape_rate_and_round_trip(
    tmp_path, encoder, preset, channels, spf
):
    ae = load_autoencoder(encoder, write_tiny_autoencoder(encoder, tmp_path / encoder))
    preset_check(PRESETS[preset], ae)  # the preset's shape: no mismatch raised
    assert (ae.latent_channels, ae.samples_per_frame, ae.sample_rate) == (channels, spf, 44100)
    assert PRESETS[preset].frame_rate == pytest.approx(44100 / spf)
    frames = 8
    audio = _stereo(frames, spf)
    latents = ae.encode(audio, batch_size=1)
    assert latents.shape == (2, channels, frames)
    assert np.isfinite(latents).all() and latents.std() > 0
    # deterministic: the same audio, in another batch grouping, gives the same latents
    again = ae.encode(audio, batch_size=2)
    np.testing.assert_allclose(again, latents, rtol=0, atol=1e-4)
    # the two windows differ (noise), so do their latents: the encoder reads its input
    assert np.abs(latents[0] - latents[1]).max() > 1e-4
    decoded = ae.decode(latents)
    assert decoded.shape == (2, 2, frames * spf)
    assert np.isfinite(decoded).all()


def test_same_latent_rate_is_one_frame_per_4096_samples_for_any_length(tmp_path):
    ae = load_autoencoder("same-s", write_tiny_autoencoder("same-s", tmp_path / "s"))
    for frames in (2, 3, 5):  # SAME-S's chunks hold 2 frames: odd counts are padded inside
        assert ae.encode(_stereo(frames, 4096, n=1)).shape == (1, 256, frames)


def test_loaded_weights_are_the_saved_ones(tmp_path):
    """A checkpoint saved weight-normalised (as upstream saves SAME) loads to the same
    module: a second load encodes identically, another seed does not."""
    a = load_autoencoder("same-l", write_tiny_autoencoder("same-l", tmp_path / "a", seed=3))
    b = load_autoencoder("same-l", write_tiny_autoencoder("same-l", tmp_path / "b", seed=3))
    c = load_autoencoder("same-l", write_tiny_autoencoder("same-l", tmp_path / "c", seed=4))
    audio = _stereo(4, 4096, n=1)
    np.testing.assert_allclose(a.encode(audio), b.encode(audio), atol=1e-5)
    assert np.abs(a.encode(audio) - c.encode(audio)).max() > 1e-3


def test_a_missing_checkpoint_names_the_file_and_config_key(tmp_path):
    folder = write_tiny_autoencoder("same-l", tmp_path / "same-l")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelNotFound) as err:
        check_autoencoder("same-l", folder)
    assert err.value.expected == str(folder / "model.safetensors")
    assert err.value.config_key == "latents.same_l_dir"
    assert "latents" in str(err.value)


def test_a_checkpoint_that_does_not_fit_its_configuration_is_refused(tmp_path):
    folder = write_tiny_autoencoder("same-s", tmp_path / "s")
    config = json.loads((folder / "model_config.json").read_text())
    config["model"]["encoder"]["config"]["transformer_depths"] = [3]
    (folder / "model_config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointMismatch, match="missing"):
        load_autoencoder("same-s", folder)


def test_the_autoencoder_loads_once_through_the_gpu_resource(project, tmp_path):
    from resources.gpu import GpuResource

    gpu = GpuResource(settings=project.settings())
    folder = write_tiny_autoencoder("same-l", tmp_path / "same-l")
    loads = GpuResource.loads
    first = gpu.model(("latents", str(folder)), lambda: load_autoencoder("same-l", folder))
    second = gpu.model(("latents", str(folder)), lambda: load_autoencoder("same-l", folder))
    assert first is second and GpuResource.loads == loads + 1
    assert first.device.startswith(gpu.device)
    assert first.encode(_stereo(2, 4096, n=1)).shape == (1, 256, 2)
