"""Classification through onnxruntime with tiny ONNX graphs in the published signatures
(tests/tiny_models.py): the EffNet's two outputs, MTG's head exports, and the tf2onnx names
of models converted from `.pb`."""

import json

import numpy as np
import pytest

from mir.classification import (
    EFFNET,
    GENRE_HEAD,
    HEADS,
    classify,
    effnet_patches,
    effnet_problems,
    head_problems,
    load_classifier,
    vggish_patches,
)
from mir.errors import ModelNotFound
from mir.signatures import SignatureError, onnx_signature
from mir.synth import render_song
from tests.tiny_models import write_effnet, write_head, write_tiny_essentia_models


def make_tiny_essentia_models(folder, **options):
    return write_tiny_essentia_models(folder, **options)


def _song16(bpm=120, bars=6):
    import librosa

    song = render_song(bpm=bpm, bars=bars)
    y16 = librosa.resample(song.mix.mean(1), orig_sr=44100, target_sr=16000)
    vocals16 = librosa.resample(song.stems["vocals"].mean(1), orig_sr=44100, target_sr=16000)
    return y16, vocals16


def test_patches_have_the_shapes_the_models_were_trained_with():
    y = np.random.default_rng(1).standard_normal(16000 * 10).astype(np.float32) * 0.1
    frames = 1 + (y.size - 512) // 256
    assert effnet_patches(y).shape == ((frames - 128) // 62 + 1, 128, 96)
    assert vggish_patches(y).shape == ((1 + (y.size - 400) // 160) // 96, 96, 64)
    assert effnet_patches(y[:8000]).shape[1:] == (128, 96)  # short clips are tiled


def test_tiny_models_in_the_published_signatures_load_and_yield_496_probabilities(tmp_path):
    folder = make_tiny_essentia_models(tmp_path / "essentia")
    signature = onnx_signature(folder / EFFNET)
    # MTG's export: one input, then the two outputs in the published order
    assert [s.name for s in signature.inputs] == ["melspectrogram"]
    assert [(s.name, s.shape[1:]) for s in signature.outputs] == [
        ("activations", (400,)),
        ("embeddings", (1280,)),
    ]
    assert not (folder / f"{GENRE_HEAD}.onnx").exists()  # the genre head is optional
    classifier = load_classifier(folder)
    assert classifier.effnet.outputs == {"activations": "activations", "embeddings": "embeddings"}
    assert set(classifier.heads) == {"mood", "instrument"}
    y16, vocals16 = _song16()
    values, everything = classify(classifier, y16, vocals16=vocals16)
    assert {k: len(v) for k, v in everything.items()} == {
        "genre": 400,
        "mood": 56,
        "instrument": 40,
    }
    # the genres are the EffNet's own activations, averaged over patches, with its labels
    activations = classifier.effnet.run(effnet_patches(y16))["activations"].mean(axis=0)
    labels = json.loads((folder / "discogs-effnet-bsdynamic-1.json").read_text())["classes"]
    assert list(everything["genre"]) == labels
    np.testing.assert_allclose(list(everything["genre"].values()), activations, atol=1e-6)
    for key in ("essentia_genre", "essentia_mood", "essentia_instrument"):
        top = values[key]
        assert 0 < len(top) <= 10 and all(p >= 0.1 for p in top.values())
        assert list(top.values()) == sorted(top.values(), reverse=True)
    for key in ("danceability", "voice_probability", "female_probability", "male_probability"):
        assert 0 <= values[key] <= 1


def test_the_effnet_signature_is_read_by_name_and_a_wrong_one_is_named(tmp_path):
    """The published EffNet has its `activations` first: taking the first output would feed
    400 scores to heads that need 1280 embeddings. The loader takes `embeddings` by name, and
    a file without it is refused, listing what the file has."""
    folder = make_tiny_essentia_models(tmp_path / "essentia")
    y16, _ = _song16(bars=2)
    first = onnx_signature(folder / EFFNET).outputs[0]
    assert first.name == "activations" and first.shape[-1] == 400
    classify(load_classifier(folder), y16)  # runs: the heads get the 1280 embeddings
    assert effnet_problems(folder / EFFNET) == []

    write_effnet(folder / EFFNET, outputs=("embeddings",))  # the old tiny model's signature
    with pytest.raises(SignatureError) as err:
        load_classifier(folder)
    message = str(err.value)
    assert "no output named `activations`" in message
    assert "this file's signature: inputs melspectrogram float32 [batch, 128, 96]; " in message
    assert "outputs embeddings float32 [batch, 1280]" in message
    problems = effnet_problems(folder / EFFNET)
    assert problems[0] == "no output named `activations`"

    # MTG's fixed-batch export is refused too: it cannot take a track's patches at once
    write_effnet(folder / EFFNET)
    import onnx

    model = onnx.load(str(folder / EFFNET))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 64
    onnx.save(model, str(folder / EFFNET))
    assert effnet_problems(folder / EFFNET)[0] == (
        "`melspectrogram` axis 0 (batch) is fixed to 64, expected a dynamic axis"
    )


def test_a_head_with_other_names_or_widths_is_refused_with_its_signature(tmp_path):
    folder = make_tiny_essentia_models(tmp_path / "essentia")
    mood = folder / f"{HEADS['mood']}.onnx"
    assert head_problems(mood) == []
    # a head converted with tf2onnx keeps the .json's tensor names: accepted
    write_head(mood, 56, names=("model/Placeholder:0", "model/Sigmoid:0"))
    assert head_problems(mood) == []
    load_classifier(folder)
    # a head for another embedding model (MusiCNN's 200-d) fails on load, not mid-run
    write_head(mood, 56, width=(200,))
    with pytest.raises(SignatureError, match=r"`embeddings` axis 1 is 200, expected 1280"):
        load_classifier(folder)
    write_head(mood, 56, names=("input", "output"))
    problems = head_problems(mood)
    assert (
        problems[0] == "no input named `embeddings` or `model/Placeholder:0` or `model/Placeholder`"
    )
    assert problems[-1].startswith("this file's signature: inputs input float32 [batch, 1280]")


def test_the_optional_genre_head_scores_the_genres_when_placed(tmp_path):
    """Where both exist: on these tiny random models the head and the EffNet's activations
    are independent networks, so their scores agree no more than chance (the note says what
    the published documentation says of the real ones)."""
    from scipy.stats import spearmanr

    folder = make_tiny_essentia_models(tmp_path / "essentia", genre_head=True)
    classifier = load_classifier(folder)
    assert "genre" in classifier.heads
    y16, _ = _song16(bars=4)
    values, everything = classify(classifier, y16)
    effnet = classifier.effnet.run(effnet_patches(y16))
    head_model, labels = classifier.heads["genre"]
    from_head = head_model(effnet["embeddings"]).mean(axis=0)
    own = effnet["activations"].mean(axis=0)
    np.testing.assert_allclose(list(everything["genre"].values()), from_head, atol=1e-6)
    assert list(everything["genre"]) == labels
    rho = spearmanr(own, from_head).statistic
    top_own, top_head = set(np.argsort(-own)[:10]), set(np.argsort(-from_head)[:10])
    assert abs(rho) < 0.2 and len(top_own & top_head) <= 2, (rho, top_own & top_head)


def test_classification_asset_stores_labels_for_one_line_sql(project, instance, tmp_path):
    from mir.info import info_path, read_info
    from store.duckdb import DuckDBTables
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
    with DuckDBTables(project.duckdb).connect(read_only=True) as con:
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
    # the labels of the EffNet's activations are needed too
    folder = make_tiny_essentia_models(tmp_path / "essentia")
    (folder / "discogs-effnet-bsdynamic-1.json").unlink()
    with pytest.raises(ModelNotFound, match="discogs-effnet-bsdynamic-1.json"):
        load_classifier(folder)
