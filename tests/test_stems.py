"""Stems through the real Demucs loader with a tiny random-weight HTDemucs, and the GPU resource."""

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from dagster import AssetKey, materialize
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from mir.errors import ModelNotFound
from mir.info import info_path, read_info
from mir.separation.core import Separation, process_in_blocks, quality_check
from mir.separation.demucs import load_demucs, package_problems, separate_demucs
from mir.separation.files import mp3_bitrate, write_stem
from mir.synth import render_song
from mir_assets.definitions import all_assets, all_checks
from resources.gpu import GpuResource
from tests.conftest import write_config
from tests.helpers import register, run_track, step_failures
from tests.tiny_models import write_tiny_demucs

SR = 44100


def make_tiny_demucs(repo, name="tiny"):
    """A random-weight HTDemucs as Demucs's export tool writes a release (tests/tiny_models.py)."""
    return write_tiny_demucs(repo, name)


@pytest.fixture
def demucs_project(project, tmp_path):
    repo = make_tiny_demucs(tmp_path / "models" / "demucs")
    write_config(
        project.root,
        separation={"demucs": {"model": "tiny", "repo": str(repo)}, "block_seconds": 5.0},
    )
    return project


def test_tiny_htdemucs_as_the_export_tool_writes_it_loads_and_separates_four_stems(tmp_path):
    import torch

    repo = make_tiny_demucs(tmp_path / "repo")
    (th,) = repo.glob("*.th")
    package = torch.load(th, map_location="cpu", weights_only=False)
    # a release: float16 weights, the metrics entry, the sha256 prefix in the name
    assert set(package) == {"klass", "args", "kwargs", "state", "training_args", "metrics"}
    assert {v.dtype for v in package["state"].values()} == {torch.float16}
    assert isinstance(package["training_args"], dict) and len(package["metrics"]) == 2
    assert th.stem.startswith("5eed0001-") and package_problems(th) == []
    assert package_problems(repo / "tiny.yaml") == []
    model = load_demucs("tiny", repo)
    assert next(model.parameters()).dtype == torch.float32
    song = render_song(bpm=120, bars=2)
    result = separate_demucs(model, song.mix, SR, block_s=2.0)
    assert result.sr == SR
    assert set(result.stems) == {"drums", "bass", "other", "vocals"}
    assert all(s.shape == (song.mix.shape[0], 2) for s in result.stems.values())
    assert all(np.isfinite(s).all() and np.abs(s).max() > 0 for s in result.stems.values())


def test_a_demucs_package_whose_configuration_does_not_build_its_weights_is_named(tmp_path):
    import torch

    repo = make_tiny_demucs(tmp_path / "repo")
    (th,) = repo.glob("*.th")
    package = torch.load(th, map_location="cpu", weights_only=False)
    package["kwargs"]["channels"] = 16  # weights of channels 8
    torch.save(package, th)
    (problem,) = package_problems(th)
    assert problem.startswith(
        "243 key(s) of another shape: encoder.0.conv.weight: [8, 4, 8, 1] in the file, "
        "[16, 4, 8, 1] in the network"
    )
    assert package_problems(repo / "tiny.yaml") == [f"{th.name}: {problem}"]
    torch.save(package["state"], th)  # a bare state dict is not a package
    (problem,) = package_problems(th)
    assert problem.startswith("no klass, args, kwargs, state: a state dict, not Demucs's package")


def test_a_missing_demucs_model_names_file_key_and_readme(tmp_path):
    with pytest.raises(ModelNotFound) as err:
        load_demucs("htdemucs", tmp_path / "empty")
    message = str(err.value)
    assert (
        "htdemucs.yaml" in message
        and "separation.demucs.model" in message
        and "models/README.md" in message
    )


def test_blocks_with_crossfades_reassemble_the_signal():
    x = np.random.default_rng(0).standard_normal((2, 10_000)).astype(np.float32)
    out = process_in_blocks(
        lambda b: np.stack([np.asarray(b), 2 * np.asarray(b)]), x, n_sources=2, block=3000, fade=500
    )
    assert np.allclose(out[0], x, atol=1e-5) and np.allclose(out[1], 2 * x, atol=1e-5)


def test_a_near_silent_stem_is_flagged_and_mixed_into_other():
    loud = 0.3 * np.ones((1000, 2), np.float32)
    quiet = 1e-4 * np.ones((1000, 2), np.float32)
    sep = Separation(
        stems={"drums": loud, "bass": quiet, "other": loud.copy(), "vocals": loud}, sr=SR
    )
    assert quality_check(sep) == ["bass"]
    assert not sep.stems["bass"].any()
    assert np.allclose(sep.stems["other"], loud + quiet)


def test_mp3_stems_follow_the_source_bitrate_rounded_up(tmp_path):
    src = tmp_path / "src.mp3"
    write_stem(src, render_song(bpm=100, bars=1).mix, SR, bitrate=160)
    assert mp3_bitrate(src) == 192
    out = write_stem(tmp_path / "bass.mp3", np.zeros((SR, 2), np.float32), SR, bitrate=192)
    assert sf.info(str(out)).samplerate == SR


def test_stems_asset_writes_four_stems_in_the_track_folder_and_feeds_per_stem_features(
    demucs_project, instance
):
    song = render_song(bpm=110, bars=2)
    path = demucs_project.add_audio("01 - Song.flac", song.mix)
    (track_id,) = register(demucs_project, [path], instance)
    selection = [
        "source_audio",
        "stems",
        "beat_grid",
        "stem_loudness",
        "stem_rhythm",
        "stem_harmonic",
    ]
    result = run_track(demucs_project, instance, track_id, selection=selection)
    assert result.success
    folder = demucs_project.library / track_id
    for name in ("drums", "bass", "other", "vocals"):
        info = sf.info(str(folder / f"{name}.flac"))
        assert info.samplerate == SR and info.frames == song.mix.shape[0]
    assert not (folder / "htdemucs").exists()
    values = read_info(info_path(folder))
    assert values["stem_backend"] == "demucs" and values["stem_model"] == "tiny"
    assert values["stems_peak_normalized"] is False
    assert (
        "lufs_vocals" in values
        and "syncopation_drums" in values
        and "harmonic_movement_bass" in values
    )
    (mat,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey("stems")
    ]
    metadata = mat.materialization.metadata
    assert metadata["device"].value == "cpu" and metadata["model_loads"].value == 1


def test_a_three_track_run_sets_up_the_gpu_resource_once_and_loads_the_model_once(
    demucs_project, instance
):
    paths = [
        demucs_project.add_audio(f"t{i}.wav", render_song(bpm=100 + 10 * i, bars=1, seed=i).mix)
        for i in range(3)
    ]
    ids = register(demucs_project, paths, instance)
    setups, loads = GpuResource.setups, GpuResource.loads
    result = materialize(
        [*all_assets, *all_checks],
        selection=["source_audio", "stems"],
        instance=instance,
        resources=demucs_project.resources(),
        tags={ASSET_PARTITION_RANGE_START_TAG: ids[0], ASSET_PARTITION_RANGE_END_TAG: ids[-1]},
    )
    assert result.success
    assert GpuResource.setups - setups == 1
    assert GpuResource.loads - loads == 1
    stem_mats = [
        e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey("stems")
    ]
    assert sorted(e.partition for e in stem_mats) == sorted(ids)
    assert all((demucs_project.library / t / "vocals.wav").exists() is False for t in ids)
    assert all((demucs_project.library / t / "vocals.flac").exists() for t in ids)


def test_stems_start_first_among_the_steps_ready_after_source_audio(demucs_project, instance):
    """The GPU-pool step goes first: a run that finds the pool held by another run
    does its CPU features while it waits, instead of idling after them."""
    path = demucs_project.add_audio("song.wav", render_song(bpm=120, bars=1).mix)
    (track_id,) = register(demucs_project, [path], instance)
    selection = ["source_audio", "loudness", "spectral_features", "stems"]
    result = run_track(demucs_project, instance, track_id, selection=selection)
    assert result.success
    started = [e.step_key for e in result.all_events if e.is_step_start]
    assert started[:2] == ["source_audio", "stems"]


def test_a_missing_model_fails_stems_alone_while_cpu_assets_succeed(project, instance, tmp_path):
    write_config(
        project.root,
        separation={"demucs": {"model": "htdemucs", "repo": str(tmp_path / "nothing")}},
    )
    path = project.add_audio("song.wav", render_song(bpm=120, bars=2).mix)
    (track_id,) = register(project, [path], instance)
    selection = ["source_audio", "stems", "beat_grid", "loudness", "stem_loudness"]
    result = run_track(project, instance, track_id, selection=selection, raise_on_error=False)
    failed = step_failures(result)
    assert set(failed) == {"stems"}
    assert "htdemucs.yaml" in failed["stems"] and "separation.demucs.model" in failed["stems"]
    succeeded = {e.step_key for e in result.all_events if e.is_step_success}
    assert {
        "source_audio",
        "beat_grid",
        "loudness",
    } <= succeeded and "stem_loudness" not in succeeded


_PROBE = """
import os, sys
from mir_assets.definitions import defs
defs()  # the code location, built as Dagster builds it: the configuration read once
assert "torch" not in sys.modules, "torch imported before the ROCm environment"
print(os.environ["HIP_FORCE_DEV_KERNARG"], os.environ["PYTORCH_TUNABLEOP_TUNING"])
import torch  # noqa: F401
"""


def test_rocm_variables_are_set_before_torch_is_imported_and_shell_exports_win(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HIP_", "PYTORCH_"))}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "0"]
    env["HIP_FORCE_DEV_KERNARG"] = "0"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.stdout.split() == ["0", "0"], proc.stderr
