"""Tiny random-weight models in the exact formats their publishers release, for tests,
`bench/gpu_check.py` and `mir models verify` examples.

Each mirrors the published file's names, shapes, dtypes and metadata keys (models/README.md
documents each one and its upstream source) and is written by the upstream package's own
saving code where one exists: Essentia's ONNX graphs with `onnx`, Demucs with
`demucs.states.serialize_model` and `save_with_checksum` as its `tools/export.py` does,
BS-RoFormer checkpoints with `torch.save` of the state dict and the training repository's
yaml layout. The GGUF files are in `tests/gguf_models.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SR = 44100

# -- Essentia (classification) --------------------------------------------------------

#: the `schema` sections of MTG's published `.json` files (the TensorFlow tensor names;
#: /work/shared/data/essentia-models and essentia.upf.edu/models)
EMBEDDING_HEAD_SCHEMA = {
    "inputs": [{"name": "model/Placeholder", "type": "float", "shape": [1280]}],
    "outputs": [
        {"name": "model/Sigmoid", "type": "float", "shape": ["N"], "op": "Sigmoid",
         "output_purpose": "predictions"},
        {"name": "model/dense_1/BiasAdd", "type": "float", "shape": ["N"],
         "op": "fully connected", "description": "logits", "output_purpose": ""},
        {"name": "model/dense/BiasAdd", "type": "float", "shape": [512],
         "op": "fully connected", "description": "penultimate layer", "output_purpose": ""},
    ],
}  # fmt: skip
GENRE_HEAD_SCHEMA = {
    "inputs": [
        {"name": "serving_default_model_Placeholder", "type": "float", "shape": ["batch_size", 1280]}
    ],
    "outputs": [
        {"name": "PartitionedCall:0", "type": "float", "shape": ["batch_size", 400],
         "op": "Sigmoid", "output_purpose": "predictions"}
    ],
}  # fmt: skip
VGGISH_SCHEMA = {
    "inputs": [{"name": "model/Placeholder", "type": "float", "shape": [96, 64]}],
    "outputs": [
        {"name": "model/Sigmoid", "type": "float", "shape": [1, 2], "op": "Sigmoid",
         "output_purpose": "predictions"},
        {"name": "model/logits/BiasAdd", "type": "float", "shape": [1, 2],
         "op": "fully connected", "description": "logits", "output_purpose": ""},
    ],
}  # fmt: skip
VGGISH_LABELS = {
    "danceability": ["danceable", "not_danceable"],
    "tonal_atonal": ["atonal", "tonal"],
    "voice_instrumental": ["instrumental", "voice"],
    "gender": ["female", "male"],
}
HEAD_SIZES = {"mood": 56, "instrument": 40}
#: the tensor names tf2onnx gives a model converted from Essentia's `.pb`
TF2ONNX_GENRE = ("serving_default_model_Placeholder:0", "PartitionedCall:0")
TF2ONNX_VGGISH = ("model/Placeholder:0", "model/Sigmoid:0")


def genre_classes() -> list[str]:
    """400 labels in the published `Genre---Style` form."""
    genres = ["Blues", "Classical", "Electronic", "Folk, World, & Country", "Jazz", "Pop", "Rock"]
    return [f"{genres[i % len(genres)]}---Style {i:03d}" for i in range(400)]


def _save_onnx(nodes, inputs, outputs, initializers, path: Path, name: str) -> Path:
    import onnx
    from onnx import helper

    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _weight(rng, shape, name: str):
    from onnx import numpy_helper

    return numpy_helper.from_array((rng.standard_normal(shape) * 0.05).astype(np.float32), name)


def _value(name: str, shape):
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def write_effnet(path: Path, *, rng=None, outputs=("activations", "embeddings")) -> Path:
    """A tiny Discogs-EffNet as MTG exports it (`discogs-effnet-bsdynamic-1.onnx`): input
    `melspectrogram` [batch, 128, 96] float32; outputs `activations` [batch, 400] (sigmoid
    scores of the 400 styles) then `embeddings` [batch, 1280]. `outputs` writes another
    signature (the one-output model tests used to build)."""
    from onnx import helper

    rng = rng if rng is not None else np.random.default_rng(0)
    nodes = [
        helper.make_node("ReduceMean", ["melspectrogram"], ["pooled"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["pooled", "w_embed"], ["embeddings"]),
        helper.make_node("MatMul", ["embeddings", "w_style"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["activations"]),
    ]
    shapes = {"activations": ("batch", 400), "embeddings": ("batch", 1280)}
    return _save_onnx(
        nodes,
        [_value("melspectrogram", ("batch", 128, 96))],
        [_value(name, shapes[name]) for name in outputs],
        [_weight(rng, (96, 1280), "w_embed"), _weight(rng, (1280, 400), "w_style")],
        path,
        "discogs-effnet",
    )


def write_head(
    path: Path, n_out: int, *, names=("embeddings", "activations"), width=(1280,), rng=None
) -> Path:
    """A tiny classification head: `names` = (input, output); sigmoid scores. With the
    default names, MTG's ONNX export; a VGGish classifier pools its (96, 64) patch first."""
    from onnx import helper

    rng = rng if rng is not None else np.random.default_rng(1)
    inp, out = names
    nodes, x = [], inp
    if len(width) > 1:
        nodes.append(helper.make_node("ReduceMean", [inp], ["pooled"], axes=[1], keepdims=0))
        x = "pooled"
    nodes += [
        helper.make_node("MatMul", [x, "w"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], [out]),
    ]
    return _save_onnx(
        nodes,
        [_value(inp, ("batch", *width))],
        [_value(out, ("batch", n_out))],
        [_weight(rng, (width[-1], n_out), "w")],
        path,
        Path(path).stem,
    )


def _metadata(name: str, classes: list[str], schema: dict, **extra) -> str:
    """A model `.json` with the published keys (name, type, link, version, ..., classes,
    schema, inference)."""
    return json.dumps(
        {
            "name": name,
            "type": extra.pop("type", "multi-label classifier"),
            "link": extra.pop("link", ""),
            "version": "1",
            "description": f"tiny random-weight stand-in for {name}",
            "author": "tests",
            "release_date": "2023-05-16",
            "framework": extra.pop("framework", "tensorflow"),
            "framework_version": "2.8.0",
            "classes": classes,
            "model_types": extra.pop("model_types", ["frozen_model", "onnx"]),
            "schema": schema,
            "inference": {"sample_rate": 16000, **extra.pop("inference", {})},
        },
        indent=4,
    )


def write_tiny_essentia_models(
    folder: Path, *, genre_head: bool = False, vggish: bool = True, seed: int = 0
) -> Path:
    """Every Essentia file `classification.model_dir` holds, tiny: the EffNet and its
    `.json`, the MTG-Jamendo heads and theirs (MTG's ONNX names), and, converted from `.pb`
    with tf2onnx's names, the optional genre head and the VGGish classifiers."""
    from mir.classification import EFFNET, GENRE_HEAD, HEADS, VGGISH_HEADS

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_effnet(folder / EFFNET, rng=rng)
    effnet_schema = {
        "inputs": [{"name": "melspectrogram", "type": "float", "shape": ["batch_size", 128, 96]}],
        "outputs": [
            {"name": "activations", "type": "float", "shape": ["batch_size", 400],
             "op": "Sigmoid", "output_purpose": "predictions"},
            {"name": "embeddings", "type": "float", "shape": ["batch_size", 1280],
             "op": "fully connected", "output_purpose": "embeddings"},
        ],
    }  # fmt: skip
    (folder / f"{Path(EFFNET).stem}.json").write_text(
        _metadata(
            "EffnetDiscogs",
            genre_classes(),
            effnet_schema,
            type="Music style classification and embeddings",
            framework="ONNX",
            model_types=["onnx"],
        )
    )
    for key, stem in HEADS.items():
        n = HEAD_SIZES[key]
        write_head(folder / f"{stem}.onnx", n, rng=rng)
        schema = json.loads(json.dumps(EMBEDDING_HEAD_SCHEMA).replace('"N"', str(n)))
        (folder / f"{stem}.json").write_text(
            _metadata(stem, [f"{key}{i:03d}" for i in range(n)], schema)
        )
    if genre_head:
        write_head(folder / f"{GENRE_HEAD}.onnx", 400, names=TF2ONNX_GENRE, rng=rng)
        (folder / f"{GENRE_HEAD}.json").write_text(
            _metadata("Genre Discogs400", genre_classes(), GENRE_HEAD_SCHEMA)
        )
    if vggish:
        for key, stem in VGGISH_HEADS.items():
            write_head(folder / f"{stem}.onnx", 2, names=TF2ONNX_VGGISH, width=(96, 64), rng=rng)
            (folder / f"{stem}.json").write_text(
                _metadata(key, VGGISH_LABELS[key], VGGISH_SCHEMA, model_types=["frozen_model"])
            )
    return folder


# -- Demucs (separation) --------------------------------------------------------------

#: what Demucs's export tool adds beside the serialized model: `pkg['metrics'] = (valid,
#: test)`, the last epoch's validation and test metrics of the training history
TINY_DEMUCS_METRICS = (
    {"loss": 0.1, "reco": 0.1, "nsdr": 1.0},
    {"nsdr": 1.0, "sdr": 1.0, **{f"nsdr_{s}": 1.0 for s in ("drums", "bass", "other", "vocals")}},
)


def write_tiny_demucs(
    repo: Path,
    name: str = "tiny",
    *,
    sources=("drums", "bass", "other", "vocals"),
    signature: str = "5eed0001",
    seed: int = 0,
) -> Path:
    """A random-weight HTDemucs (channels 8, depth 4) as Demucs's `tools/export.py` writes
    a release: the dict of `demucs.states.serialize_model(model, args, half=True)`
    (`klass`, `args`, `kwargs`, the state as float16 by `get_state(half=True)`, the training
    arguments), with `metrics` = (valid, test), saved by `save_with_checksum` as
    `<signature>-<first 8 hex digits of its sha256>.th`; and `<name>.yaml` listing the
    signature, as Demucs's `remote/*.yaml` do. Returns the repository folder.

    `serialize_model` itself is not called: its one other step, OmegaConf.to_container of
    the training arguments, needs omegaconf, whose ANTLR runtime (4.9) cannot be installed
    beside Dagster's (4.13); the arguments are written as the plain dict it returns."""
    import torch
    import yaml
    from demucs.htdemucs import HTDemucs
    from demucs.states import get_state, save_with_checksum

    torch.manual_seed(seed)
    model = HTDemucs(
        sources=list(sources), audio_channels=2, samplerate=SR, segment=4,
        channels=8, depth=4, t_layers=1, bottom_channels=0,
    )  # fmt: skip
    args, kwargs = model._init_args_kwargs
    package = {
        "klass": type(model),
        "args": args,
        "kwargs": kwargs,
        "state": get_state(model, None, half=True),
        # the training arguments as Hydra hands them to the solver (a few of the real keys)
        "training_args": {
            "model": "htdemucs",
            "dset": {"sources": list(sources), "samplerate": SR, "channels": 2, "segment": 4},
            "htdemucs": {"channels": 8, "depth": 4, "t_layers": 1, "bottom_channels": 0},
            "epochs": 1,
            "seed": seed,
        },
        "metrics": TINY_DEMUCS_METRICS,
    }
    repo = Path(repo)
    repo.mkdir(parents=True, exist_ok=True)
    save_with_checksum(package, repo / f"{signature}.th")
    (repo / f"{name}.yaml").write_text(yaml.safe_dump({"models": [signature]}))
    return repo


# -- BS-RoFormer (separation) ---------------------------------------------------------

ROFORMER_FILE = "model_bs_roformer_ep_317_sdr_12.9755"
#: the band split of the published BS-RoFormer yamls (62 bands, 1025 frequencies)
FREQS_PER_BANDS = tuple([2] * 24 + [4] * 12 + [12] * 8 + [24] * 8 + [48] * 8 + [128, 129])


def write_tiny_roformer(
    folder: Path,
    *,
    target: str | None = None,
    instruments: list[str] | None = None,
    stem: str = ROFORMER_FILE,
    seed: int = 0,
    **model_fields,
):
    """A BS-RoFormer checkpoint (`torch.save` of the state dict, as UVR's `.ckpt`) and its
    yaml in the layout of the training repository's configs (ZFTurbo's
    Music-Source-Separation-Training, `configs/viperx/model_bs_roformer_ep_317_sdr_12.9755.yaml`):
    `audio`, `model` with every field that yaml holds (python tuples as `!!python/tuple`),
    `training` and `inference`. Tiny: dim 16, depth 1; the STFT of the published model
    (n_fft 2048, hop 441) and windows of 200 hops. `model_fields` override or add fields
    (`mask_estimator_depth=1`, `stft_normalized=True`, ...). With `target`, a single-target
    model (the default checkpoint's form: vocals, and the rest as `other`).

    Returns the `RoformerConfig` that selects it.
    """
    import torch
    import yaml

    from mir._vendor.bs_roformer import BSRoformer
    from mir.config import RoformerConfig

    instruments = instruments or (
        [target, "other"] if target else ["drums", "bass", "other", "vocals"]
    )
    model_cfg = {
        "dim": 16, "depth": 1, "stereo": True, "num_stems": 1 if target else len(instruments),
        "time_transformer_depth": 1, "freq_transformer_depth": 1, "linear_transformer_depth": 0,
        "freqs_per_bands": FREQS_PER_BANDS, "dim_head": 8, "heads": 2, "attn_dropout": 0.1,
        "ff_dropout": 0.1, "flash_attn": False, "dim_freqs_in": 1025, "stft_n_fft": 2048,
        "stft_hop_length": 441, "stft_win_length": 2048, "stft_normalized": False,
        "mask_estimator_depth": 2, "multi_stft_resolution_loss_weight": 1.0,
        "multi_stft_resolutions_window_sizes": (4096, 2048, 1024, 512, 256),
        "multi_stft_hop_size": 147, "multi_stft_normalized": False,
        **model_fields,
    }  # fmt: skip
    dim_t = 201
    config = {
        "audio": {"chunk_size": 441 * (dim_t - 1), "dim_f": 1024, "dim_t": dim_t, "hop_length": 441,
                  "n_fft": 2048, "num_channels": 2, "sample_rate": SR, "min_mean_abs": 0.0},
        "model": model_cfg,
        "training": {"batch_size": 2, "instruments": instruments, "target_instrument": target,
                     "use_amp": True},
        "inference": {"batch_size": 1, "dim_t": dim_t, "num_overlap": 2},
    }  # fmt: skip
    torch.manual_seed(seed)
    model = BSRoformer(**model_cfg)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / f"{stem}.ckpt")
    (folder / f"{stem}.yaml").write_text(yaml.dump(config, sort_keys=False))
    return RoformerConfig(model_dir=folder, model_file=f"{stem}.ckpt")


# -- one wrong file per family (`mir models verify`) ----------------------------------


def place_one_wrong_file_per_family(models: Path) -> dict[str, str]:
    """Under `models` (the default folders of the configuration), the files of the manifest
    in their published signatures, except one wrong file per family, each a mistake a user
    can make. Returns {file name: what is wrong with it}."""
    import torch

    from mir.captions.flamingo import MMPROJ, QUANT_FILES
    from mir.classification import EFFNET
    from tests.gguf_models import (
        write_tiny_llama,
        write_tiny_music_flamingo_mmproj,
        write_tiny_music_flamingo_text,
    )

    models = Path(models)
    wrong = {}
    # Essentia: the EffNet with one output (the tests' old model): no `activations`
    essentia = write_tiny_essentia_models(models / "essentia", vggish=False)
    write_effnet(essentia / EFFNET, outputs=("embeddings",))
    wrong[EFFNET] = "one output, `embeddings`: no `activations`"
    # Demucs: a package whose kwargs do not build its weights (channels 16, weights of 8)
    (th,) = write_tiny_demucs(models / "tiny-demucs").glob("*.th")
    package = torch.load(th, map_location="cpu", weights_only=False)
    package["kwargs"]["channels"] = 16
    (models / "demucs").mkdir(parents=True, exist_ok=True)
    torch.save(package, models / "demucs" / "955717e8-8726e21a.th")
    wrong["955717e8-8726e21a.th"] = "kwargs channels 16, weights of channels 8"
    # BS-RoFormer: trained with mask_estimator_depth 1, its yaml says 2
    cfg = write_tiny_roformer(models / "bs-roformer", target="vocals", mask_estimator_depth=1)
    yaml_path = cfg.model_dir / Path(cfg.model_file).with_suffix(".yaml")
    yaml_path.write_text(
        yaml_path.read_text().replace("mask_estimator_depth: 1", "mask_estimator_depth: 2")
    )
    wrong[cfg.model_file] = "weights of mask_estimator_depth 1, yaml says 2"
    # Music Flamingo: a llama/SentencePiece text model without a template as the Q8_0 file,
    # and an Ultravox projector as the mmproj
    flamingo = models / "music_flamingo"
    flamingo.mkdir(parents=True, exist_ok=True)
    write_tiny_llama(flamingo / QUANT_FILES["Q8_0"], n_embd=64)
    wrong[QUANT_FILES["Q8_0"]] = "llama with a SentencePiece vocabulary, BOS, no chat template"
    write_tiny_music_flamingo_text(flamingo / QUANT_FILES["Q6_K"], n_embd=64)
    write_tiny_music_flamingo_mmproj(flamingo / MMPROJ, n_embd_text=64, projector="ultravox")
    wrong[MMPROJ] = "projector type ultravox"
    # the revision's text model: a projector saved under its name
    (models / "llm").mkdir(parents=True, exist_ok=True)
    write_tiny_music_flamingo_mmproj(models / "llm" / "granite-4.0-h-tiny-Q8_0.gguf")
    wrong["granite-4.0-h-tiny-Q8_0.gguf"] = "a projector, not a text model"
    return wrong
