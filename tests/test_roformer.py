"""BS-RoFormer (the vendored model of audio-separator) through our loader and windowed
inference, with a tiny random-weight checkpoint and its yaml as UVR ships them."""

import numpy as np
import pytest
import yaml

from mir.config import RoformerConfig
from mir.errors import ModelNotFound
from mir.signatures import SignatureError
from mir.synth import render_song
from tests.tiny_models import ROFORMER_FILE, write_tiny_roformer

SR = 44100
MODEL = ROFORMER_FILE


def make_tiny_roformer(folder, target: str | None = None, **fields):
    """A tiny BS-RoFormer checkpoint and its yaml as the published ones are laid out."""
    return write_tiny_roformer(folder, target=target, **fields)


def test_tiny_bs_roformer_loads_offline_and_separates_four_peak_normalised_stems(tmp_path):
    import sys

    from mir.separation.roformer import load_roformer, separate_roformer

    cfg = make_tiny_roformer(tmp_path / "bs-roformer")
    model = load_roformer(cfg)
    assert model.instruments == ["drums", "bass", "other", "vocals"]
    assert model.chunk_size == 441 * (201 - 1)  # stft_hop_length x (inference.dim_t - 1)
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


def test_fields_beyond_the_default_checkpoints_reach_the_network(tmp_path):
    """A checkpoint trained with another mask estimator depth, MLP width and a normalised
    STFT: every field of the yaml's `model:` reaches the network (audio-separator's loader
    dropped `mask_estimator_depth` and `stft_normalized`)."""
    import torch

    from mir.separation.roformer import checkpoint_problems, config_problems, load_roformer

    cfg = make_tiny_roformer(
        tmp_path / "bs-roformer", mask_estimator_depth=1, mlp_expansion_factor=2,
        stft_normalized=True,
    )  # fmt: skip
    ckpt = cfg.model_dir / cfg.model_file
    assert checkpoint_problems(ckpt) == [] and config_problems(ckpt.with_suffix(".yaml")) == []
    model = load_roformer(cfg)
    assert model.net.stft_kwargs["normalized"] is True
    assert len(model.net.mask_estimators[0].to_freqs[0][0]) == 1  # depth 1: one linear layer
    mix = (np.random.default_rng(2).standard_normal((2, model.chunk_size)) * 0.1).astype(np.float32)
    out = model.demix(mix)
    assert set(out) == {"drums", "bass", "other", "vocals"}
    assert all(np.isfinite(v).all() and v.shape == (2, model.chunk_size) for v in out.values())
    # the same weights under a yaml that leaves those fields out: named, key by key
    yaml_path = ckpt.with_suffix(".yaml")
    text = yaml_path.read_text().replace("mask_estimator_depth: 1", "mask_estimator_depth: 2")
    yaml_path.write_text(text)
    (missing, shapes) = checkpoint_problems(ckpt)
    assert missing.startswith(
        f"against {yaml_path.name}: 496 key(s) missing from the file: "
        "mask_estimators.0.to_freqs.0.0.2.weight, mask_estimators.0.to_freqs.0.0.2.bias"
    )
    assert "of another shape" in shapes
    with pytest.raises(SignatureError, match="the weights do not fit the network"):
        load_roformer(cfg)
    torch.save({"state_dict": {}}, ckpt)
    assert "missing from the file" in checkpoint_problems(ckpt)[0]


def test_a_yaml_of_another_architecture_is_refused_by_name(tmp_path):

    from mir.separation.roformer import config_problems, load_roformer

    cfg = make_tiny_roformer(tmp_path / "bs-roformer")
    path = cfg.model_dir / f"{MODEL}.yaml"
    config = yaml.load(path.read_text(), Loader=yaml.FullLoader)
    del config["model"]["freqs_per_bands"]
    config["model"]["num_bands"] = 60  # a Mel-band RoFormer's field
    path.write_text(yaml.dump(config))
    (problem,) = config_problems(path)
    assert (
        problem == "`model:` lacks freqs_per_bands (a Mel-band RoFormer's yaml: not a BS-RoFormer)"
    )
    config["model"]["freqs_per_bands"] = list(config["model"].pop("num_bands") * [1])
    config["model"]["use_shared_bias"] = True
    path.write_text(yaml.dump(config))
    assert config_problems(path) == [
        "`model:` has field(s) the BS-RoFormer network does not take: use_shared_bias "
        "(another architecture, or a newer one than audio-separator 0.47.1's, vendored)"
    ]
    with pytest.raises(SignatureError, match="use_shared_bias"):
        load_roformer(cfg)


def test_a_vocals_only_separator_gives_what_it_can_and_the_drum_features_name_the_model(
    project, instance, tmp_path
):
    from mir.info import info_path, read_info
    from tests.conftest import write_config
    from tests.helpers import register, run_track, step_failures

    cfg = make_tiny_roformer(tmp_path / "models" / "bs-roformer", target="vocals")
    write_config(
        project.root,
        separation={
            "backend": "bs_roformer",
            "bs_roformer": {"model_dir": str(cfg.model_dir), "model_file": cfg.model_file},
        },
    )
    path = project.add_audio("song.wav", render_song(bpm=100, bars=2).mix[: SR * 3])
    (track_id,) = register(project, [path], instance)
    assert run_track(project, instance, track_id, selection=["source_audio", "stems"]).success
    info = read_info(info_path(project.library / track_id))
    assert sorted(info["stem_files"]) == ["other.flac", "vocals.flac"]
    result = run_track(
        project, instance, track_id, selection=["stem_loudness"], raise_on_error=False
    )
    (message,) = step_failures(result).values()
    assert "no drums, bass stem(s)" in message
    assert f"(bs_roformer: {MODEL}.ckpt) gives vocals, other only, not drums, bass" in message
    assert "htdemucs" in message and "materialize the `stems` asset" not in message
