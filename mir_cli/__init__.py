"""`mir`: the command line.

    mir run [--config FILE] [--force] [--dry-run]
                                the whole pipeline over the inbox, through the Dagster
                                definitions (the original master_pipeline.py)
    mir make-demo [--out DIR]   synthesise a small demo library into the inbox
    mir analyze FILE            every model-free feature of one file (test_all_features.py)
    mir separate PATH...        stems of files or folders, the model loaded once
    mir caption FILE            a caption of one file (template or Music Flamingo)
    mir models list|fetch|verify
                                the model files the configuration selects
    mir snapshot FILE           the feature store's tables copied into a DuckDB file

The command line sits above every layer: `run` drives the Dagster code location
(mir_assets), `snapshot` the feature store (store); every other command uses only the
`mir` library and imports no Dagster (tests/test_layers.py checks each). `run` reads its
configuration first and exports `MIR_CONFIG`, so that the code location it builds (and
every worker process) reads the same file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from mir.config import load_config
from mir.progress import Progress, fmt_s


def cmd_run(args: argparse.Namespace) -> int:
    from mir.config import config_path

    # one configuration for the whole command: the file given, exported so that the code
    # location (and every worker process) builds from the same one
    path = config_path(args.config).resolve()
    os.environ["MIR_CONFIG"] = str(path)
    cfg = load_config(path)
    from mir_assets.run_command import run_pipeline

    return run_pipeline(args, cfg)


def cmd_make_demo(args: argparse.Namespace) -> int:
    from mir.demo import DEMO_SONGS, write_demo

    out = Path(args.out) if args.out else load_config(args.config).paths.inbox
    for path, truth in write_demo(out).items():
        print(f"  {path}  ({truth['bpm']:.0f} BPM, {truth['meter']}, {truth['key']})")
    print(f"demo library: {len(DEMO_SONGS)} songs in {out}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from mir.analysis import analysis_families, analyze_track
    from mir.audio import load_audio
    from mir.errors import MirError
    from mir.feature_table import FEATURES
    from mir.info import info_path, safe_update
    from mir.stems import find_stems
    from mir.tracks import track_name

    cfg = load_config(args.config)
    try:
        audio = load_audio(args.file)
        stems = {}
        if args.stems:
            stems = {name: load_audio(path) for name, path in find_stems(args.stems).items()}
        track_dir = Path(args.out) / track_name(args.file) if args.out else None
        if track_dir is not None:
            track_dir.mkdir(parents=True, exist_ok=True)
        bar = None
        if audio.duration_s > 60 or not args.json:  # a short file with --json: no bar
            bar = Progress(len(analysis_families()), unit="family", desc=Path(args.file).name)
        begun: list[str] = []

        def progress(name: str) -> None:
            if begun:
                bar.done()
            begun.append(name)
            bar.update("computing", name)

        result = analyze_track(
            audio, cfg, stems=stems, out_dir=track_dir, progress=progress if bar else None
        )
        if bar:
            bar.done()
            bar.finish()
    except MirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    values = {
        "duration_s": round(audio.duration_s, 6),
        "sample_rate": audio.sr,
        "channels": audio.channels,
    }
    values.update(result.values)
    if track_dir is not None:
        safe_update(info_path(track_dir), values)
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
    for name, why in result.skipped.items():
        print(f"  ({name} not run: {why})")
    timings = ", ".join(
        f"{k} {v:.2f} s" for k, v in sorted(result.seconds.items(), key=lambda kv: -kv[1])
    )
    print(f"time: {timings}")
    return 0


def cmd_caption(args: argparse.Namespace) -> int:
    import time

    from mir.captions.flamingo import CaptionError, load_captioner
    from mir.captions.prompts import fill_prompt, prompts_of
    from mir.captions.template import template_caption
    from mir.errors import MirError
    from mir.info import read_info

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
    cfg = load_config(args.config)  # exports its ROCm environment before torch is imported

    from mir.audio import load_audio
    from mir.errors import MirError
    from mir.gpu import choose_device
    from mir.separation import model_loader, separate
    from mir.separation.files import write_separation
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
    bar = Progress(len(files), unit="file", desc="mir separate")
    for path in files:
        out_dir = (
            Path(args.out) / track_name(path)
            if args.out
            else (path.parent if path.stem == "full_mix" else path.parent / track_name(path))
        )
        bar.update("separating", path.name)
        t0 = time.monotonic()
        try:
            audio = load_audio(path)
            result = separate(model, audio.samples, audio.sr, sep, device=device)
            mix = audio.samples if audio.sr == result.sr else None
            write_separation(result, out_dir, path, sep, mix=mix)
        except MirError as exc:
            failed += 1
            bar.write(f"{path.name}: error: {exc}", err=True)
        else:
            took = time.monotonic() - t0
            bar.write(f"{path.name} -> {out_dir} ({audio.duration_s / took:.1f}x realtime)")
        bar.done()
    bar.finish()
    return 1 if failed else 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from store import open_tables

    tables = open_tables(load_config(args.config))
    target = Path(args.file).resolve()
    print(f"feature store:  {tables.location}")
    started = time.perf_counter()
    copied = tables.snapshot(target)
    print(f"{len(copied)} tables copied to {target} in {fmt_s(time.perf_counter() - started)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mir", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the whole pipeline over the inbox, in-process")
    p.add_argument("--config", help="master_pipeline.yaml to use (default: $MIR_CONFIG or config/)")
    p.add_argument("--force", action="store_true", help="recompute assets already materialized")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the configuration's folders and environment and the inbox's files; run nothing",
    )
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
    p = sub.add_parser(
        "snapshot", help="copy the feature store's tables into a DuckDB file (any backend)"
    )
    p.add_argument("file", help="the DuckDB file to write (replaced when the copy is complete)")
    p.add_argument("--config")
    p.set_defaults(func=cmd_snapshot)
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
