"""How each asset's cost grows with the length of the music: 1, 4, 15 and 60 minutes.

The inputs are real music: the audio files of FOLDER (sorted by name) decoded, brought to
the first file's sample rate, and joined end to end until each length is reached; the
1- and 4-minute inputs are the opening of the same music. Each length is written as a
stereo 16-bit FLAC and then:

1. every track asset that runs without a model file, and the library-wide statistics, is
   materialized through Dagster for it, one asset after the other in one process (as a
   run does), each timed, with the resident set's high-water mark reset before each
   asset (/proc/self/clear_refs) so that its peak is its own;
2. `mir run` processes it as a whole, from a fresh inbox, instance and feature store, in
   its own process: wall time and peak resident set of the process tree.

    python bench/growth.py FOLDER [--minutes 1 4 15 60] [--max-rss-gb 12] [--no-run]

Prints, per asset: seconds of compute per minute of audio at each length, the ratio
time(60 min) / time(4 min) (linear = 15; target <= 17), and the peak resident set per
length (target at 60 minutes: < 6 GB). A length's child process is killed, and
reported, above `--max-rss-gb`.
"""

from __future__ import annotations

import argparse
import graphlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATIO_TARGET = 17.0
PEAK_TARGET_MB = 6 * 1024


def _status_kb(field: str, pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _tree_rss_kb(pid: int) -> int:
    """Resident set of a process and all its descendants (kB)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            total += _status_kb("VmRSS", p)
            with open(f"/proc/{p}/task/{p}/children") as f:
                stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def build_inputs(folder: Path, minutes: list[float], out: Path) -> dict[float, Path]:
    """One FLAC per length from the folder's music, joined end to end."""
    import soundfile as sf

    from mir.audio import AUDIO_EXTENSIONS, load_audio, resample

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower().lstrip(".") in AUDIO_EXTENSIONS)
    if not files:
        raise SystemExit(f"no audio files in {folder}")
    need = max(minutes) * 60.0
    parts, sr, have = [], None, 0.0
    for path in files:
        audio = load_audio(path)
        sr = sr or audio.sr
        x = audio.stereo()
        if audio.sr != sr:
            x = np.stack(
                [resample(x[:, c], orig_sr=audio.sr, target_sr=sr) for c in range(2)], axis=1
            )
        parts.append(x)
        have += x.shape[0] / sr
        if have >= need:
            break
    if have < need:  # a small folder: the music again from the start
        parts = parts * int(np.ceil(need / have))
    music = np.concatenate(parts)
    inputs = {}
    for m in minutes:
        path = out / f"music {m:g} min.flac"
        sf.write(str(path), music[: int(m * 60 * sr)], sr, subtype="PCM_16")
        inputs[m] = path
    print(f"inputs: {len(files)} file(s) of {folder} joined at {sr} Hz", flush=True)
    return inputs


def _project(root: Path, audio: Path) -> Path:
    config = {
        "paths": {
            "inbox": str(root / "inbox"),
            "library": str(root / "library"),
            "duckdb": str(root / "mir.duckdb"),
            "models": str(root / "models"),
            "crops": str(root / "crops"),
            "dataset": str(root / "dataset"),
            "reports": str(root / "reports"),
        },
    }
    path = root / "config" / "master_pipeline.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(config))
    (root / "inbox").mkdir()
    try:  # the inbox takes regular files only (no links out of it)
        os.link(audio, root / "inbox" / audio.name)
    except OSError:
        shutil.copy(audio, root / "inbox" / audio.name)
    (root / "home").mkdir()
    (root / "home" / "dagster.yaml").write_text((ROOT / "config" / "dagster.yaml").read_text())
    return path


def asset_order(assets) -> list[str]:
    """Every asset that runs without a model file, upstream first; statistics last."""
    from mir.config import load_config
    from mir_assets.selection import runnable_track_assets

    keys = set(runnable_track_assets(load_config(), assets))
    graph = graphlib.TopologicalSorter()
    for a in assets:
        for key in a.keys:
            if key in keys:
                graph.add(key, *(d for d in a.asset_deps[key] if d in keys))
    order = [k.path[-1] for k in graph.static_order()]
    return order + [a.key.path[-1] for a in assets if a.partitions_def is None]


def child(config_path: str) -> None:
    """Register the inbox file, then materialize each asset for it; one JSON line each."""
    from dagster import DagsterInstance, materialize

    from mir.config import load_config
    from mir.tracks import find_audio_files
    from mir_assets.definitions import all_assets, all_checks, make_resources
    from mir_assets.partitions import TRACKS
    from store import open_tables
    from store.registry import register_files

    cfg = load_config(config_path)
    files = find_audio_files(cfg.paths.inbox, cfg.processing.audio_extensions)
    ((track_id, _, _),) = register_files(open_tables(cfg), files)
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions(TRACKS, [track_id])
    resources = make_resources(config_path)
    for name in asset_order(all_assets):
        with open("/proc/self/clear_refs", "w") as f:  # reset the high-water mark
            f.write("5")
        print(json.dumps({"asset": name}), flush=True)
        partitioned = next(a for a in all_assets if a.key.path[-1] == name).partitions_def
        t0 = time.perf_counter()
        result = materialize(
            [*all_assets, *all_checks],
            selection=[name],
            partition_key=track_id if partitioned else None,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
        wall = time.perf_counter() - t0
        step = next((e for e in result.all_events if e.is_step_success), None)
        row = {
            "name": name,
            "ok": result.success,
            "wall_s": wall,
            "step_s": step.step_success_data.duration_ms / 1000 if step else wall,
            "peak_mb": _status_kb("VmHWM") / 1024,
        }
        if not result.success:
            failure = next((e for e in result.all_events if e.is_step_failure), None)
            err = failure.step_failure_data.error if failure else None
            row["error"] = err.message.strip().splitlines()[0] if err else "?"
        print(json.dumps(row), flush=True)


def _watch(proc: subprocess.Popen, max_rss_gb: float, watched: dict) -> None:
    while proc.poll() is None:
        rss = _tree_rss_kb(proc.pid)
        watched["peak_kb"] = max(watched["peak_kb"], rss)
        if rss > max_rss_gb * 1024**2:
            watched["killed"] = True
            proc.kill()
            return
        time.sleep(0.1)


def measure_assets(minutes: float, audio: Path, max_rss_gb: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="mir-growth-") as tmp:
        config = _project(Path(tmp), audio)
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "DAGSTER_HOME": str(Path(tmp) / "home")}
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(config)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        watched = {"peak_kb": 0, "killed": False}
        watcher = threading.Thread(target=_watch, args=(proc, max_rss_gb, watched), daemon=True)
        watcher.start()
        rows, current = {}, None
        for line in proc.stdout:
            msg = json.loads(line)
            if "asset" in msg:
                current = msg["asset"]
            else:
                rows[msg["name"]] = msg
                print(
                    f"  {minutes:g} min  {msg['name']:<20} {msg['step_s']:8.1f} s  "
                    f"peak {msg['peak_mb']:7.0f} MB"
                    + ("" if msg["ok"] else f"  FAILED: {msg.get('error')}"),
                    flush=True,
                )
        proc.wait()
        watcher.join()
    return {"rows": rows, "killed_in": current if watched["killed"] else None}


def measure_run(minutes: float, audio: Path, max_rss_gb: float) -> dict:
    """`mir run` over a fresh inbox holding the input: wall time and tree peak RSS."""
    with tempfile.TemporaryDirectory(prefix="mir-growth-run-") as tmp:
        config = _project(Path(tmp), audio)
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "DAGSTER_HOME": str(Path(tmp) / "home")}
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "mir_cli", "run", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=env,
        )
        watched = {"peak_kb": 0, "killed": False}
        watcher = threading.Thread(target=_watch, args=(proc, max_rss_gb, watched), daemon=True)
        watcher.start()
        output = proc.communicate()[0]
        wall = time.perf_counter() - t0
        watcher.join()
    failed = proc.returncode != 0 and "FAILED" in output
    print(
        f"  {minutes:g} min  mir run {wall:8.1f} s  peak {watched['peak_kb'] / 1024:7.0f} MB"
        + ("  KILLED" if watched["killed"] else "")
        + ("  (with failures)" if failed else ""),
        flush=True,
    )
    return {"wall_s": wall, "peak_mb": watched["peak_kb"] / 1024, "killed": watched["killed"]}


def report(minutes: list[float], assets: dict, runs: dict) -> None:
    names = list(next(iter(assets.values()))["rows"]) if assets else []
    for m in minutes:
        for name in assets[m]["rows"]:
            if name not in names:
                names.append(name)
    lo, hi = (4.0, 60.0) if {4.0, 60.0} <= set(minutes) else (minutes[0], minutes[-1])
    linear = hi / lo
    head = " ".join(f"{f'{m:g} min':>8}" for m in minutes)
    print(f"\nseconds of compute per minute of audio (ratio = time({hi:g}) / time({lo:g}); "
          f"linear = {linear:g}, target <= {RATIO_TARGET * linear / 15:g})")  # fmt: skip
    print(
        f"{'asset':<20} {head} {'ratio':>7}  peak RSS MB at {', '.join(f'{m:g}' for m in minutes)} min"
    )
    worst_ratio, worst_peak = 0.0, 0.0
    for name in names:
        rows = [assets[m]["rows"].get(name) for m in minutes]
        per_min = " ".join(
            f"{r['step_s'] / m:8.2f}" if r else f"{'-':>8}"
            for r, m in zip(rows, minutes, strict=True)
        )
        a, b = assets[lo]["rows"].get(name), assets[hi]["rows"].get(name)
        ratio = b["step_s"] / a["step_s"] if a and b and a["step_s"] > 0 else float("nan")
        if name != "feature_statistics":  # one row per library, not per minute of audio
            worst_ratio = max(worst_ratio, ratio)
        peaks = ", ".join(f"{r['peak_mb']:.0f}" if r else "-" for r in rows)
        worst_peak = max(worst_peak, *(r["peak_mb"] for r in rows if r))
        flag = (
            "" if ratio <= RATIO_TARGET * linear / 15 or name == "feature_statistics" else "  OVER"
        )
        print(f"{name:<20} {per_min} {ratio:7.2f}  {peaks}{flag}")  # fmt: skip
    if runs:
        per_min = " ".join(f"{runs[m]['wall_s'] / m:8.2f}" for m in minutes)
        ratio = runs[hi]["wall_s"] / runs[lo]["wall_s"]
        peaks = ", ".join(f"{runs[m]['peak_mb']:.0f}" for m in minutes)
        print(f"{'mir run (wall)':<20} {per_min} {ratio:7.2f}  {peaks}")
        pace = ", ".join(f"{m * 60 / runs[m]['wall_s']:.1f}x" for m in minutes)
        print(f"mir run pace (x realtime) at {', '.join(f'{m:g}' for m in minutes)} min: {pace}")
    killed = [m for m in minutes if assets[m]["killed_in"]]
    for m in killed:
        print(f"KILLED at {m:g} min in {assets[m]['killed_in']}")
    print(f"\nworst asset ratio {worst_ratio:.2f} (target <= {RATIO_TARGET * linear / 15:g}); "
          f"highest asset peak {worst_peak:.0f} MB (target < {PEAK_TARGET_MB} MB at 60 min)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", help="a folder of real music")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 4.0, 15.0, 60.0])
    parser.add_argument("--max-rss-gb", type=float, default=12.0)
    parser.add_argument("--no-run", action="store_true", help="skip the whole `mir run`")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not args.folder:
        parser.error("FOLDER is required")
    minutes = sorted(args.minutes)
    with tempfile.TemporaryDirectory(prefix="mir-growth-inputs-") as tmp:
        inputs = build_inputs(Path(args.folder), minutes, Path(tmp))
        assets = {m: measure_assets(m, inputs[m], args.max_rss_gb) for m in minutes}
        runs = (
            {} if args.no_run else {m: measure_run(m, inputs[m], args.max_rss_gb) for m in minutes}
        )
    report(minutes, assets, runs)
    if args.json:
        Path(args.json).write_text(json.dumps({"assets": assets, "runs": runs}, indent=1))


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
