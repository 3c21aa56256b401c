"""`mir models list | fetch | verify`: the command line over the manifest."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mir.config import MasterConfig, load_config
from mir.errors import MirError
from mir.models.checksums import WRONG, cache_for, file_statuses
from mir.models.download import fetch_models
from mir.models.manifest import (
    MANIFEST_ENV,
    ModelEntry,
    ModelFile,
    enabled,
    is_selected,
    load_manifest,
    manifest_path,
    selected_for,
    shown,
    unlisted_selections,
)
from mir.models.verify import verify_models


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def _selector(entry: ModelEntry) -> str:
    """The config key that selects the entry, with its value unless that is a file name
    (the FILE column shows it)."""
    value = entry.when.get(entry.config_key)
    if value is None or (isinstance(value, str) and "." in value):
        return entry.config_key
    shown = "|".join(map(str, value)) if isinstance(value, list) else value
    return f"{entry.config_key}={shown}"


def _fetch_mode(entry: ModelEntry, file: ModelFile | None) -> str:
    if file is None:
        return "written"
    if not (file.fetchable and entry.fetchable):
        return "manual"
    return "licence" if entry.licence_acceptance_required else "yes"


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def list_models(
    entries: Sequence[ModelEntry],
    cfg: MasterConfig,
    *,
    manifest: Path | None = None,
    out: TextIO | None = None,
) -> int:
    """Print every model file the configuration can select, where it must lie, and its state.

    Returns
    -------
    int
        1 when an enabled asset's selected model is missing or wrong, else 0.
    """
    out = out or sys.stdout
    cache = cache_for(cfg)
    statuses = file_statuses(entries, cfg, cache)
    cache.save()
    rows = [["MODEL", "ASSET", "SELECTED BY", "FILE", "STATE", "SIZE", "CHECKSUM", "FETCH"]]
    problems: dict[str, list[str]] = {}
    for s in statuses:
        chosen = is_selected(s.entry, cfg)
        mark = "*" if chosen else " "
        on = any(enabled(cfg, a) for a in s.entry.assets)
        if s.present:
            state = "present"
        elif not chosen:
            state = "missing"
        elif not s.entry.required:
            state = "missing (optional)"
        else:  # upper case: `list` exits 1 for it
            state = "MISSING" if on else "missing"
        size = _size(s.size)
        if not s.present and s.file is not None:
            size = _size(s.file.size) or s.file.approx_size or ""
        rows.append(
            [
                f"{mark} {s.entry.name}",
                ",".join(s.entry.assets) + ("" if on else " (off)"),
                _selector(s.entry),
                shown(s.path),
                state,
                size,
                s.checksum,
                _fetch_mode(s.entry, s.file),
            ]
        )
        if chosen and s.entry.required and (not s.present or s.checksum == WRONG):
            for asset in s.entry.assets:
                if enabled(cfg, asset):
                    why = "missing" if not s.present else f"wrong ({s.detail})"
                    problems.setdefault(asset, []).append(f"{shown(s.path)} {why}")
    for u in unlisted_selections(entries, cfg):
        rows.append(
            [
                f"* {u.value}",
                u.asset,
                u.config_key,
                shown(u.path),
                "present" if u.present else "MISSING",
                "",
                "not in manifest",
                "-",
            ]
        )
        if not u.present and enabled(cfg, u.asset):
            problems.setdefault(u.asset, []).append(
                f"{shown(u.path)} missing (not in the manifest: place it yourself)"
            )
    print(f"manifest: {shown(manifest or manifest_path())}", file=out)
    print(f"config:   {shown(cfg.source) if cfg.source else '(defaults)'}", file=out)
    print(file=out)
    _table(rows, out)
    print(
        "\n* = selected by this configuration.  CHECKSUM: verified (full sha256), prefix verified "
        "(Demucs's 8-digit prefix),\nunknown (no sha256 in the manifest), WRONG.  FETCH: yes, "
        "licence (needs --accept-licence), manual (see `mir models fetch NAME`).",
        file=out,
    )
    wrong = [s for s in statuses if s.present and s.checksum == WRONG]
    for s in wrong:
        print(f"\nWRONG {shown(s.path)}: {s.detail}", file=out)
    if problems:
        print("\nenabled assets whose selected model is not in place:", file=out)
        for asset, what in problems.items():
            print(f"  {asset} (fetch it: mir models fetch --for {asset})", file=out)
            for line in what:
                print(f"    {line}", file=out)
        return 1
    print("\nevery enabled asset's selected model is in place", file=out)
    return 0


def _choose(
    entries: Sequence[ModelEntry], cfg: MasterConfig, args: argparse.Namespace, out: TextIO
) -> tuple[list[ModelEntry], bool] | None:
    """The entries `fetch` was asked for, and whether an asked-for asset's model is outside
    the manifest and missing; None for a name or asset that does not exist."""
    by_name = {e.name: e for e in entries}
    unplaced = False
    chosen: list[ModelEntry] = list(entries) if args.all else []
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        print(
            f"error: unknown model(s) {', '.join(unknown)}; the manifest has: "
            + ", ".join(by_name),
            file=sys.stderr,
        )
        return None
    chosen += [by_name[n] for n in args.names]
    for asset in args.for_assets or []:
        with_models = sorted({a for e in entries for a in e.assets})
        if asset not in with_models:
            print(
                f"error: no model of the manifest is for {asset!r} (an asset that needs none, "
                f"or not an asset); the assets with models: {', '.join(with_models)}",
                file=sys.stderr,
            )
            return None
        mine = selected_for(entries, cfg, asset)
        if not mine:
            extra = [u for u in unlisted_selections(entries, cfg) if u.asset == asset]
            if extra:
                for u in extra:
                    unplaced = unplaced or not u.present
                    print(
                        f"{asset}: {u.config_key} = {u.value} is not in the manifest: "
                        f"place it yourself at {shown(u.path)}",
                        file=out,
                    )
            else:
                print(f"{asset}: needs no model file as configured", file=out)
        chosen += mine
    unique: list[ModelEntry] = []
    for e in chosen:
        if e not in unique:
            unique.append(e)
    return unique, unplaced


def cmd_models(args: argparse.Namespace) -> int:
    """`mir models list | fetch | verify`."""
    try:
        cfg = load_config(args.config)
        entries = load_manifest(args.manifest)
    except MirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        return list_models(entries, cfg, manifest=manifest_path(args.manifest))
    if args.action == "verify":
        return verify_models(entries, cfg, checksums=not args.no_checksums)
    if not (args.names or args.all or args.for_assets):
        print("error: name models, or give --all or --for ASSET", file=sys.stderr)
        return 2
    asked = _choose(entries, cfg, args, sys.stdout)
    if asked is None:
        return 2
    chosen, unplaced = asked
    if not chosen:
        return 1 if unplaced else 0
    rc = fetch_models(chosen, cfg, source_base=args.source_base, accept_licence=args.accept_licence)
    return 1 if unplaced else rc


def add_models_parser(sub: argparse._SubParsersAction) -> None:
    """Register `mir models` and its actions on the CLI's subparsers."""
    p = sub.add_parser(
        "models",
        help="list, fetch and verify the model files (models/manifest.yaml)",
        description="The model files the configuration selects: where each must lie, "
        "whether it is there and verified, and fetching it from its published source.",
    )
    actions = p.add_subparsers(dest="action", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--config", help="master_pipeline.yaml (default: $MIR_CONFIG or config/)")
        q.add_argument(
            "--manifest",
            help=f"model manifest (default: ${MANIFEST_ENV} or models/manifest.yaml)",
        )
        q.set_defaults(func=cmd_models)

    q = actions.add_parser(
        "list", help="every model the config can select, where it lies, its state"
    )
    common(q)
    q = actions.add_parser("fetch", help="download models from their published source")
    q.add_argument("names", nargs="*", metavar="NAME", help="model names (see `mir models list`)")
    q.add_argument("--all", action="store_true", help="every model of the manifest")
    q.add_argument(
        "--for",
        dest="for_assets",
        action="append",
        metavar="ASSET",
        help="the models the configuration selects for ASSET (repeatable)",
    )
    q.add_argument(
        "--source-base",
        metavar="URL",
        help="download from a mirror: each manifest URL's scheme and host are replaced by "
        "URL, its path kept (URL's own path is a prefix)",
    )
    q.add_argument(
        "--accept-licence",
        action="store_true",
        help="accept the licence of models that require it (Music Flamingo)",
    )
    common(q)
    q = actions.add_parser(
        "verify",
        help="re-hash every present model file and read its signature (inputs and outputs, "
        "GGUF metadata, checkpoint keys)",
    )
    q.add_argument(
        "--no-checksums",
        action="store_true",
        help="read the signatures only (seconds, whatever the files' size)",
    )
    common(q)
