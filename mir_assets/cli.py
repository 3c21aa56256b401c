"""`mir`: the command line.

mir run [--config FILE] [--force]   the whole pipeline over the inbox, in-process,
                                    through the Dagster definitions (master_pipeline.py)
mir make-demo [--out DIR]           synthesise a small demo library into the inbox
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from mir.config import PROJECT_ROOT, load_config

DEMO_SONGS = [
    # file name, bpm, tonic, scale, beats per bar, bars
    ("01 - Neon Drive.flac", 128.0, "A", "minor", 4, 16),
    ("02 - Harbour Lights.wav", 100.0, "D", "major", 4, 12),
    ("03 - Old Town Waltz.mp3", 84.0, "F", "major", 3, 12),
    ("04 - Night Market.ogg", 140.0, "E", "minor", 4, 16),
]
DEMO_TRUTH = ".demo_truth.json"


def _fmt_s(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """One status line: tracks done / total, current asset and track, elapsed, remaining."""

    def __init__(self, total: int):
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.current = ""

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        remaining = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        rem = _fmt_s(remaining) if self.done else "?"
        return (
            f"[{self.done}/{self.total} tracks] {self.current:<48.48} "
            f"elapsed {_fmt_s(elapsed)}  remaining ~{rem}"
        )

    def update(self, asset: str, track: str) -> None:
        self.current = f"{asset}: {track}"
        if self.tty:
            print("\r" + self.line(), end="", flush=True)
        else:
            print(self.line(), flush=True)

    def track_done(self) -> None:
        self.done += 1
        self.current = "done" if self.done == self.total else self.current
        if self.tty:
            print("\r" + self.line(), end="", flush=True)
        else:
            print(self.line(), flush=True)

    def finish(self) -> None:
        if self.tty:
            print()


def _ensure_dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.write_text((PROJECT_ROOT / "config" / "dagster.yaml").read_text())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_run(args: argparse.Namespace) -> int:
    if args.config:
        os.environ["MIR_CONFIG"] = str(Path(args.config).resolve())
    cfg = load_config()
    home = _ensure_dagster_home()

    from dagster import AssetKey, DagsterInstance, materialize

    from mir.stems import find_stems
    from mir.tracks import find_audio_files
    from mir_assets.definitions import all_assets, make_resources
    from mir_assets.local_run import TrackResult, run_tracks, worker_count
    from mir_assets.partitions import TRACKS
    from mir_assets.runtime import NEEDS_STEMS_TAG
    from mir_assets.track_failures import stored_partitions
    from resources.duckdb_tables import FeatureTables, admit_files

    instance = DagsterInstance.get()
    tables = FeatureTables(cfg.paths.duckdb)
    files = find_audio_files(cfg.paths.inbox, cfg.processing.audio_extensions)
    if not files:
        print(f"no audio files in {cfg.paths.inbox}")
        return 0
    print(f"registering {len(files)} file(s) from {cfg.paths.inbox} ...", flush=True)
    # files seen before with the same size and mtime are not probed or hashed again
    seen = tables.sources()
    reasons = {path: reason for path, (_, _, reason) in tables.rejected().items()}
    track_ids: list[str] = []
    rejected: list[tuple[Path, str]] = []
    fresh: list[Path] = []
    for path in files:
        st = path.stat()
        size, mtime, known_id = seen.get(str(path), (None, None, None))
        if (size, mtime) != (st.st_size, st.st_mtime_ns):
            fresh.append(path)
        elif known_id is None:
            rejected.append((path, reasons.get(str(path), "did not decode")))
        elif known_id not in track_ids:
            track_ids.append(known_id)
    admission = admit_files(tables, fresh)
    rejected += admission.rejected
    for track_id, path, is_new in admission.tracks:
        if not is_new and track_id in track_ids:
            print(f"  {path.name}: same content as {track_id!r}, skipped")
        if track_id not in track_ids:
            track_ids.append(track_id)
    for path, reason in rejected:
        print(f"  rejected {path}: {reason}")
    if not track_ids:
        print("no track to run: every file was rejected")
        return 1
    existing = set(instance.get_dynamic_partitions(TRACKS))
    missing = [t for t in track_ids if t not in existing]
    if missing:
        instance.add_dynamic_partitions(TRACKS, missing)

    order = [a.key.path[-1] for a in all_assets if a.partitions_def is not None]
    library_wide = [a.key.path[-1] for a in all_assets if a.partitions_def is None]
    needs_stems = {
        a.key.path[-1] for a in all_assets if (a.tags_by_key.get(a.key) or {}).get(NEEDS_STEMS_TAG)
    }
    stems_enabled = "stems" in order and getattr(cfg.features, "stems", False)
    enabled = [name for name in order if getattr(cfg.features, name, True)]
    done_before = {
        name: (set() if args.force else stored_partitions(instance, AssetKey(name)))
        for name in enabled
    }
    from mir_assets.selection import missing_models, missing_separation_model

    model_missing = missing_separation_model(cfg) if "stems" in enabled else None
    # the other model assets whose model is not in place: reported, not run
    no_model = missing_models(cfg, enabled)
    outcome: dict[str, dict[str, str]] = {name: {} for name in enabled}
    errors: dict[tuple[str, str], str] = {}
    seconds: dict[str, float] = {name: 0.0 for name in enabled}
    plan: dict[str, list[str]] = {}
    for track_id in track_ids:
        todo = [n for n in enabled if track_id not in done_before[n]]
        on_disk = bool(find_stems(cfg.paths.library / track_id))
        has_stems = on_disk or (stems_enabled and model_missing is None)
        for name in enabled:
            if name not in todo:
                outcome[name][track_id] = "up to date"
            elif name == "stems" and model_missing is not None:
                outcome[name][track_id] = "no model"
            elif name in no_model:
                outcome[name][track_id] = "no model"
            elif name in needs_stems and not has_stems:
                outcome[name][track_id] = "no model" if model_missing is not None else "no stems"
        plan[track_id] = [n for n in todo if n not in outcome or track_id not in outcome[n]]

    progress = Progress(len(track_ids))
    for todo in plan.values():
        if not todo:
            progress.track_done()
    workers = worker_count(cfg.processing.workers, sum(1 for todo in plan.values() if todo))

    def on_result(result: TrackResult) -> None:
        for name, state in result.states.items():
            outcome[name][result.track_id] = state
            seconds[name] += result.seconds.get(name, 0.0)
        for name, message in result.errors.items():
            errors[(name, result.track_id)] = message
        progress.track_done()

    config_path = os.environ.get("MIR_CONFIG", "")
    try:
        if any(plan.values()):
            print(
                f"running {sum(1 for t in plan.values() if t)} track(s) on {workers} worker(s)",
                flush=True,
            )
        run_tracks(
            plan,
            config_path=config_path,
            workers=workers,
            on_progress=progress.update,
            on_result=on_result,
        )
        resources = make_resources(config_path)
        quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
        for name in library_wide:  # once, over every track
            if getattr(cfg.features, name, True):
                progress.update(name, "all tracks")
                started = time.monotonic()
                result = materialize(
                    all_assets,
                    selection=[name],
                    instance=instance,
                    resources=resources,
                    raise_on_error=False,
                    run_config=quiet,
                )
                seconds[name] = time.monotonic() - started
                outcome[name] = {"(library)": "ok" if result.success else "failed"}
                if not result.success:
                    errors[(name, "(library)")] = "see the run in the UI"
    finally:
        progress.finish()

    _print_summary(cfg, tables, track_ids, outcome, errors, home, progress, seconds)
    if rejected:
        print(
            f"\n{len(rejected)} file(s) rejected (they do not decode; recorded in the "
            "`rejected_files` table and tried again when they change):"
        )
        for path, reason in rejected:
            print(f"  {path}: {reason}")
    if model_missing is not None:
        print(
            f"\nstems and the per-stem features were skipped: {model_missing}"
            "; fetch it: mir models fetch --for stems"
        )
    for name, error in no_model.items():
        print(f"\n{name} was skipped: {error}; fetch it: mir models fetch --for {name}")
    return 1 if errors or rejected else 0


def _print_summary(cfg, tables, track_ids, outcome, errors, home, progress, seconds) -> None:
    from mir.harmonic import PITCH_CLASSES

    truth = {}
    truth_file = cfg.paths.inbox / DEMO_TRUTH
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())
    loud = tables.read("loudness", track_ids) if "loudness" in outcome else {}
    beats = tables.read("beat_grid", track_ids) if "beat_grid" in outcome else {}
    src = tables.read("source_audio", track_ids)
    harm = tables.read("harmonic_features", track_ids) if "harmonic_features" in outcome else {}
    print()
    header = f"{'track':<28} {'dur s':>6} {'bpm':>7} {'meter':>5} {'key':>9} {'lufs':>7} {'lra':>5}"
    if truth:
        header += f"  {'expected':<22}"
    print(header)
    print("-" * len(header))
    for tid in track_ids:
        s, b, lo, h = src.get(tid, {}), beats.get(tid, {}), loud.get(tid, {}), harm.get(tid, {})
        meter = f"{b['beats_per_bar']}/4" if b.get("beats_per_bar") else "-"
        key = f"{PITCH_CLASSES[h['tonic']]} {h['tonic_scale']}" if "tonic" in h else "-"
        row = (
            f"{tid[:28]:<28} {s.get('duration_s', float('nan')):>6.1f} {b.get('bpm', float('nan')):>7.2f} "
            f"{meter:>5} {key:>9} {lo.get('lufs', float('nan')):>7.2f} {lo.get('lra', float('nan')):>5.2f}"
        )
        if truth:
            t = truth.get(tid)
            row += f"  {t['bpm']:.0f} BPM {t['meter']} {t['key']}" if t else ""
        print(row)
    print()
    states = ("ok", "up_to_date", "failed", "skipped", "no_stems", "no_model")
    durations = {tid: float(s.get("duration_s") or 0.0) for tid, s in src.items()}
    print(
        f"{'asset':<20} "
        + " ".join(f"{s:>10}" for s in states)
        + f" {'time s':>9} {'x realtime':>10}"
    )
    for name, per_track in outcome.items():
        counts = [sum(1 for v in per_track.values() if v == k.replace("_", " ")) for k in states]
        audio = (
            sum(durations.values())
            if "(library)" in per_track
            else sum(durations.get(t, 0.0) for t, v in per_track.items() if v == "ok")
        )
        took = seconds.get(name, 0.0)
        pace = f"{audio / took:10.1f}" if took > 0 and audio > 0 else f"{'-':>10}"
        print(f"{name:<20} " + " ".join(f"{c:>10}" for c in counts) + f" {took:9.1f} {pace}")
    if any("no stems" in per_track.values() for per_track in outcome.values()):
        print("  no_stems: per-stem features wait for drums/bass/other/vocals in the track folder")
    for (asset, tid), msg in errors.items():
        print(f"  FAILED {asset} for {tid!r}: {msg}")
    print()
    wall = time.monotonic() - progress.started
    audio = sum(durations.get(t, 0.0) for t in track_ids)
    busy = sum(seconds.values())
    print(
        f"{len(track_ids)} track(s), {_fmt_s(audio)} of audio, in {_fmt_s(wall)}"
        + (f" ({audio / wall:.1f}x realtime)" if wall > 0 and busy > 0 else "")
        + (f"; the assets computed for {_fmt_s(busy)}" if busy > 0 else "")
    )
    print(f"library:        {cfg.paths.library}")
    print(f"feature store:  {cfg.paths.duckdb}")
    print(f"dagster home:   {home}  (open the UI: make ui)")


def cmd_make_demo(args: argparse.Namespace) -> int:
    from mir.audio import write_audio
    from mir.synth import render_song
    from mir.tracks import track_name

    out = Path(args.out) if args.out else load_config(args.config).paths.inbox
    out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for i, (name, bpm, tonic, scale, bpb, bars) in enumerate(DEMO_SONGS):
        song = render_song(bpm=bpm, tonic=tonic, scale=scale, beats_per_bar=bpb, bars=bars, seed=i)
        path = out / name
        if not path.exists():
            write_audio(path, song.mix, song.sr)
        truth[track_name(name)] = {"bpm": bpm, "key": song.key, "meter": f"{bpb}/4"}
        print(f"  {path}  ({bpm:.0f} BPM, {bpb}/4, {song.key})")
    (out / DEMO_TRUTH).write_text(json.dumps(truth, indent=2))
    print(f"demo library: {len(DEMO_SONGS)} songs in {out}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from mir.analysis import analyze_track, stderr_progress
    from mir.audio import load_audio
    from mir.errors import MirError
    from mir.feature_table import FEATURES
    from mir.info import info_path, safe_update, sidecar_path, write_times
    from mir.stems import find_stems
    from mir.tracks import track_name

    cfg = load_config(args.config)
    try:
        audio = load_audio(args.file)
        stems = {}
        if args.stems:
            stems = {name: load_audio(path) for name, path in find_stems(args.stems).items()}
        progress = (
            stderr_progress(audio.duration_s) if audio.duration_s > 60 or not args.json else None
        )
        result = analyze_track(audio, cfg, stems=stems, progress=progress)
    except MirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    values = {
        "duration_s": round(audio.duration_s, 6),
        "sample_rate": audio.sr,
        "channels": audio.channels,
    }
    values.update(result.values)
    if args.out:
        track_dir = Path(args.out) / track_name(args.file)
        safe_update(info_path(track_dir), values)
        write_times(sidecar_path(track_dir, ".BEATS_GRID"), result.grid.beats)
        if result.grid.downbeats.size:
            write_times(sidecar_path(track_dir, ".DOWNBEATS"), result.grid.downbeats)
        write_times(sidecar_path(track_dir, ".ONSETS"), result.onsets)
        print(f"wrote {track_dir}", file=sys.stderr)
    if args.json:
        print(json.dumps(values, ensure_ascii=False))
        return 0
    print(f"{args.file}: {audio.duration_s:.1f} s, {audio.sr} Hz, {audio.channels} ch")
    for key, value in values.items():
        feature = FEATURES.get(key)
        unit = feature.unit if feature else ""
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"  {key:<32} {shown:>14} {unit}")
    timings = ", ".join(
        f"{k} {v:.2f} s" for k, v in sorted(result.seconds.items(), key=lambda kv: -kv[1])
    )
    print(f"time: {timings}")
    return 0


def cmd_caption(args: argparse.Namespace) -> int:
    import time

    from mir.captions import template_caption
    from mir.errors import MirError
    from mir.flamingo import CaptionError, fill_prompt, load_captioner
    from mir.info import read_info
    from mir_assets.captions import prompts_of

    cfg = load_config(args.config)
    mf = cfg.music_flamingo
    update = {k: v for k, v in (("backend", args.backend), ("model", args.model)) if v}
    mf = mf.model_copy(update=update)
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    info = Path(args.info) if args.info else None
    if info is None:
        beside = sorted(path.parent.glob("*.INFO"))
        info = beside[0] if len(beside) == 1 else None
    prompts = prompts_of(mf)
    chosen = args.prompt or list(prompts)
    unknown = [k for k in chosen if k not in prompts]
    if unknown:
        print(
            f"error: unknown prompt {', '.join(unknown)}: configured are {', '.join(prompts)}",
            file=sys.stderr,
        )
        return 2
    out: dict = {}
    try:
        if info is not None:
            values = read_info(info)
        else:
            from mir.analysis import analyze_track
            from mir.audio import load_audio

            values = analyze_track(load_audio(path), cfg).values
        out["caption_template"] = template_caption(values)
        if mf.backend != "template":
            t0 = time.perf_counter()
            captioner = load_captioner(mf)
            print(
                f"loaded {mf.backend} {mf.model} in {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )
            for key in chosen:
                template, max_tokens = prompts[key]
                t0 = time.perf_counter()
                out[f"music_flamingo_{key}"] = captioner.caption(
                    path, fill_prompt(template, values), max_tokens
                )
                print(f"{key}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            out["music_flamingo_model"] = captioner.tag
    except (MirError, CaptionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for key, text in out.items():
            print(f"{key}: {text}")
    return 0


def cmd_separate(args: argparse.Namespace) -> int:
    from mir.gpu import apply_rocm_env

    cfg = load_config(args.config)
    apply_rocm_env(cfg.rocm)  # before torch is imported

    from mir.audio import extension, load_audio
    from mir.errors import MirError
    from mir.gpu import choose_device
    from mir.separation import model_loader, mp3_bitrate, separate, stem_format, write_stem
    from mir.tracks import find_audio_files, track_name

    sep = cfg.separation
    updates = {"backend": args.backend} if args.backend else {}
    if args.model:
        if (args.backend or sep.backend) == "demucs":
            updates["demucs"] = sep.demucs.model_copy(update={"model": args.model})
        else:
            updates["bs_roformer"] = sep.bs_roformer.model_copy(update={"model_file": args.model})
    sep = sep.model_copy(update=updates)
    files: list[Path] = []
    for raw in args.paths:
        p = Path(raw)
        files += find_audio_files(p, cfg.processing.audio_extensions) if p.is_dir() else [p]
    files = [f for f in files if f.stem not in ("drums", "bass", "other", "vocals")]
    if not files:
        print("no audio files given", file=sys.stderr)
        return 2
    try:
        device = choose_device(cfg.processing.device)
        _, load = model_loader(sep)
        t0 = time.monotonic()
        model = load()
        if hasattr(model, "to"):
            model = model.to(device)
        print(
            f"loaded {sep.backend} model in {time.monotonic() - t0:.1f} s on {device}",
            file=sys.stderr,
        )
    except MirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    started = time.monotonic()
    for i, path in enumerate(files, 1):
        out_dir = (
            Path(args.out) / track_name(path)
            if args.out
            else (path.parent if path.stem == "full_mix" else path.parent / track_name(path))
        )
        t0 = time.monotonic()
        try:
            audio = load_audio(path)
            result = separate(model, audio.samples, audio.sr, sep, device=device)
            fmt = stem_format(extension(path), sep.output_format)
            bitrate = mp3_bitrate(path, sep.mp3_bitrate or None)
            for name, samples in result.stems.items():
                write_stem(out_dir / f"{name}.{fmt}", samples, result.sr, bitrate=bitrate)
        except MirError as exc:
            failed += 1
            print(f"[{i}/{len(files)}] {path.name}: error: {exc}", file=sys.stderr)
            continue
        took = time.monotonic() - t0
        done = time.monotonic() - started
        eta = done / i * (len(files) - i)
        print(
            f"[{i}/{len(files)}] {path.name} -> {out_dir} ({audio.duration_s / took:.1f}x realtime, "
            f"remaining ~{_fmt_s(eta)})",
            flush=True,
        )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mir", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the whole pipeline over the inbox, in-process")
    p.add_argument("--config", help="master_pipeline.yaml to use (default: $MIR_CONFIG or config/)")
    p.add_argument("--force", action="store_true", help="recompute assets already materialized")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("make-demo", help="synthesise the demo library into the inbox")
    p.add_argument("--config")
    p.add_argument("--out", help="folder to write to (default: paths.inbox)")
    p.set_defaults(func=cmd_make_demo)
    p = sub.add_parser("analyze", help="every model-free feature of one audio file (no Dagster)")
    p.add_argument("file", help="audio file")
    p.add_argument("--stems", help="folder holding drums/bass/other/vocals.<ext>")
    p.add_argument(
        "--json", action="store_true", help="print one flat JSON object (the .INFO keys)"
    )
    p.add_argument(
        "--out", help="also write a track folder (.INFO, .BEATS_GRID, .DOWNBEATS, .ONSETS) here"
    )
    p.add_argument("--config")
    p.set_defaults(func=cmd_analyze)
    p = sub.add_parser("caption", help="caption one audio file (template or Music Flamingo)")
    p.add_argument("file", help="audio file")
    p.add_argument(
        "--backend",
        choices=["template", "cli", "llama_cpp", "transformers"],
        help="default: music_flamingo.backend",
    )
    p.add_argument("--model", help="GGUF quantisation: IQ3_M, Q6_K or Q8_0")
    p.add_argument(
        "--prompt", action="append", help="prompt key (repeatable; default: every configured one)"
    )
    p.add_argument(
        "--info", help="the .INFO with the values for {genres}, {metadata} and the template"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--config")
    p.set_defaults(func=cmd_caption)
    p = sub.add_parser("separate", help="separate files or folders into stems (model loaded once)")
    p.add_argument("paths", nargs="+", help="audio files or folders")
    p.add_argument("--backend", choices=["demucs", "bs_roformer"])
    p.add_argument("--model", help="Demucs model name, or BS-RoFormer checkpoint file")
    p.add_argument(
        "--out", help="write <out>/<track name>/<stem>.<ext> (default: beside each file)"
    )
    p.add_argument("--config")
    p.set_defaults(func=cmd_separate)
    from mir.models import add_models_parser

    add_models_parser(sub)  # mir models list | fetch | verify
    args = parser.parse_args(argv)
    from mir.quiet import quiet_libraries

    # library notices are for their developers, not for our users (`mir models` imports
    # no audio library, so it has none of Essentia's to silence)
    quiet_libraries(essentia=args.command != "models")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
