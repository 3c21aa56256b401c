"""Audiobox Aesthetics through the real loader: a random-weight `AesMultiOutput` (the
package's own architecture, full size: the class takes no smaller encoder) saved in the
released checkpoint's format."""

import math
import sys
import types

import numpy as np
import pytest
from dagster import AssetKey, materialize
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from mir.aesthetics import (
    AXES,
    SR,
    checkpoint_problems,
    load_aesthetics,
    save_checkpoint,
    score,
)
from mir.audio import resample
from mir.config import config_from_dict
from mir.errors import ModelNotFound
from mir.info import info_path, read_info
from mir.synth import render_song
from mir_assets.definitions import all_assets, all_checks
from mir_assets.selection import missing_model, runnable_track_assets
from resources.gpu import GpuResource
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import failures_of_one_song, register

#: per-axis mean and std of the targets, distinct so that a mix-up of axes shows
TARGETS = {
    "CE": {"mean": 5.0, "std": 1.0},
    "CU": {"mean": 6.0, "std": 1.5},
    "PC": {"mean": 4.0, "std": 2.0},
    "PQ": {"mean": 7.0, "std": 0.5},
}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    import torch

    from mir._vendor.audiobox_aesthetics.model.aes import AesMultiOutput

    torch.manual_seed(0)
    model = AesMultiOutput(target_transform=TARGETS)
    with torch.no_grad():  # larger heads, so that windows and axes give visibly different scores
        for head in model.proj_layer.values():
            head[-1].weight.mul_(30.0)
    return save_checkpoint(model, tmp_path_factory.mktemp("models") / "audiobox" / "checkpoint.pt")


@pytest.fixture
def aesthetics_project(project, checkpoint):
    write_config(
        project.root,
        aesthetics={"model_dir": str(checkpoint.parent), "batch_size": 2, "windows_per_pass": 2},
    )
    return project


def _package_scores(checkpoint, y16: np.ndarray) -> dict[str, float]:
    """The package's own inference (`AesPredictor.forward`) on a 16 kHz signal.

    `infer` imports torchaudio at the top and calls it only to resample; at 16 kHz in and
    out torchaudio returns the signal unchanged, which is all this stand-in does."""
    import torch

    def resample_16k(wav, orig_freq, new_freq):
        assert orig_freq == new_freq == SR
        return wav

    stand_in = types.ModuleType("torchaudio")
    stand_in.functional = types.SimpleNamespace(resample=resample_16k)
    saved = sys.modules.get("torchaudio")
    sys.modules["torchaudio"] = stand_in
    try:
        from mir._vendor.audiobox_aesthetics.infer import AesPredictor

        predictor = AesPredictor(checkpoint_pth=str(checkpoint))
        (row,) = predictor.forward([{"path": torch.from_numpy(y16)[None], "sample_rate": SR}])
    finally:
        sys.modules.pop("mir._vendor.audiobox_aesthetics.infer", None)
        if saved is None:
            sys.modules.pop("torchaudio", None)
        else:
            sys.modules["torchaudio"] = saved
    return {AXES[axis]: value for axis, value in row.items()}


def test_our_inference_gives_the_packages_scores_on_the_same_16khz_signal(checkpoint):
    song = render_song(bpm=118, bars=7, seed=3)  # 14.2 s: one full window, one padded
    y16 = resample(song.mix.mean(1).astype(np.float32), orig_sr=44100, target_sr=SR)
    assert 10 * SR < y16.size < 20 * SR
    (ours,) = score(load_aesthetics(checkpoint), [y16], windows_per_pass=1)
    theirs = _package_scores(checkpoint, y16)
    assert set(ours) == {
        "content_enjoyment",
        "content_usefulness",
        "production_complexity",
        "production_quality",
    }
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, rel=1e-5, abs=1e-5), key
    assert len({round(v, 3) for v in ours.values()}) == 4  # the axes really differ


def test_a_multi_track_run_loads_the_model_once_and_stores_four_finite_scores(
    aesthetics_project, instance
):
    project = aesthetics_project
    paths = [
        project.add_audio(f"a{i}.wav", render_song(bpm=100 + 12 * i, bars=1, seed=i).mix)
        for i in range(3)
    ]
    ids = register(project, paths, instance)
    loads = GpuResource.loads
    result = materialize(
        [*all_assets, *all_checks],
        selection=["source_audio", "aesthetics"],
        instance=instance,
        resources=project.resources(),
        tags={ASSET_PARTITION_RANGE_START_TAG: ids[0], ASSET_PARTITION_RANGE_END_TAG: ids[-1]},
    )
    assert result.success
    assert GpuResource.loads - loads == 1
    mats = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == AssetKey("aesthetics")
    ]
    assert sorted(e.partition for e in mats) == sorted(ids)
    assert all(e.materialization.metadata["model_loads"].value == 1 for e in mats)
    checks = [
        e for e in result.get_asset_check_evaluations() if e.asset_key == AssetKey("aesthetics")
    ]
    assert checks and all(e.passed for e in checks)
    stored = DuckDBTables(project.duckdb).read("aesthetics", ids)
    for track_id in ids:
        info = read_info(info_path(project.library / track_id))
        for key in AXES.values():
            assert math.isfinite(info[key]) and 1 <= info[key] <= 10, (track_id, key)
            assert stored[track_id][key] == pytest.approx(info[key])
    assert len({stored[t]["content_enjoyment"] for t in ids}) == 3  # each track its own score


def test_a_missing_checkpoint_fails_aesthetics_alone_naming_the_file_and_key(
    project, instance, tmp_path
):
    write_config(project.root, aesthetics={"model_dir": str(tmp_path / "none")})
    failed = failures_of_one_song(project, instance, ["source_audio", "aesthetics", "loudness"])
    assert set(failed) == {"aesthetics"}
    assert "checkpoint.pt" in failed["aesthetics"]
    assert "aesthetics.checkpoint" in failed["aesthetics"]
    with pytest.raises(ModelNotFound):
        load_aesthetics(tmp_path / "none" / "checkpoint.pt")


def test_the_default_checkpoint_is_models_audiobox_and_runs_skip_aesthetics_without_it(
    tmp_path, checkpoint
):
    cfg = config_from_dict({}, root=tmp_path)
    missing = missing_model(cfg, "aesthetics")
    assert missing is not None
    assert missing.expected == str(tmp_path / "models" / "audiobox" / "checkpoint.pt")
    assert "aesthetics.checkpoint" in str(missing) and "models/README.md" in str(missing)
    assert AssetKey("aesthetics") not in runnable_track_assets(cfg, all_assets)
    present = config_from_dict({"aesthetics": {"model_dir": str(checkpoint.parent)}})
    assert missing_model(present, "aesthetics") is None
    assert AssetKey("aesthetics") in runnable_track_assets(present, all_assets)


def test_the_checkpoint_signature_is_checked_against_its_model_cfg(checkpoint, tmp_path):
    import torch

    assert checkpoint_problems(checkpoint) == []
    released = torch.load(checkpoint, map_location="cpu", weights_only=True)
    released["model_cfg"]["proj_num_layer"] = released["model_cfg"]["proj_num_layer"] + 1
    torch.save(released, tmp_path / "checkpoint.pt")
    missing, shapes = checkpoint_problems(tmp_path / "checkpoint.pt")
    assert missing.startswith("8 key(s) missing from the file: proj_layer.CE.")
    assert shapes.startswith("8 key(s) of another shape: proj_layer.CE.0.weight: [")
    torch.save(released["state_dict"], tmp_path / "bare.pt")
    assert checkpoint_problems(tmp_path / "bare.pt") == [
        "no state_dict, model_cfg, target_transform (the released checkpoint holds them)"
    ]
