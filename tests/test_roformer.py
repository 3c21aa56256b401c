"""BS-RoFormer (the vendored model of audio-separator) through our loader and windowed
inference, with a tiny random-weight checkpoint and its yaml as UVR ships them."""

import numpy as np
import pytest
import yaml

from mir.config import RoformerConfig
from mir.errors import ModelNotFound
from mir.synth import render_song

SR = 44100
MODEL = "model_bs_roformer_ep_317_sdr_12.9755"


def make_tiny_roformer(folder, target: str | None = None):
    """A BS-RoFormer (dim 16, depth 1, 4 stems) with random weights, and its yaml, as UVR ships
    them; with `target`, a single-target model as the default one (vocals, and `other`)."""
    import torch

    from mir._vendor.bs_roformer import BSRoformer

    model_cfg = {
        "dim": 16, "depth": 1, "stereo": True, "num_stems": 1 if target else 4, "time_transformer_depth": 1,
        "freq_transformer_depth": 1, "linear_transformer_depth": 0,
        "freqs_per_bands": tuple([2] * 24 + [4] * 12 + [12] * 8 + [24] * 8 + [48] * 8 + [128, 129]),
        "dim_head": 8, "heads": 2, "attn_dropout": 0.0, "ff_dropout": 0.0, "flash_attn": False,
        "stft_n_fft": 2048, "stft_hop_length": 512, "stft_win_length": 2048, "stft_normalized": False,
        "multi_stft_resolutions_window_sizes": (4096, 2048, 1024, 512, 256),
    }  # fmt: skip
    config = {
        "audio": {"chunk_size": 88064, "dim_f": 1024, "dim_t": 173, "hop_length": 512, "n_fft": 2048,
                  "num_channels": 2, "sample_rate": SR, "min_mean_abs": 0.0},
        "model": model_cfg,
        "training": {"instruments": [target, "other"] if target else ["drums", "bass", "other", "vocals"],
                     "target_instrument": target},
        "inference": {"batch_size": 1, "dim_t": 173, "num_overlap": 2},
    }  # fmt: skip
    torch.manual_seed(0)
    model = BSRoformer(**model_cfg)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / f"{MODEL}.ckpt")
    (folder / f"{MODEL}.yaml").write_text(yaml.dump(config))  # python tuples, as UVR's yamls
    return RoformerConfig(model_dir=folder, model_file=f"{MODEL}.ckpt")


def test_tiny_bs_roformer_loads_offline_and_separates_four_peak_normalised_stems(tmp_path):
    import sys

    from mir.separation.roformer import load_roformer, separate_roformer

    cfg = make_tiny_roformer(tmp_path / "bs-roformer")
    model = load_roformer(cfg)
    assert model.instruments == ["drums", "bass", "other", "vocals"]
    assert model.chunk_size == 512 * (173 - 1)  # stft_hop_length x (inference.dim_t - 1)
    # nothing of audio-separator, onnx2torch or torchvision is needed
    assert not [
        m
        for m in sys.modules
        if m.split(".")[0] in ("audio_separator", "onnx2torch", "torchvision")
    ]
    song = render_song(bpm=120, bars=2)
    mix = song.mix[: SR * 5] * 0.5
    result = separate_roformer(model, mix, SR, cfg, block_s=5.0)
    assert set(result.stems) == {"drums", "bass", "other", "vocals"}
    assert result.sr == SR and result.peak_normalized
    for stem in result.stems.values():
        assert stem.shape == (mix.shape[0], 2)
        assert np.abs(stem).max() == pytest.approx(0.9, abs=1e-4)


def test_a_missing_roformer_checkpoint_is_a_clear_error(tmp_path):
    from mir.separation.roformer import check_roformer

    with pytest.raises(ModelNotFound, match="separation.bs_roformer.model_file"):
        check_roformer(RoformerConfig(model_dir=tmp_path, model_file="absent.ckpt"))


def test_stems_asset_with_the_roformer_backend_records_peak_normalisation(
    project, instance, tmp_path
):
    from mir.info import info_path, read_info
    from tests.conftest import write_config
    from tests.helpers import register, run_track

    cfg = make_tiny_roformer(tmp_path / "models" / "bs-roformer")
    write_config(
        project.root,
        separation={
            "backend": "bs_roformer",
            "bs_roformer": {"model_dir": str(cfg.model_dir), "model_file": cfg.model_file},
        },
    )
    path = project.add_audio("song.mp3", render_song(bpm=100, bars=2).mix[: SR * 4])
    (track_id,) = register(project, [path], instance)
    assert run_track(
        project, instance, track_id, selection=["source_audio", "stems", "stem_loudness"]
    ).success
    info = read_info(info_path(project.library / track_id))
    assert info["stem_backend"] == "bs_roformer" and info["stems_peak_normalized"] is True
    assert info["stem_format"] == "mp3"  # lossy source: MP3 stems
    assert all(
        (project.library / track_id / f"{n}.mp3").is_file()
        for n in ("drums", "bass", "other", "vocals")
    )
    assert "lufs_vocals" in info


def test_windowed_inference_is_the_network_on_one_window_and_blends_longer_mixes(tmp_path):
    import torch

    from mir.separation.roformer import chunk_starts, load_roformer

    model = load_roformer(make_tiny_roformer(tmp_path / "bs-roformer"))
    rng = np.random.default_rng(0)
    one = (rng.standard_normal((2, model.chunk_size)) * 0.1).astype(np.float32)
    with torch.inference_mode():
        direct = model.net(torch.from_numpy(one)[None])[0].numpy()
    out = model.demix(one)  # one window: its Hamming weights divide out
    for i, name in enumerate(model.instruments):
        np.testing.assert_allclose(out[name], direct[i], atol=1e-6)
    # a longer mix: windows half a window apart, the last one ending at the end
    n = int(model.chunk_size * 2.3)
    assert chunk_starts(n, model.chunk_size, model.chunk_size // 2) == [
        0, model.chunk_size // 2, model.chunk_size, n - model.chunk_size
    ]  # fmt: skip
    mix = (rng.standard_normal((2, n)) * 0.1).astype(np.float32)
    one_by_one = model.demix(mix)
    model.batch_size = 3  # windows per forward pass change nothing but speed
    batched = model.demix(mix)
    for name in model.instruments:
        assert one_by_one[name].shape == (2, n)
        np.testing.assert_allclose(batched[name], one_by_one[name], atol=1e-6)
    # the first samples are the first window's alone
    with torch.inference_mode():
        first = model.net(torch.from_numpy(mix[:, : model.chunk_size])[None])[0].numpy()
    np.testing.assert_allclose(one_by_one["drums"][:, :1000], first[0][:, :1000], atol=1e-6)


def test_a_single_target_model_gives_its_stem_and_the_rest_of_the_mix(tmp_path):
    from mir.separation.roformer import load_roformer, separate_roformer

    cfg = make_tiny_roformer(tmp_path / "bs-roformer", target="vocals")
    model = load_roformer(cfg)
    assert model.instruments == ["vocals"] and model.stems == ["vocals", "other"]
    rng = np.random.default_rng(1)
    mix = (rng.standard_normal((2, int(model.chunk_size * 1.5))) * 0.1).astype(np.float32)
    out = model.demix(mix)
    assert set(out) == {"vocals", "other"}
    # what the model does not call vocals is the rest of the mix, as audio-separator gives it
    np.testing.assert_allclose(out["vocals"] + out["other"], mix, atol=1e-6)
    result = separate_roformer(model, mix.T, SR, cfg, block_s=2.0)
    assert set(result.stems) == {"vocals", "other"}
    assert all(stem.shape == (mix.shape[1], 2) for stem in result.stems.values())
