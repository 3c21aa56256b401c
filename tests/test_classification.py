"""Classification through onnxruntime with tiny ONNX graphs that have the real models'
tensor names and shapes, built here with the `onnx` package."""

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mir.classification import (
    EFFNET,
    HEADS,
    VGGISH_HEADS,
    classify,
    effnet_patches,
    load_classifier,
    vggish_patches,
)
from mir.errors import ModelNotFound
from mir.synth import render_song

SIZES = {"genre": 400, "mood": 56, "instrument": 40}
HEAD_NAMES = {  # input and output tensor names as the published models have them
    "genre": ("serving_default_model_Placeholder:0", "PartitionedCall:0"),
    "mood": ("model/Placeholder:0", "model/Sigmoid:0"),
    "instrument": ("model/Placeholder:0", "model/Sigmoid:0"),
}
VGGISH_LABELS = {
    "danceability": ["danceable", "not_danceable"],
    "tonal_atonal": ["atonal", "tonal"],
    "voice_instrumental": ["instrumental", "voice"],
    "gender": ["female", "male"],
}


def _save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _dense(name, inp, out, shape_in, n_out, rng, *, reduce_axis=None, activation="Sigmoid"):
    nodes, x = [], inp
    if reduce_axis is not None:
        nodes.append(
            helper.make_node("ReduceMean", [inp], ["pooled"], axes=[reduce_axis], keepdims=0)
        )
        x = "pooled"
    w = numpy_helper.from_array(
        rng.standard_normal((shape_in[-1], n_out)).astype(np.float32) * 0.05, "w"
    )
    nodes.append(helper.make_node("MatMul", [x, "w"], ["logits"]))
    if activation:
        nodes.append(
            helper.make_node(
                activation, ["logits"], [out], **({"axis": -1} if activation == "Softmax" else {})
            )
        )
    else:
        nodes[-1] = helper.make_node("MatMul", [x, "w"], [out])
    return helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(inp, TensorProto.FLOAT, ["batch", *shape_in])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", n_out])],
        initializer=[w],
    )  # fmt: skip


def make_tiny_essentia_models(folder):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    _save(
        _dense(
            "effnet",
            "melspectrogram",
            "embeddings",
            (128, 96),
            1280,
            rng,
            reduce_axis=1,
            activation=None,
        ),
        folder / EFFNET,
    )
    for key, stem in HEADS.items():
        inp, out = HEAD_NAMES[key]
        _save(_dense(stem, inp, out, (1280,), SIZES[key], rng), folder / f"{stem}.onnx")
        prefix = "Electronic---Style" if key == "genre" else key
        (folder / f"{stem}.json").write_text(
            json.dumps({"classes": [f"{prefix}{i:03d}" for i in range(SIZES[key])]})
        )
    for key, stem in VGGISH_HEADS.items():
        _save(_dense(stem, "model/Placeholder:0", "model/Sigmoid:0", (96, 64), 2, rng, reduce_axis=1, activation="Softmax"),
              folder / f"{stem}.onnx")  # fmt: skip
        (folder / f"{stem}.json").write_text(json.dumps({"classes": VGGISH_LABELS[key]}))
    return folder


def test_patches_have_the_shapes_the_models_were_trained_with():
    y = np.random.default_rng(1).standard_normal(16000 * 10).astype(np.float32) * 0.1
    frames = 1 + (y.size - 512) // 256
    assert effnet_patches(y).shape == ((frames - 128) // 62 + 1, 128, 96)
    assert vggish_patches(y).shape == ((1 + (y.size - 400) // 160) // 96, 96, 64)
    assert effnet_patches(y[:8000]).shape[1:] == (128, 96)  # short clips are tiled


def test_tiny_models_load_through_the_real_loader_and_yield_496_probabilities(tmp_path):
    classifier = load_classifier(make_tiny_essentia_models(tmp_path / "essentia"))
    song = render_song(bpm=120, bars=6)
    import librosa

    y16 = librosa.resample(song.mix.mean(1), orig_sr=44100, target_sr=16000)
    vocals16 = librosa.resample(song.stems["vocals"].mean(1), orig_sr=44100, target_sr=16000)
    values, everything = classify(classifier, y16, vocals16=vocals16)
    assert sum(len(v) for v in everything.values()) == 496
    for key in ("essentia_genre", "essentia_mood", "essentia_instrument"):
        labels = values[key]
        assert len(labels) <= 10 and all(p >= 0.1 for p in labels.values())
        assert list(labels.values()) == sorted(labels.values(), reverse=True)
    assert 0 <= values["danceability"] <= 1 and values["voice_probability"] + values[
        "instrumental_probability"
    ] == pytest.approx(1, abs=1e-3)
    assert values["female_probability"] + values["male_probability"] == pytest.approx(1, abs=1e-3)


def test_classification_asset_stores_labels_for_one_line_sql(project, instance, tmp_path):
    from mir.info import info_path, read_info
    from resources.duckdb_tables import FeatureTables
    from tests.conftest import write_config
    from tests.helpers import register, run_track

    folder = make_tiny_essentia_models(tmp_path / "essentia")
    write_config(project.root, classification={"model_dir": str(folder)})
    path = project.add_audio("Labelled.wav", render_song(bpm=124, bars=4).mix)
    (track_id,) = register(project, [path], instance)
    assert run_track(
        project, instance, track_id, selection=["source_audio", "classification"]
    ).success
    info = read_info(info_path(project.library / track_id))
    assert isinstance(info["essentia_genre"], dict) and "danceability" in info
    with FeatureTables(project.duckdb).connect(read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM labels WHERE track_id = ?", [track_id]).fetchone()[0]
            == 496
        )
        top, p = next(iter(info["essentia_genre"].items())), None
        label, p = top
        hits = con.execute(
            "SELECT track_id FROM labels WHERE category = 'genre' AND label = ? AND probability > ?",
            [label, p - 0.01],
        ).fetchall()
    assert hits == [(track_id,)]


def test_a_missing_classifier_fails_alone(project, instance, tmp_path):
    from tests.conftest import write_config
    from tests.helpers import failures_of_one_song

    write_config(project.root, classification={"model_dir": str(tmp_path / "none")})
    failed = failures_of_one_song(project, instance, ["source_audio", "classification", "loudness"])
    assert set(failed) == {"classification"}
    assert (
        "discogs-effnet-bsdynamic-1.onnx" in failed["classification"]
        and "classification.model_dir" in failed["classification"]
    )
    with pytest.raises(ModelNotFound):
        load_classifier(tmp_path / "none")
