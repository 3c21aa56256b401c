"""Separation: our `stems` path against a bare `demucs.apply.apply_model`, in one run.

The full-size htdemucs architecture (bottom channels 512, 7.8 s segments: 41.5 M
parameters, the compute of the real model) with random weights, on 30 s of a rendered
song. Prints the overhead of our path (normalisation, blocks, quality check, stems
written) over the bare call, the realtime factor, and the number of model loads in a
5-track run of the `stems` asset through Dagster (one run, one batch).

    python bench/separation.py [--seconds 30] [--tracks 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from mir.config import load_config
from mir.synth import render_song

SR = 44100


def save_full_size_htdemucs(repo: Path) -> None:
    import torch
    from demucs.htdemucs import HTDemucs

    from mir.separation.demucs import save_demucs_model

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], bottom_channels=512, segment=7.8)
    save_demucs_model(model, repo, "bench_htdemucs")
    n = sum(p.numel() for p in model.parameters())
    print(f"model: htdemucs architecture, {n / 1e6:.1f} M parameters, random weights")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--tracks", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        repo = tmp / "models" / "demucs"
        save_full_size_htdemucs(repo)

        import torch
        from demucs.apply import apply_model

        from mir.separation import separate
        from mir.separation.demucs import load_demucs
        from mir.separation.files import write_stem

        cfg = load_config().separation
        cfg = cfg.model_copy(
            update={
                "demucs": cfg.demucs.model_copy(update={"model": "bench_htdemucs", "repo": repo})
            }
        )
        model = load_demucs("bench_htdemucs", repo)
        bars = int(np.ceil(args.seconds / (4 * 60 / 120)))
        mix = render_song(bpm=120, bars=bars).mix[: int(args.seconds * SR)]

        # bare: what a minimal script does
        t0 = time.perf_counter()
        wav = torch.from_numpy(np.ascontiguousarray(mix.T))
        with torch.inference_mode():
            apply_model(model, wav[None], split=True, overlap=0.25, progress=False, device="cpu")
        bare = time.perf_counter() - t0

        # ours: the path the `stems` asset takes, stems written as FLAC
        t0 = time.perf_counter()
        result = separate(model, mix, SR, cfg, device="cpu")
        for name, stem in result.stems.items():
            write_stem(tmp / f"{name}.flac", stem, result.sr)
        ours = time.perf_counter() - t0

        print(f"{args.seconds:.0f} s of audio on the CPU ({torch.get_num_threads()} threads)")
        print(f"bare apply_model: {bare:7.2f} s  ({args.seconds / bare:.2f}x realtime)")
        print(f"our stems path:   {ours:7.2f} s  ({args.seconds / ours:.2f}x realtime)")
        print(f"overhead ratio ours / bare: {ours / bare:.3f} (target <= 1.05)")

        # model loads in a run over several tracks, counted from the run itself
        from dagster import AssetKey, DagsterInstance, materialize
        from dagster._core.storage.tags import (
            ASSET_PARTITION_RANGE_END_TAG,
            ASSET_PARTITION_RANGE_START_TAG,
        )

        from mir_assets.definitions import all_assets, make_resources
        from store.duckdb import DuckDBTables
        from store.registry import register_files

        cfg_file = tmp / "config" / "master_pipeline.yaml"
        cfg_file.parent.mkdir()
        cfg_file.write_text(
            yaml.safe_dump(
                {
                    "paths": {
                        "inbox": str(tmp / "inbox"),
                        "library": str(tmp / "library"),
                        "duckdb": str(tmp / "f.duckdb"),
                    },
                    "separation": {"demucs": {"model": "bench_htdemucs", "repo": str(repo)}},
                }
            )
        )
        (tmp / "inbox").mkdir()
        paths = []
        for i in range(args.tracks):
            p = tmp / "inbox" / f"track{i}.flac"
            sf.write(str(p), render_song(bpm=100 + 5 * i, bars=2, seed=i).mix[: 5 * SR], SR)
            paths.append(p)
        ids = [t for t, _, _ in register_files(DuckDBTables(tmp / "f.duckdb"), paths)]
        instance = DagsterInstance.ephemeral()
        instance.add_dynamic_partitions("tracks", ids)
        t0 = time.perf_counter()
        result = materialize(
            all_assets,
            selection=["source_audio", "stems"],
            instance=instance,
            resources=make_resources(str(cfg_file)),
            tags={ASSET_PARTITION_RANGE_START_TAG: ids[0], ASSET_PARTITION_RANGE_END_TAG: ids[-1]},
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        took = time.perf_counter() - t0
        mats = [
            e for e in result.get_asset_materialization_events() if e.asset_key == AssetKey("stems")
        ]
        loads = mats[0].materialization.metadata["model_loads"].value
        print(
            f"{args.tracks}-track run of `stems` (one run): {len(mats)} tracks separated, model loads: {loads} (target 1), {took:.1f} s"
        )


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
