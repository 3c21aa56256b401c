"""Labels from Essentia's published models, run with onnxruntime.

Discogs-EffNet (from mel patches made by Essentia's own `TensorflowInputMusiCNN`) gives two
outputs, chosen by name: `activations`, its own scores of 400 Discogs styles (the genres),
and `embeddings`, which feed the MTG-Jamendo heads: 56 moods/themes and 40 instruments
(496 labels in all). The separate Discogs-400 genre head, published only as TensorFlow
`.pb`, is optional: when its converted `.onnx` is placed it scores the genres instead.
VGGish patches (`TensorflowInputVGGish`) go straight into the danceability, tonal/atonal,
voice/instrumental and gender models (each holds its embedding; optional). Predictions are
averaged over patches.

Every input and output is chosen by name, never by position: the names MTG's ONNX exports
carry, or, for a model converted from `.pb` with tf2onnx, the names in its `.json`'s
`schema`. A file without them is refused with its actual signature. A model that fails is
an error: nothing is made up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound
from mir.signatures import (
    SignatureError,
    onnx_problems,
    onnx_signature,
    pick,
    session_signature,
    shape_problems,
)

SR = 16000
#: file names under `classification.model_dir`, and the config key naming the folder
EFFNET = "discogs-effnet-bsdynamic-1.onnx"
#: MTG's ONNX export of Discogs-EffNet (dynamic batch): one input, two outputs, in this
#: order (models/README.md names the sources)
EFFNET_INPUT = "melspectrogram"
EFFNET_OUTPUTS = ("activations", "embeddings")
GENRE_CLASSES, EMBEDDING_WIDTH = 400, 1280
EFFNET_SIGNATURE = {
    "inputs": {EFFNET_INPUT: ("batch", 128, 96)},
    "outputs": {"activations": ("batch", GENRE_CLASSES), "embeddings": ("batch", EMBEDDING_WIDTH)},
}
#: MTG's ONNX exports of the embedding heads: `embeddings` in, `activations` out
HEAD_INPUT, HEAD_OUTPUT = "embeddings", "activations"
#: the heads on the EffNet's embeddings that every run needs
HEADS = {
    "mood": "mtg_jamendo_moodtheme-discogs-effnet-1",
    "instrument": "mtg_jamendo_instrument-discogs-effnet-1",
}
#: the Discogs-400 genre head: published as TensorFlow `.pb` only; optional
GENRE_HEAD = "genre_discogs400-discogs-effnet-1"
VGGISH_HEADS = {
    "danceability": "danceability-vggish-audioset-1",
    "tonal_atonal": "tonal_atonal-vggish-audioset-1",
    "voice_instrumental": "voice_instrumental-vggish-audioset-1",
    "gender": "gender-vggish-audioset-1",
}
VGGISH_WIDTH = (96, 64)
CONFIG_KEY = "classification.model_dir"
TOP_N, MIN_PROBABILITY = 10, 0.1


def effnet_patches(y16: np.ndarray) -> np.ndarray:
    """(n, 128, 96) mel patches: 512/256 frames, 128-frame patches every 62 frames.

    Clips shorter than one patch are tiled to 12 s first, as the original does.
    """
    import essentia.standard as es

    y16 = np.asarray(y16, dtype=np.float32)
    if y16.size < 128 * 256 + 512:
        y16 = np.tile(y16, int(np.ceil(12 * SR / max(y16.size, 1))))[: 12 * SR]
    mel = es.TensorflowInputMusiCNN()
    frames = np.array(
        [mel(f) for f in es.FrameGenerator(y16, frameSize=512, hopSize=256, startFromZero=True)]
    )
    starts = range(0, max(frames.shape[0] - 128, 0) + 1, 62)
    return np.stack([frames[s : s + 128] for s in starts]).astype(np.float32)


def vggish_patches(y16: np.ndarray) -> np.ndarray:
    """(n, 96, 64) log-mel patches: 400/160 frames, non-overlapping 96-frame patches."""
    import essentia.standard as es

    y16 = np.asarray(y16, dtype=np.float32)
    if y16.size < 96 * 160 + 400:
        y16 = np.tile(y16, int(np.ceil(12 * SR / max(y16.size, 1))))[: 12 * SR]
    mel = es.TensorflowInputVGGish()
    frames = np.array(
        [mel(f) for f in es.FrameGenerator(y16, frameSize=400, hopSize=160, startFromZero=True)]
    )
    n = frames.shape[0] // 96
    return frames[: n * 96].reshape(n, 96, 64).astype(np.float32)


class OnnxModel:
    """One ONNX model on the best execution provider onnxruntime offers (GPU, else CPU),
    its input and outputs chosen by name.

    Parameters
    ----------
    path : Path
        The `.onnx` file.
    inputs : sequence of str
        Accepted names of its input, in order of preference.
    outputs : dict
        Key -> accepted names of each output to run; :meth:`run` returns them by key.
    shapes : dict, optional
        Name -> expected shape of the chosen tensors (a str: a dynamic axis), checked on load.

    Raises
    ------
    SignatureError
        When a name is missing or a shape differs; the message lists the file's signature.
    """

    def __init__(
        self,
        path: Path,
        *,
        inputs: Sequence[str],
        outputs: Mapping[str, Sequence[str]],
        shapes: Mapping[str, Sequence] | None = None,
    ):
        import onnxruntime as ort

        providers = [
            p
            for p in ("ROCMExecutionProvider", "MIGraphXExecutionProvider", "CUDAExecutionProvider")
            if p in ort.get_available_providers()
        ]
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.path = Path(path)
        self.session = ort.InferenceSession(
            str(path), sess_options=options, providers=[*providers, "CPUExecutionProvider"]
        )
        self.signature = session_signature(self.session, path)
        where = dict(path=path, signature=self.signature)
        spec = pick(self.signature.inputs, inputs, kind="input", **where)
        chosen = {
            k: pick(self.signature.outputs, v, kind="output", **where) for k, v in outputs.items()
        }
        problems = []
        for key, want in (shapes or {}).items():
            target = spec if key == "input" else chosen[key]
            problems += shape_problems(target, want)
        if problems:
            raise SignatureError(
                f"{path}: {'; '.join(problems)}; this file's signature: {self.signature}"
            )
        self.input = spec.name
        self.outputs = {k: v.name for k, v in chosen.items()}

    def run(self, x: np.ndarray, batch: int = 64) -> dict[str, np.ndarray]:
        """Every chosen output for `x`, run `batch` rows at a time."""
        keys, names = list(self.outputs), list(self.outputs.values())
        parts = [
            self.session.run(names, {self.input: x[i : i + batch]}) for i in range(0, len(x), batch)
        ]
        return {k: np.concatenate([p[j] for p in parts]) for j, k in enumerate(keys)}

    def __call__(self, x: np.ndarray, batch: int = 64) -> np.ndarray:
        """The first chosen output for `x`."""
        return next(iter(self.run(x, batch).values()))


@dataclass
class Classifier:
    """The loaded models and their label lists."""

    #: Discogs-EffNet: `activations` (400 styles) and `embeddings` (1280)
    effnet: OnnxModel
    #: the 400 Discogs styles, in the order of the EffNet's `activations`
    genre_labels: list[str]
    #: the embedding heads (`mood`, `instrument`, and `genre` when the optional head is placed)
    heads: dict[str, tuple[OnnxModel, list[str]]]
    #: each VGGish head takes the mel patches itself (the embedding is inside the model)
    vggish_heads: dict[str, tuple[OnnxModel, list[str]]] = field(default_factory=dict)


def _metadata(folder: Path, stem: str) -> dict:
    path = Path(folder) / f"{stem}.json"
    if not path.is_file():
        raise ModelNotFound(path, CONFIG_KEY)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SignatureError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta.get("classes"), list) or not meta["classes"]:
        raise SignatureError(f"{path}: no `classes` list (the labels, in output order)")
    return meta


def tf_names(meta: Mapping, kind: str, purpose: str | None = None) -> list[str]:
    """The tensor names of a `.json` `schema` as tf2onnx names them in a converted model
    (`model/Placeholder` -> `model/Placeholder:0`), then as written; for outputs, only those
    whose `output_purpose` is `purpose`."""
    names = []
    for item in (meta.get("schema") or {}).get(kind) or []:
        if purpose is not None and item.get("output_purpose") != purpose:
            continue
        name = str(item.get("name", ""))
        if name:
            names += [name if ":" in name else f"{name}:0", name]
    return list(dict.fromkeys(names))


def head_names(meta: Mapping) -> tuple[list[str], list[str]]:
    """(input names, output names) a head is looked up by: MTG's ONNX export names
    (`embeddings` -> `activations`), then the `.json` schema's names as tf2onnx keeps them."""
    return (
        [HEAD_INPUT, *tf_names(meta, "inputs")],
        [HEAD_OUTPUT, *tf_names(meta, "outputs", "predictions")],
    )


def _head(folder: Path, stem: str, width: tuple[int, ...]) -> tuple[OnnxModel, list[str]]:
    meta = _metadata(folder, stem)
    inputs, outputs = head_names(meta)
    labels = [str(c) for c in meta["classes"]]
    model = OnnxModel(
        Path(folder) / f"{stem}.onnx",
        inputs=inputs,
        outputs={"predictions": outputs},
        shapes={"input": ("batch", *width), "predictions": ("batch", len(labels))},
    )
    return model, labels


def load_effnet(folder: Path) -> OnnxModel:
    """The Discogs-EffNet model of `folder`, its input and outputs chosen by name."""
    path = Path(folder) / EFFNET
    if not path.is_file():
        raise ModelNotFound(path, CONFIG_KEY)
    return OnnxModel(
        path,
        inputs=[EFFNET_INPUT],
        outputs={k: [k] for k in EFFNET_OUTPUTS},
        shapes={"input": EFFNET_SIGNATURE["inputs"][EFFNET_INPUT], **EFFNET_SIGNATURE["outputs"]},
    )


def genre_labels(folder: Path) -> list[str]:
    """The 400 Discogs styles of the EffNet's `activations`: its own `.json`, else the
    genre head's (MTG publishes the same 400 classes in the same order in both)."""
    folder = Path(folder)
    for stem in (Path(EFFNET).stem, GENRE_HEAD):
        if (folder / f"{stem}.json").is_file():
            labels = [str(c) for c in _metadata(folder, stem)["classes"]]
            if len(labels) != GENRE_CLASSES:
                raise SignatureError(
                    f"{folder / f'{stem}.json'}: {len(labels)} classes, expected {GENRE_CLASSES}"
                )
            return labels
    raise ModelNotFound(folder / f"{Path(EFFNET).stem}.json", CONFIG_KEY)


def check_models(folder: Path) -> None:
    """Raise :class:`ModelNotFound` for the first required file missing from `folder`:
    the EffNet model and its labels, then each required head's `.onnx` and `.json`."""
    folder = Path(folder)
    required = [EFFNET, *(f"{stem}{ext}" for stem in HEADS.values() for ext in (".onnx", ".json"))]
    for name in required:
        if not (folder / name).is_file():
            raise ModelNotFound(folder / name, CONFIG_KEY)
    if not any((folder / f"{stem}.json").is_file() for stem in (Path(EFFNET).stem, GENRE_HEAD)):
        raise ModelNotFound(folder / f"{Path(EFFNET).stem}.json", CONFIG_KEY)


def load_classifier(folder: Path) -> Classifier:
    """Load the EffNet model, its labels and the two embedding heads, and the optional
    genre head and VGGish heads that are placed.

    Raises
    ------
    ModelNotFound
        For a missing EffNet model, label file or required head.
    SignatureError
        For a file whose inputs or outputs are not those named in models/README.md.
    """
    folder = Path(folder)
    check_models(folder)
    effnet = load_effnet(folder)
    heads = {k: _head(folder, stem, (EMBEDDING_WIDTH,)) for k, stem in HEADS.items()}
    if (folder / f"{GENRE_HEAD}.onnx").is_file():
        heads = {"genre": _head(folder, GENRE_HEAD, (EMBEDDING_WIDTH,)), **heads}
    vggish_heads = {
        k: _head(folder, stem, VGGISH_WIDTH)
        for k, stem in VGGISH_HEADS.items()
        if (folder / f"{stem}.onnx").is_file()
    }
    return Classifier(effnet, genre_labels(folder), heads, vggish_heads)


def top_labels(probabilities: np.ndarray, labels: list[str]) -> dict[str, float]:
    """At most 10 labels with probability >= 0.1, best first, rounded to 4 decimals."""
    order = np.argsort(-probabilities)[:TOP_N]
    return {
        labels[i]: round(float(probabilities[i]), 4)
        for i in order
        if probabilities[i] >= MIN_PROBABILITY
    }


def classify(
    classifier: Classifier, y16: np.ndarray, *, vocals16: np.ndarray | None = None
) -> tuple[dict, dict[str, dict[str, float]]]:
    """Labels of a 16 kHz mono signal.

    Returns
    -------
    values : dict
        `essentia_genre` (the EffNet's own 400-style activations, or the genre head when
        placed), `essentia_mood`, `essentia_instrument` (top 10 >= 0.1), and with VGGish:
        `danceability`, `atonality`, `voice_probability`, `instrumental_probability`, and
        `female_probability`/`male_probability` when `vocals16` is given.
    all_probabilities : dict
        category -> {label: probability} for every label (400 + 56 + 40 = 496).
    """
    effnet = classifier.effnet.run(effnet_patches(y16))
    means = {"genre": (effnet["activations"].mean(axis=0), classifier.genre_labels)}
    for category, (head, labels) in classifier.heads.items():
        means[category] = (head(effnet["embeddings"]).mean(axis=0), labels)
    values: dict = {}
    everything: dict[str, dict[str, float]] = {}
    for category, (mean, labels) in means.items():
        values[f"essentia_{category}"] = top_labels(mean, labels)
        everything[category] = {
            label: round(float(p), 6) for label, p in zip(labels, mean, strict=True)
        }
    if classifier.vggish_heads:
        patches = vggish_patches(y16)
        for key, (head, labels) in classifier.vggish_heads.items():
            if key == "gender":
                continue
            mean = head(patches).mean(axis=0)
            probs = dict(zip(labels, (float(p) for p in mean), strict=True))
            if key == "danceability":
                values["danceability"] = round(probs.get("danceable", float(mean[0])), 4)
            elif key == "tonal_atonal":
                values["atonality"] = round(probs.get("atonal", float(mean[0])), 4)
            elif key == "voice_instrumental":
                values["voice_probability"] = round(probs.get("voice", float(mean[1])), 4)
                values["instrumental_probability"] = round(
                    probs.get("instrumental", float(mean[0])), 4
                )
        if vocals16 is not None and "gender" in classifier.vggish_heads:
            head, labels = classifier.vggish_heads["gender"]
            mean = head(vggish_patches(vocals16)).mean(axis=0)
            probs = dict(zip(labels, (float(p) for p in mean), strict=True))
            values["female_probability"] = round(probs.get("female", float(mean[0])), 4)
            values["male_probability"] = round(probs.get("male", float(mean[1])), 4)
    return values, everything


# -- signatures (`mir models verify`) -------------------------------------------------


def effnet_problems(path: Path) -> list[str]:
    """How an EffNet `.onnx` differs from MTG's published export (input `melspectrogram`
    [batch, 128, 96]; outputs `activations` [batch, 400] and `embeddings` [batch, 1280])."""
    return onnx_problems(onnx_signature(path), **EFFNET_SIGNATURE)


def _head_problems(path: Path, width: Sequence) -> list[str]:
    meta_path = Path(path).with_suffix(".json")
    if not meta_path.is_file():
        return [f"no {meta_path.name} beside it (its labels and tensor names)"]
    try:
        meta = _metadata(meta_path.parent, meta_path.stem)
    except SignatureError as exc:
        return [str(exc)]
    inputs, outputs = head_names(meta)
    return onnx_problems(
        onnx_signature(path),
        inputs={tuple(inputs): ("batch", *width)},
        outputs={tuple(outputs): ("batch", len(meta["classes"]))},
    )


def head_problems(path: Path) -> list[str]:
    """How an embedding head `.onnx` differs from what :func:`load_classifier` reads: an
    input named `embeddings` (or its `.json`'s input, as tf2onnx names it) of width 1280,
    an output named `activations` (or the `.json`'s predictions) as wide as its classes."""
    return _head_problems(path, (EMBEDDING_WIDTH,))


def vggish_problems(path: Path) -> list[str]:
    """How a VGGish classifier `.onnx` differs from what the loader reads: the `.json`'s
    input as tf2onnx names it, [batch, 96, 64], and its predictions output."""
    return _head_problems(path, VGGISH_WIDTH)


def labels_problems(path: Path) -> list[str]:
    """How a model's `.json` differs from a label file: valid JSON with a `classes` list."""
    try:
        meta = _metadata(Path(path).parent, Path(path).stem)
    except SignatureError as exc:
        return [str(exc).removeprefix(f"{path}: ")]
    if Path(path).stem in (Path(EFFNET).stem, GENRE_HEAD) and len(meta["classes"]) != GENRE_CLASSES:
        return [f"{len(meta['classes'])} classes, expected {GENRE_CLASSES}"]
    return []
