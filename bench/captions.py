"""The captioning comparison: Music Flamingo alone, with a genre hint, revised by a text LLM,
and an ensemble of two captioners merged by the LLM, side by side with timings.

Runs whichever models are present and says which are not:

- Music Flamingo through `music_flamingo.backend` (cli, llama_cpp or transformers) of the
  config, with the GGUF chosen by `--model`;
- every text model given with `--llm FILE[:chat_format]` (chat format guessed from the file
  name when left out: qwen -> chatml, granite -> granite, gpt-oss -> harmony);
- the template captioner (no model) is always there: the second voice of the ensemble
  when no second audio captioner is configured, and the baseline of the report.

    python bench/captions.py [FILES...] [--llm models/llm/granite-4.0-h-tiny-Q8_0.gguf]
        [--model Q6_K] [--out bench/results/captions.md]

Values for `{genres}` and the template come from the track's `.INFO` when one lies beside
the file, else from a model-free analysis of the file. Prints each phase's time and the
ratio of each phase to the Flamingo baseline (or to the template when Flamingo is absent).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mir.captions.flamingo import load_captioner  # noqa: E402
from mir.captions.llm import TextModel  # noqa: E402
from mir.captions.prompts import genres_text  # noqa: E402
from mir.captions.template import template_caption  # noqa: E402
from mir.captions.text import normalize_caption  # noqa: E402
from mir.config import load_config  # noqa: E402
from mir.errors import ModelNotFound  # noqa: E402
from mir.info import read_info  # noqa: E402

DEV_CLIPS = ROOT.parent / "shared" / "data" / "dev-clips"
DEFAULT_FILES = ["gtzan_country.00000.flac", "ballroom_waltz_Media-105901.flac"]

BASELINE_PROMPT = "Describe this music clip in 30 to 50 words: genre, tempo, instruments and mood."
HINT_PROMPT = BASELINE_PROMPT + " Genre hints: {genres}"
REWRITE_SYSTEM = (
    "You rewrite captions of 10-second music clips. Use the given correct genres, keep the "
    "caption between 30 and 50 words, and output only the caption."
)
MERGE_SYSTEM = (
    "You merge two captions of the same 10-second music clip into one caption of 30 to 60 "
    "words. Prioritise the known genre and never invent instruments. Output only the caption."
)


def guess_format(path: str) -> str:
    name = Path(path).name.lower()
    if "gpt-oss" in name or "gpt_oss" in name:
        return "harmony"
    if "granite" in name:
        return "granite"
    return "chatml"


def values_for(path: Path, cfg) -> dict:
    beside = sorted(path.parent.glob("*.INFO"))
    if len(beside) == 1:
        return read_info(beside[0])
    from mir.analysis import analyze_track
    from mir.audio import load_audio

    return analyze_track(load_audio(path), cfg).values


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("files", nargs="*", help=f"audio files (default: 2 clips of {DEV_CLIPS})")
    ap.add_argument("--config")
    ap.add_argument("--model", help="Music Flamingo GGUF quantisation (IQ3_M, Q6_K, Q8_0)")
    ap.add_argument("--llm", action="append", default=[], help="text GGUF[:chat_format]")
    ap.add_argument("--max-tokens", type=int, default=200)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "captions.md"))
    args = ap.parse_args(argv)

    cfg = load_config(args.config)
    mf = cfg.music_flamingo
    if args.model:
        mf = mf.model_copy(update={"model": args.model})
    files = [Path(f) for f in args.files] or [DEV_CLIPS / f for f in DEFAULT_FILES]
    absent: list[str] = []

    flamingo = None
    if mf.backend == "template":
        absent.append("Music Flamingo: music_flamingo.backend is `template`")
    else:
        try:
            flamingo, load_s = timed(load_captioner, mf)
            print(f"Music Flamingo ({mf.backend}, {flamingo.tag}) loaded in {load_s:.1f} s")
        except (ModelNotFound, Exception) as exc:  # any failure: report and go on
            absent.append(f"Music Flamingo: {exc}")
    llms: list[tuple[str, TextModel]] = []
    for spec in args.llm:
        path, _, fmt = spec.partition(":")
        fmt = fmt or guess_format(path)
        try:
            model, load_s = timed(TextModel, Path(path), config_key="--llm", chat_format=fmt)
            llms.append((f"{Path(path).stem} ({fmt})", model))
            print(f"text model {Path(path).name} ({fmt}) loaded in {load_s:.1f} s")
        except ModelNotFound as exc:
            absent.append(f"text model: {exc}")
    if not args.llm:
        absent.append("text model: none given (--llm FILE)")

    rows: list[dict] = []
    for path in files:
        values, analysis_s = timed(values_for, path, cfg)
        genres = genres_text(values)

        def phase(name, model, text, s, file=path.name):
            rows.append(
                {"file": file, "phase": name, "model": model, "seconds": s, "caption": text}
            )

        template, s = timed(template_caption, values)
        phase("template (no model)", "-", template, s)
        captions = {"template": template}
        if flamingo is not None:
            text, s = timed(flamingo.caption, path, BASELINE_PROMPT, args.max_tokens)
            phase("1 Flamingo alone", flamingo.tag, text, s)
            captions["flamingo"] = text
            text, s = timed(
                flamingo.caption, path, HINT_PROMPT.replace("{genres}", genres), args.max_tokens
            )
            phase("2 Flamingo + genre hint", flamingo.tag, text, s)
            captions["flamingo_hint"] = text
        for name, llm in llms:
            base = captions.get("flamingo", template)
            text, s = timed(
                llm.complete,
                REWRITE_SYSTEM,
                f"Correct genres: {genres}\nCaption: {base}",
                max_tokens=args.max_tokens,
            )
            phase("3 revised by LLM", name, normalize_caption(text), s)
            second = captions.get("flamingo_hint", template)
            text, s = timed(
                llm.complete,
                MERGE_SYSTEM,
                f"Known genres: {genres}\nCaption A: {base}\nCaption B: {second}",
                max_tokens=args.max_tokens,
            )
            phase("4 ensemble merged by LLM", name, normalize_caption(text), s)
        print(
            f"{path.name}: analysis {analysis_s:.1f} s, {sum(1 for r in rows if r['file'] == path.name)} captions"
        )

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Captioning comparison", ""]
    if absent:
        lines += ["Not run (missing):", ""] + [f"- {a}" for a in absent] + [""]
    lines += ["| file | phase | model | seconds | caption |", "|---|---|---|---|---|"]
    for r in rows:
        caption = r["caption"].replace("|", "/").replace("\n", " ")
        lines.append(
            f"| {r['file']} | {r['phase']} | {r['model']} | {r['seconds']:.2f} | {caption} |"
        )
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps({"absent": absent, "rows": rows}, indent=1))

    print()
    print(f"{'phase':<28} {'model':<32} {'mean s':>8} {'ratio':>7}")
    phases: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        phases.setdefault((r["phase"], r["model"]), []).append(r["seconds"])
    means = {k: sum(v) / len(v) for k, v in phases.items()}
    ref_key = next((k for k in means if k[0].startswith("1 ")), None) or next(iter(means))
    for (name, model), mean in means.items():
        ratio = mean / means[ref_key] if means[ref_key] > 0 else float("nan")
        print(f"{name:<28} {model:<32} {mean:8.3f} {ratio:7.2f}")
    print(f"(ratio: mean time / {ref_key[0]})")
    for a in absent:
        print(f"not run: {a}")
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
