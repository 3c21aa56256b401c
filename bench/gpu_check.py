"""GPU check: every model family's tiny model, in its published format, loaded and run
through the GPU resource, with load time, speed and peak memory per family.

The families: Essentia classification (onnxruntime), Demucs and BS-RoFormer separation,
Audiobox Aesthetics and ADTOF drum transcription (torch), Music Flamingo captions
(llama.cpp with the mtmd projector). Each model is written by tests/tiny_models.py and
tests/gguf_models.py, loaded once through `GpuResource.model` (whose device is
`processing.device`: auto, cuda, rocm or cpu), and run on `--seconds` of a rendered song.

On a CUDA or ROCm machine the torch families run on the GPU; onnxruntime uses the GPU only
when a GPU build of it is installed, and llama.cpp only when llama-cpp-python was built for
the GPU (each row says what ran it). On a machine without a GPU everything runs on the CPU:
that is how CI runs it (tests/test_gpu_check.py).

Peak memory is sampled every 5 ms while a family loads and runs: the process's resident
memory above what it held before, and on a GPU the device memory in use above the
baseline (`torch.cuda.mem_get_info`, which sees onnxruntime's and llama.cpp's allocations
too) and torch's own peak allocation.

    python bench/gpu_check.py [--device auto] [--seconds 30] [--families essentia,demucs,...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SR = 44100
FAMILIES = ("essentia", "demucs", "bs_roformer", "aesthetics", "adtof", "music_flamingo")


@dataclass
class Row:
    """One family's figures."""

    family: str
    ran_on: str
    load_s: float
    run_s: float
    audio_s: float
    realtime: float
    peak_rss_mb: float
    peak_gpu_mb: float | None
    torch_peak_mb: float | None
    note: str = ""


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _gpu_used_mb() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    free, total = torch.cuda.mem_get_info()
    return (total - free) / 2**20


class PeakSampler:
    """The peak of resident memory (and GPU memory in use) while the block runs, above
    what it was when the block began."""

    def __init__(self, interval_s: float = 0.005):
        self.interval_s = interval_s

    def __enter__(self):
        import torch

        self.base_rss, self.base_gpu = _rss_mb(), _gpu_used_mb()
        self.peak_rss, self.peak_gpu = self.base_rss, self.base_gpu
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval_s)

    def _sample(self) -> None:
        self.peak_rss = max(self.peak_rss, _rss_mb())
        gpu = _gpu_used_mb()
        if gpu is not None:
            self.peak_gpu = max(self.peak_gpu or 0.0, gpu)

    def __exit__(self, *exc):
        import torch

        self._stop.set()
        self._thread.join()
        self._sample()
        self.rss_mb = self.peak_rss - self.base_rss
        self.gpu_mb = None if self.base_gpu is None else self.peak_gpu - self.base_gpu
        self.torch_mb = (
            torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
        )


# -- the families ---------------------------------------------------------------------


def _essentia(models: Path, gpu, mix: np.ndarray):
    from mir.audio import resample
    from mir.classification import classify, load_classifier
    from tests.tiny_models import write_tiny_essentia_models

    folder = write_tiny_essentia_models(models / "essentia", genre_head=True)
    classifier = gpu.model(("essentia", str(folder)), lambda: load_classifier(folder))
    y16 = resample(mix.mean(axis=1), orig_sr=SR, target_sr=16000)
    providers = classifier.effnet.session.get_providers()
    ran_on = "onnxruntime " + providers[0].removesuffix("ExecutionProvider")
    return ran_on, lambda: classify(classifier, y16)


def _demucs(models: Path, gpu, mix: np.ndarray):
    from mir.separation.demucs import load_demucs, separate_demucs
    from tests.tiny_models import write_tiny_demucs

    repo = write_tiny_demucs(models / "demucs")
    model = gpu.model(("demucs", str(repo)), lambda: load_demucs("tiny", repo))
    return f"torch {gpu.device}", lambda: separate_demucs(model, mix, SR, device=gpu.device)


def _bs_roformer(models: Path, gpu, mix: np.ndarray):
    from mir.separation.roformer import load_roformer, separate_roformer
    from tests.tiny_models import write_tiny_roformer

    cfg = write_tiny_roformer(models / "bs-roformer", mask_estimator_depth=1)
    model = gpu.model(("bs_roformer", str(cfg.model_dir)), lambda: load_roformer(cfg))
    return f"torch {gpu.device}", lambda: separate_roformer(model, mix, SR, cfg, device=gpu.device)


def _aesthetics(models: Path, gpu, mix: np.ndarray):
    import torch

    from mir._vendor.audiobox_aesthetics.model.aes import AesMultiOutput
    from mir.aesthetics import SR as AES_SR
    from mir.aesthetics import load_aesthetics, save_checkpoint, score
    from mir.audio import resample

    torch.manual_seed(0)
    targets = {a: {"mean": 5.0, "std": 1.5} for a in ("CE", "CU", "PC", "PQ")}
    path = save_checkpoint(
        AesMultiOutput(target_transform=targets), models / "audiobox" / "checkpoint.pt"
    )
    model = gpu.model(("aesthetics", str(path)), lambda: load_aesthetics(path))
    y = resample(mix.mean(axis=1), orig_sr=SR, target_sr=AES_SR)
    return f"torch {gpu.device}", lambda: score(model, [y], device=gpu.device)


def _adtof(models: Path, gpu, mix: np.ndarray):
    import torch

    from mir import adtof
    from mir.audio import resample

    torch.manual_seed(0)
    path = adtof.save(adtof.FrameRNN(n_bins=adtof.n_bins()), models / "adtof" / "weights.pth")
    model = gpu.model(("adtof", str(path)), lambda: adtof.load(path))
    spec = adtof.spectrogram(resample(mix.mean(axis=1), orig_sr=SR, target_sr=adtof.SR))
    return f"torch {gpu.device}", lambda: adtof.activations(model, spec)


def _music_flamingo(models: Path, gpu, mix: np.ndarray):
    from mir.audio import resample
    from mir.captions.flamingo import MtmdCaptioner
    from tests.gguf_models import write_tiny_music_flamingo_mmproj, write_tiny_music_flamingo_text

    folder = models / "music_flamingo"
    folder.mkdir(parents=True, exist_ok=True)
    text = write_tiny_music_flamingo_text(folder / "music-flamingo-hf.Q8_0.gguf")
    mmproj = write_tiny_music_flamingo_mmproj(folder / "music-flamingo-hf.mmproj-f16.gguf")
    layers = 0 if gpu.device == "cpu" else 99
    captioner = gpu.model(
        ("music_flamingo", str(folder)),
        lambda: MtmdCaptioner(text, mmproj, "Q8_0", context_size=16384, gpu_layers=layers),
    )
    from llama_cpp import llama_cpp as C

    ran_on = "llama.cpp " + ("GPU offload" if C.llama_supports_gpu_offload() and layers else "CPU")
    y = resample(mix.mean(axis=1), orig_sr=SR, target_sr=captioner.sample_rate)
    return ran_on, lambda: captioner.caption_audio(y, "Describe this track.", 16)


SETUPS: dict[str, Callable] = {
    "essentia": _essentia,
    "demucs": _demucs,
    "bs_roformer": _bs_roformer,
    "aesthetics": _aesthetics,
    "adtof": _adtof,
    "music_flamingo": _music_flamingo,
}


def check(families: list[str], *, device: str = "auto", seconds: float = 30.0) -> list[Row]:
    """Load and run each family's tiny model through a `GpuResource` on `device`."""
    from mir.synth import render_song
    from resources.gpu import GpuResource
    from resources.settings import PipelineSettings

    rows = []
    with tempfile.TemporaryDirectory(prefix="mir-gpu-check-") as tmp:
        tmp = Path(tmp)
        config = tmp / "master_pipeline.yaml"
        config.write_text(f"processing:\n  device: {device}\npaths:\n  models: {tmp / 'models'}\n")
        gpu = GpuResource(settings=PipelineSettings(config_path=str(config)))
        bars = max(1, int(np.ceil(seconds / 2.0)))  # 2 s bars at 120 BPM
        mix = render_song(bpm=120, bars=bars).mix[: int(seconds * SR)]
        sf.write(tmp / "mix.wav", mix, SR)
        for family in families:
            loads = gpu._load_seconds
            with PeakSampler() as peak:
                ran_on, run = SETUPS[family](tmp / "models", gpu, mix)
                load_s = gpu._load_seconds - loads
                run()  # a first call warms kernels and caches; the second is timed
                t0 = time.perf_counter()
                run()
                run_s = time.perf_counter() - t0
            rows.append(
                Row(
                    family=family,
                    ran_on=ran_on,
                    load_s=round(load_s, 3),
                    run_s=round(run_s, 3),
                    audio_s=round(len(mix) / SR, 2),
                    realtime=round(len(mix) / SR / max(run_s, 1e-9), 1),
                    peak_rss_mb=round(peak.rss_mb, 1),
                    peak_gpu_mb=None if peak.gpu_mb is None else round(peak.gpu_mb, 1),
                    torch_peak_mb=None if peak.torch_mb is None else round(peak.torch_mb, 1),
                )
            )
    return rows


def table(rows: list[Row], device: str) -> str:
    """The rows as a text table, with the device the resource chose."""
    head = ["family", "ran on", "load s", "run s", "audio s", "x realtime", "peak RSS MB"]
    gpu = any(r.peak_gpu_mb is not None for r in rows)
    if gpu:
        head += ["peak GPU MB", "torch peak MB"]
    lines = [head]
    for r in rows:
        line = [r.family, r.ran_on, f"{r.load_s:.3f}", f"{r.run_s:.3f}", f"{r.audio_s:.1f}",
                f"{r.realtime:.1f}", f"{r.peak_rss_mb:.1f}"]  # fmt: skip
        if gpu:
            line += [f"{r.peak_gpu_mb or 0:.1f}", f"{r.torch_peak_mb or 0:.1f}"]
        lines.append(line)
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    out = [f"device: {device}"]
    out += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in lines
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "rocm", "cpu"])
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per family")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--json", type=Path, help="write the rows here too")
    args = parser.parse_args(argv)
    families = [f for f in args.families.split(",") if f]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}: one of {', '.join(FAMILIES)}")
    from mir.gpu import apply_rocm_env, choose_device, device_description

    apply_rocm_env()
    device = device_description(choose_device(args.device))
    rows = check(families, device=args.device, seconds=args.seconds)
    print(table(rows, device))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return 0


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
