"""`mir models verify`: every placed file hashed again and its signature read.

The checksum says whether a file is the one the manifest names; the signature says whether
its loader can use it (ONNX inputs and outputs, GGUF architecture, vocabulary, chat
template and projector, a checkpoint's keys and configuration), so a wrong file is named
before any run starts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mir.config import MasterConfig
from mir.models.checksums import UNKNOWN, WRONG, cache_for, check_file
from mir.models.manifest import ModelEntry, shown, target, unlisted_selections
from mir.signatures import signature_problems

#: what `verify` prints for a file whose signature fits, or does not
SIGNATURE_OK, SIGNATURE_WRONG = "signature ok", "SIGNATURE WRONG"


def _signature_lines(check: str | None, path: Path) -> tuple[list[str], bool]:
    """(lines to print, wrong?) for the signature of `path` under `check`."""
    if check is None:
        return [], False
    t0 = time.perf_counter()
    problems = signature_problems(check, path)
    took = f"{time.perf_counter() - t0:.2f} s"
    if not problems:
        return [f"{SIGNATURE_OK} ({check}, {took})"], False
    return [f"{SIGNATURE_WRONG} ({check}): {p}" for p in problems], True


def verify_models(
    entries: Sequence[ModelEntry],
    cfg: MasterConfig,
    *,
    checksums: bool = True,
    out: TextIO | None = None,
) -> int:
    """Check every present model file: its sha256 against the manifest, and its signature
    against what its loader reads; configured models outside the manifest get the
    signature check alone.

    Parameters
    ----------
    checksums : bool
        Hash every file again (False: signatures only, which take seconds for any size).

    Returns
    -------
    int
        1 when a checksum or a signature does not match, else 0.
    """
    out = out or sys.stdout
    cache = cache_for(cfg)
    checked = wrong_sums = wrong_signatures = 0
    indent = " " * 17
    for entry in entries:
        for file in entry.files:
            path = target(entry, file, cfg)
            if not path.is_file():
                continue
            checked += 1
            lines = []
            if checksums:
                actual = cache.sha256(path, fresh=True)
                state, detail = check_file(path, file, actual)
                wrong_sums += state == WRONG
                if state == UNKNOWN:
                    lines.append(f"sha256 {actual} (record it in the manifest)")
                elif state == WRONG:
                    lines.append(detail)
            else:
                state = "-"
            found, bad = _signature_lines(file.signature, path)
            wrong_signatures += bad
            print(f"{state:<16} {entry.name:<26} {shown(path)}", file=out)
            for line in lines + found:
                print(f"{indent}{line}", file=out)
    for extra in unlisted_selections(entries, cfg):
        if not extra.present:
            continue
        checked += 1
        found, bad = _signature_lines(extra.signature, extra.path)
        wrong_signatures += bad
        print(f"{'not in manifest':<16} {extra.value:<26} {shown(extra.path)}", file=out)
        for line in found:
            print(f"{indent}{line}", file=out)
    cache.save()
    sums = f"{wrong_sums} wrong" if checksums else "checksums not computed"
    print(
        f"\n{checked} file(s) present and checked, {sums}, "
        f"{wrong_signatures} with a wrong signature",
        file=out,
    )
    return 1 if wrong_sums or wrong_signatures else 0
