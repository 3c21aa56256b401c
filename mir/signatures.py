"""Model files' signatures: what a loader needs from a file, read without running it.

- ONNX: the input and output names, shapes and element types, in the file's order
  (:func:`onnx_signature`, through onnxruntime);
- GGUF: the metadata key/value pairs and the tensor table of the header, read here
  without loading a tensor (:func:`gguf_header`), so a multi-GB model is checked in
  milliseconds;
- torch checkpoints: key names, shapes and dtypes of a state dict
  (:func:`state_summary`).

Every family module says what its files must hold (a `*_problems(path)` function that
returns the mismatches found, empty when the file fits); the manifest names that check
for each file (`signature:`), and `mir models verify` runs it. Loaders choose tensors by
name through :func:`pick`, whose error lists the file's actual signature.
"""

from __future__ import annotations

import importlib
import os
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mir.errors import MirError

#: dimension written for a dynamic axis (any size); a string in an expectation means the
#: axis must be dynamic, an int that it has exactly that size
Dim = int | str | None


class SignatureError(MirError):
    """A model file whose inputs, outputs, metadata or weights are not what its loader needs."""


# -- ONNX -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of an ONNX graph: name, shape (a str or None for a dynamic
    axis) and element type (`float32`, ...)."""

    name: str
    shape: tuple[Dim, ...]
    dtype: str

    def __str__(self) -> str:
        dims = ", ".join("batch" if d is None else str(d) for d in self.shape)
        return f"{self.name} {self.dtype} [{dims}]"


@dataclass(frozen=True)
class OnnxSignature:
    """The inputs and outputs of an ONNX file, in the file's order."""

    path: Path
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    def __str__(self) -> str:
        return (
            f"inputs {', '.join(map(str, self.inputs)) or '-'}; "
            f"outputs {', '.join(map(str, self.outputs)) or '-'}"
        )


_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64"}


def _spec(arg) -> TensorSpec:
    shape = tuple(d if isinstance(d, int) else (d or None) for d in arg.shape)
    return TensorSpec(arg.name, shape, _ORT_TYPES.get(arg.type, arg.type))


def session_signature(session, path: str | os.PathLike = "") -> OnnxSignature:
    """The signature of an onnxruntime `InferenceSession`."""
    return OnnxSignature(
        Path(path),
        tuple(_spec(a) for a in session.get_inputs()),
        tuple(_spec(a) for a in session.get_outputs()),
    )


def onnx_signature(path: str | os.PathLike) -> OnnxSignature:
    """Inputs and outputs of an ONNX file, read by onnxruntime on the CPU (no inference).

    Raises
    ------
    SignatureError
        When onnxruntime cannot read the file as an ONNX model.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # no graph optimisation: only the interface is read
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise SignatureError(f"{path}: not an ONNX model onnxruntime can read ({exc})") from None
    return session_signature(session, path)


def pick(
    specs: Sequence[TensorSpec],
    names: Iterable[str],
    *,
    kind: str,
    path: str | os.PathLike,
    signature: object,
) -> TensorSpec:
    """The first of `names` (in the order given) that `specs` hold: inputs and outputs
    are chosen by name, never by position.

    Raises
    ------
    SignatureError
        Naming the file, the names expected and the file's whole signature.
    """
    names = list(names)
    by_name = {s.name: s for s in specs}
    for name in names:
        if name in by_name:
            return by_name[name]
    expected = " or ".join(f"`{n}`" for n in names)
    raise SignatureError(f"{path}: no {kind} named {expected}; this file's signature: {signature}")


def shape_problems(spec: TensorSpec, expected: Sequence[Dim]) -> list[str]:
    """How `spec`'s shape differs from `expected` (a str entry: a dynamic axis; an int:
    that size)."""
    if len(spec.shape) != len(expected):
        return [
            f"`{spec.name}` has {len(spec.shape)} axes, expected {len(expected)} ({_dims(expected)})"
        ]
    problems = []
    for axis, (found, want) in enumerate(zip(spec.shape, expected, strict=True)):
        if isinstance(want, int) and isinstance(found, int) and found != want:
            problems.append(f"`{spec.name}` axis {axis} is {found}, expected {want}")
        elif isinstance(want, str) and isinstance(found, int):
            problems.append(
                f"`{spec.name}` axis {axis} ({want}) is fixed to {found}, expected a dynamic axis"
            )
    return problems


def _dims(shape: Sequence[Dim]) -> str:
    return "[" + ", ".join("batch" if d is None else str(d) for d in shape) + "]"


def onnx_problems(
    signature: OnnxSignature,
    *,
    inputs: Mapping[str | tuple[str, ...], Sequence[Dim]],
    outputs: Mapping[str | tuple[str, ...], Sequence[Dim]],
) -> list[str]:
    """Every mismatch of `signature` against the expected inputs and outputs (a key may be
    a tuple of accepted names); each problem quotes the file's signature once at the end."""
    problems: list[str] = []
    for kind, specs, wanted in (
        ("input", signature.inputs, inputs),
        ("output", signature.outputs, outputs),
    ):
        for names, shape in wanted.items():
            names = (names,) if isinstance(names, str) else tuple(names)
            found = next((s for s in specs if s.name in names), None)
            if found is None:
                problems.append(f"no {kind} named {' or '.join(f'`{n}`' for n in names)}")
                continue
            if found.dtype != "float32":
                problems.append(f"`{found.name}` is {found.dtype}, expected float32")
            problems += shape_problems(found, shape)
    if problems:
        problems.append(f"this file's signature: {signature}")
    return problems


# -- GGUF -----------------------------------------------------------------------------

GGUF_MAGIC = b"GGUF"
# value types of the GGUF format (ggml's gguf.h / gguf-py's GGUFValueType)
_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9
#: ggml tensor types by id, as far as model files here use them
GGML_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16",
}  # fmt: skip


@dataclass(frozen=True)
class GgufArray:
    """A long array of the header, kept as its length (token lists hold 150,000 strings)."""

    type: int
    length: int

    def __len__(self) -> int:
        return self.length


@dataclass
class GgufHeader:
    """The metadata and tensor table of a GGUF file.

    Attributes
    ----------
    metadata : dict
        Key -> value; arrays longer than 64 elements are :class:`GgufArray`.
    tensors : dict
        Tensor name -> (shape in ggml order, ggml type name).
    """

    path: Path
    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, tuple[tuple[int, ...], str]] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)


class _Reader:
    def __init__(self, fh):
        self.fh = fh

    def take(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise SignatureError(f"{self.fh.name}: the GGUF header ends early")
        return data

    def scalar(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.take(self.scalar("<Q")).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        self.fh.seek(self.scalar("<Q"), os.SEEK_CUR)

    def value(self, vtype: int, keep: int = 64):
        if vtype in _SCALARS:
            return self.scalar(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, count = self.scalar("<I"), self.scalar("<Q")
            if count <= keep:
                return [self.value(etype) for _ in range(count)]
            if etype in _SCALARS:
                self.fh.seek(count * struct.calcsize(_SCALARS[etype]), os.SEEK_CUR)
            elif etype == _STRING:
                for _ in range(count):
                    self.skip_string()
            else:
                for _ in range(count):
                    self.value(etype, keep=0)
            return GgufArray(etype, count)
        raise SignatureError(f"{self.fh.name}: unknown GGUF value type {vtype}")


def gguf_header(path: str | os.PathLike) -> GgufHeader:
    """Read the metadata and the tensor table of a GGUF file (no tensor data).

    Raises
    ------
    SignatureError
        For a file that is not GGUF (or not version 2 or 3, little-endian).
    """
    path = Path(path)
    with path.open("rb") as fh:
        r = _Reader(fh)
        if fh.read(4) != GGUF_MAGIC:
            raise SignatureError(f"{path}: not a GGUF file (no GGUF magic)")
        version = r.scalar("<I")
        if version not in (2, 3):
            raise SignatureError(f"{path}: GGUF version {version} (expected 3, little-endian)")
        n_tensors, n_kv = r.scalar("<Q"), r.scalar("<Q")
        header = GgufHeader(path, version)
        for _ in range(n_kv):
            key = r.string()
            header.metadata[key] = r.value(r.scalar("<I"))
        for _ in range(n_tensors):
            name = r.string()
            dims = tuple(r.scalar("<Q") for _ in range(r.scalar("<I")))
            ggml_type = r.scalar("<I")
            r.scalar("<Q")  # data offset
            header.tensors[name] = (dims, GGML_TYPES.get(ggml_type, str(ggml_type)))
    return header


def gguf_summary(header: GgufHeader) -> str:
    """The keys a loader cares about, one line: architecture, vocabulary, template, projector."""
    arch = header.get("general.architecture")
    parts = [f"general.architecture={arch}"]
    if arch == "clip":
        parts += [
            f"clip.projector_type={header.get('clip.projector_type')}",
            f"clip.has_audio_encoder={header.get('clip.has_audio_encoder')}",
        ]
    else:
        tokens = header.get("tokenizer.ggml.tokens")
        parts += [
            f"tokenizer.ggml.model={header.get('tokenizer.ggml.model')}",
            f"tokenizer.ggml.pre={header.get('tokenizer.ggml.pre')}",
            f"{len(tokens) if tokens is not None else 0} tokens",
            f"tokenizer.ggml.add_bos_token={header.get('tokenizer.ggml.add_bos_token')}",
            "tokenizer.chat_template "
            + ("present" if header.get("tokenizer.chat_template") else "absent"),
        ]
    return ", ".join(parts)


# -- torch checkpoints ----------------------------------------------------------------


def state_summary(state: Mapping[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    """Key -> (shape, dtype) of the tensors of a state dict."""
    return {
        k: (tuple(v.shape), str(v.dtype).removeprefix("torch."))
        for k, v in state.items()
        if hasattr(v, "shape")
    }


def state_problems(
    found: Mapping[str, tuple[tuple[int, ...], str]],
    expected: Mapping[str, tuple[tuple[int, ...], str]],
    *,
    limit: int = 6,
) -> list[str]:
    """Keys missing from or unexpected in a checkpoint, and shapes that differ, against
    the state dict of the network its configuration builds (dtypes are not compared:
    loading casts them)."""
    # batch norm's counter may be left out: torch's loader fills it in
    missing = [k for k in expected if k not in found and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in found if k not in expected]
    shapes = [
        f"{k}: {list(found[k][0])} in the file, {list(expected[k][0])} in the network"
        for k in expected
        if k in found and found[k][0] != expected[k][0]
    ]
    problems = []
    for what, items in (
        ("missing from the file", missing),
        ("in the file but not in the network", unexpected),
        ("of another shape", shapes),
    ):
        if items:
            more = f" and {len(items) - limit} more" if len(items) > limit else ""
            problems.append(f"{len(items)} key(s) {what}: {', '.join(items[:limit])}{more}")
    return problems


# -- the checks the manifest names ----------------------------------------------------

#: `signature:` of a manifest file -> "module:function" returning the file's problems
CHECKS = {
    "essentia-effnet": "mir.classification:effnet_problems",
    "essentia-head": "mir.classification:head_problems",
    "essentia-vggish": "mir.classification:vggish_problems",
    "essentia-labels": "mir.classification:labels_problems",
    "demucs": "mir.separation.demucs:package_problems",
    "bs-roformer": "mir.separation.roformer:checkpoint_problems",
    "bs-roformer-config": "mir.separation.roformer:config_problems",
    "music-flamingo-gguf": "mir.captions.flamingo:text_model_problems",
    "music-flamingo-mmproj": "mir.captions.flamingo:projector_problems",
    "text-gguf": "mir.captions.llm:text_model_problems",
    "audiobox": "mir.aesthetics:checkpoint_problems",
    "adtof": "mir.adtof:weights_problems",
}


def check_function(name: str) -> Callable[[Path], list[str]]:
    """The check named `name` in :data:`CHECKS`."""
    module, _, function = CHECKS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def signature_problems(name: str, path: str | os.PathLike) -> list[str]:
    """The problems check `name` finds in `path` (a file it cannot read is one problem)."""
    try:
        return check_function(name)(Path(path))
    except SignatureError as exc:
        return [str(exc).removeprefix(f"{path}: ")]
