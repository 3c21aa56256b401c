"""Labels from Essentia's published models, run with onnxruntime.

Discogs-EffNet embeddings (from mel patches made by Essentia's own
`TensorflowInputMusiCNN`) feed three heads: 400 Discogs genres, 56 MTG-Jamendo moods/themes
and 40 instruments (496 labels). VGGish patches (`TensorflowInputVGGish`) go straight into the
danceability, tonal/atonal, voice/instrumental and gender models (each holds its embedding). Predictions are averaged
over patches. Tensor names are read from each session, not assumed. A model that fails is
an error: nothing is made up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mir.errors import ModelNotFound

SR = 16000
#: file names under `classification.model_dir`, and the config key naming the folder
EFFNET = "discogs-effnet-bsdynamic-1.onnx"
HEADS = {
    "genre": "genre_discogs400-discogs-effnet-1",
    "mood": "mtg_jamendo_moodtheme-discogs-effnet-1",
    "instrument": "mtg_jamendo_instrument-discogs-effnet-1",
}
VGGISH_HEADS = {
    "danceability": "danceability-vggish-audioset-1",
    "tonal_atonal": "tonal_atonal-vggish-audioset-1",
    "voice_instrumental": "voice_instrumental-vggish-audioset-1",
    "gender": "gender-vggish-audioset-1",
}
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
    """One ONNX model on the best execution provider onnxruntime offers (GPU, else CPU)."""

    def __init__(self, path: Path):
        import onnxruntime as ort

        providers = [
            p
            for p in ("ROCMExecutionProvider", "MIGraphXExecutionProvider", "CUDAExecutionProvider")
            if p in ort.get_available_providers()
        ]
        self.session = ort.InferenceSession(
            str(path), providers=[*providers, "CPUExecutionProvider"]
        )
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name

    def __call__(self, x: np.ndarray, batch: int = 64) -> np.ndarray:
        parts = [
            self.session.run([self.output], {self.input: x[i : i + batch]})[0]
            for i in range(0, len(x), batch)
        ]
        return np.concatenate(parts)


@dataclass
class Classifier:
    """The loaded models and their label lists."""

    effnet: OnnxModel
    heads: dict[str, tuple[OnnxModel, list[str]]]
    #: each VGGish head takes the mel patches itself (the embedding is inside the model)
    vggish_heads: dict[str, tuple[OnnxModel, list[str]]]


def check_models(folder: Path) -> None:
    """Raise :class:`ModelNotFound` for the first required file missing from `folder`:
    the EffNet model, then each head's `.onnx` and its label `.json`."""
    required = [EFFNET, *(f"{stem}{ext}" for stem in HEADS.values() for ext in (".onnx", ".json"))]
    for name in required:
        if not (Path(folder) / name).is_file():
            raise ModelNotFound(Path(folder) / name, CONFIG_KEY)


def _labels(folder: Path, stem: str) -> list[str]:
    return list(json.loads((folder / f"{stem}.json").read_text())["classes"])


def load_classifier(folder: Path) -> Classifier:
    """Load the EffNet embedding model and its three heads, and the VGGish heads present.

    Raises
    ------
    ModelNotFound
        For a missing EffNet model, head or label file.
    """
    folder = Path(folder)
    check_models(folder)
    effnet = OnnxModel(folder / EFFNET)
    heads = {
        k: (OnnxModel(folder / f"{stem}.onnx"), _labels(folder, stem)) for k, stem in HEADS.items()
    }
    vggish_heads = {
        k: (OnnxModel(folder / f"{stem}.onnx"), _labels(folder, stem))
        for k, stem in VGGISH_HEADS.items()
        if (folder / f"{stem}.onnx").is_file()
    }
    return Classifier(effnet, heads, vggish_heads)


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
        `essentia_genre`, `essentia_mood`, `essentia_instrument` (top 10 >= 0.1), and with
        VGGish: `danceability`, `atonality`, `voice_probability`, `instrumental_probability`,
        and `female_probability`/`male_probability` when `vocals16` is given.
    all_probabilities : dict
        category -> {label: probability} for every label (496 with the three EffNet heads).
    """
    embeddings = classifier.effnet(effnet_patches(y16))
    values: dict = {}
    everything: dict[str, dict[str, float]] = {}
    for category, (head, labels) in classifier.heads.items():
        mean = head(embeddings).mean(axis=0)
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
