"""Per-crop model values (`crops.model_values`, `crops.flamingo`) and the crop's own
template caption, on a track whose halves differ: a quiet E minor half, then a louder C
major one. Each crop's `.INFO` and sidecar prompt come from its own audio; with the
switches off the crops carry the track's values."""

import json

import numpy as np
import pytest

from mir.audio import load_audio
from mir.captions.template import template_caption
from mir.info import info_path, read_info
from mir.synth import render_song
from resources.gpu import GpuResource
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import register, run_track

SR = 44100
LENGTH = 4 * SR  # short crops: a few per half
BASE = ["source_audio", "beat_grid", "loudness", "harmonic_features"]
AESTHETICS = ("content_enjoyment", "content_usefulness", "production_complexity")


def _configure(project, *, crops: dict, **sections):
    write_config(
        project.root,
        crops={"length_samples": LENGTH, "include_stems": False, **crops},
        classification={"model_dir": str(project.root / "no-models")},
        paths={
            "inbox": str(project.inbox), "library": str(project.library),
            "duckdb": str(project.duckdb), "crops": str(project.root / "crops"),
            "dataset": str(project.root / "dataset"), "reports": str(project.root / "reports"),
        },
        **sections,
    )  # fmt: skip


def _two_halves(project, instance) -> str:
    quiet = render_song(bpm=120, bars=4, tonic="E", scale="minor", seed=1).mix * 0.15
    loud = render_song(bpm=120, bars=4, tonic="C", scale="major", seed=2).mix
    path = project.add_audio("Two Halves.wav", np.concatenate([quiet, loud]))
    (track_id,) = register(project, [path], instance)
    return track_id


def _crops(project, track_id) -> list[tuple[dict, dict]]:
    """`(crop .INFO, sidecar)` of each crop, in order; the `.INFO` with its audio's path."""
    rows = DuckDBTables(project.duckdb).read_crop_rows("crops", [track_id])[track_id]
    out = []
    for row in rows:
        stem = row["file"].rsplit(".", 1)[0]
        info = read_info(project.root / "crops" / track_id / f"{stem}.INFO")
        sidecar = json.loads((project.root / "dataset" / track_id / f"{stem}.json").read_text())
        out.append(({**info, "path": project.root / "crops" / track_id / row["file"]}, sidecar))
    assert len(out) >= 3
    return out


def test_the_template_prompt_of_each_crop_is_made_of_its_own_tempo_key_and_loudness(
    project, instance
):
    _configure(project, crops={})
    track_id = _two_halves(project, instance)
    selection = [*BASE, "training_crops", "sat_dataset"]
    assert run_track(project, instance, track_id, selection=selection).success
    track = read_info(info_path(project.library / track_id))
    crops = _crops(project, track_id)
    for info, sidecar in crops:
        assert sidecar["prompt"] == info["caption_template"] == info["caption"]
        assert sidecar["prompt"] == template_caption(info)
        assert sidecar["lufs"] == pytest.approx(info["lufs"])
    (first, first_sidecar), (last, last_sidecar) = crops[0], crops[-1]
    assert first["lufs"] < -25 and last["lufs"] > -20
    # two chords are too few to name the tonic reliably; the mode they give is right
    assert first["tonic_scale"] == "minor" and last["tonic_scale"] == "major"
    assert "minor, 4/4 time" in first_sidecar["prompt"] and "quiet" in first_sidecar["prompt"]
    assert "major, 4/4 time" in last_sidecar["prompt"] and "quiet" not in last_sidecar["prompt"]
    assert template_caption(track) not in {first_sidecar["prompt"], last_sidecar["prompt"]}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    import torch

    from mir._vendor.audiobox_aesthetics.model.aes import AesMultiOutput
    from mir.aesthetics import save_checkpoint
    from tests.test_aesthetics import TARGETS

    torch.manual_seed(0)
    model = AesMultiOutput(target_transform=TARGETS)
    with torch.no_grad():  # larger heads, so that different audio visibly scores differently
        for head in model.proj_layer.values():
            head[-1].weight.mul_(30.0)
    return save_checkpoint(model, tmp_path_factory.mktemp("models") / "audiobox" / "checkpoint.pt")


def test_each_crop_gets_the_aesthetics_of_its_own_audio_and_the_tracks_when_off(
    project, instance, checkpoint
):
    from mir.aesthetics import SR as SR16
    from mir.aesthetics import load_aesthetics, score

    aesthetics = {"model_dir": str(checkpoint.parent), "windows_per_pass": 2}
    _configure(project, crops={"model_values": True}, aesthetics=aesthetics)
    track_id = _two_halves(project, instance)
    selection = [*BASE, "aesthetics", "training_crops", "sat_dataset"]
    assert run_track(project, instance, track_id, selection=selection).success
    track = read_info(info_path(project.library / track_id))

    model = load_aesthetics(checkpoint)
    crops = _crops(project, track_id)
    for info, _ in crops:
        (expected,) = score(model, [load_audio(info["path"]).mono(SR16)], windows_per_pass=2)
        for key in AESTHETICS:
            assert info[key] == pytest.approx(expected[key], abs=2e-3), key
    enjoyment = [info["content_enjoyment"] for info, _ in crops]
    assert crops[0][0]["content_enjoyment"] != pytest.approx(crops[-1][0]["content_enjoyment"])
    assert any(value != pytest.approx(track["content_enjoyment"]) for value in enjoyment)

    _configure(project, crops={"model_values": False}, aesthetics=aesthetics)
    assert run_track(project, instance, track_id, selection=["training_crops"]).success
    for info, _ in _crops(project, track_id):
        for key in AESTHETICS:
            assert info[key] == track[key]


def test_each_crop_gets_its_own_music_flamingo_caption_as_its_prompt(project, instance, tmp_path):
    from mir.captions.flamingo import MMPROJ, QUANT_FILES, load_captioner
    from mir.captions.prompts import fill_prompt
    from mir.config import load_config
    from tests.gguf_models import write_tiny_music_flamingo_mmproj, write_tiny_music_flamingo_text

    models = tmp_path / "music_flamingo"
    models.mkdir()
    write_tiny_music_flamingo_text(models / QUANT_FILES["Q8_0"], n_embd=64)
    write_tiny_music_flamingo_mmproj(models / MMPROJ, n_embd_text=64)
    template = "Genre and mood. {genres}"
    flamingo = {
        "backend": "llama_cpp", "model_dir": str(models), "context_size": 2048,
        "gpu_layers": 0, "prompts": {"genre_mood": template}, "max_tokens": {"genre_mood": 8},
    }  # fmt: skip
    _configure(project, crops={"flamingo": True}, music_flamingo=flamingo)
    track_id = _two_halves(project, instance)
    loads = GpuResource.loads
    selection = [*BASE, "captions", "training_crops", "sat_dataset"]
    assert run_track(project, instance, track_id, selection=selection).success
    assert GpuResource.loads - loads == 1  # the captions asset's model, used by the crops too
    track = read_info(info_path(project.library / track_id))
    assert track["music_flamingo_genre_mood"]

    captioner = load_captioner(load_config(project.config_path).music_flamingo)
    crops = _crops(project, track_id)
    for info, sidecar in crops:
        expected = captioner.caption(info["path"], fill_prompt(template, info), 8)
        assert info["music_flamingo_genre_mood"] == expected
        assert info["music_flamingo_model"] == "gguf_Q8_0"
        assert sidecar["prompt"] == info["caption"] == expected
    captioner.close()
    own = {info["music_flamingo_genre_mood"] for info, _ in crops}
    assert own != {track["music_flamingo_genre_mood"]}

    # off: every crop carries the track's caption, and the dataset prompts it
    _configure(project, crops={"flamingo": False}, music_flamingo=flamingo)
    assert run_track(
        project, instance, track_id, selection=["training_crops", "sat_dataset"]
    ).success
    for info, sidecar in _crops(project, track_id):
        assert info["music_flamingo_genre_mood"] == track["music_flamingo_genre_mood"]
        assert sidecar["prompt"] == track["music_flamingo_genre_mood"]
