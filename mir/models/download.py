"""Getting model files: downloads to `<file>.part` beside the target, resumed with an HTTP
Range request, moved into place only once their checksum is verified, so a wrong or
cut-off download never lands where a loader would read it."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from mir.config import MasterConfig
from mir.errors import MirError
from mir.models.checksums import CHUNK, UNKNOWN, WRONG, cache_for, check_file
from mir.models.manifest import ModelEntry, ModelFile, folder, shown, target

USER_AGENT = "mir-platform/0.1 (mir models fetch)"


class DownloadError(MirError):
    """A download that failed, was cut off, or did not match its checksum."""


def rebase(url: str, base: str | None) -> str:
    """`url` with its scheme and host replaced by `base` (a mirror).

    The manifest URL's path (and query) is kept and appended to `base`, whose own path,
    if any, is a prefix: with base `http://mirror:8000/models`,
    `https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th` becomes
    `http://mirror:8000/models/demucs/hybrid_transformer/955717e8-8726e21a.th`.
    """
    if not base:
        return url
    parts = urlsplit(url)
    rebased = base.rstrip("/") + parts.path
    return f"{rebased}?{parts.query}" if parts.query else rebased


def _content_range(resp) -> tuple[int | None, int | None]:
    """(first byte, total length) of a 206 answer's Content-Range."""
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", resp.headers.get("Content-Range") or "")
    if not match:
        return None, None
    total = None if match.group(2) == "*" else int(match.group(2))
    return int(match.group(1)), total


def _hash_file(path: Path) -> Any:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    sha256_prefix: str | None = None,
    size: int | None = None,
    progress: bool = True,
    timeout_s: float = 60.0,
) -> str:
    """Download `url` to `dest` through `<dest>.part`, resuming a partial one.

    A `.part` left by an earlier attempt is continued with a `Range` request; a server
    that ignores it (answers 200) is read from the start again. The file is moved to
    `dest` only after its size and checksum match.

    Parameters
    ----------
    sha256, sha256_prefix : str, optional
        The full sha256, or the first hex digits of it, the file must have.
    size : int, optional
        Its length in bytes, when known.
    progress : bool
        Show a progress bar (tqdm, on stderr, when it is a terminal).
    timeout_s : float
        Seconds a connection may stay silent.

    Returns
    -------
    str
        The sha256 of the file now at `dest`.

    Raises
    ------
    DownloadError
        An HTTP error, a connection cut off (the `.part` stays, to resume), or a
        checksum or size mismatch (the `.part` is removed; nothing is placed at `dest`).
    """
    from tqdm import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if size is not None and part.is_file() and part.stat().st_size > size:
        part.unlink()  # longer than the file can be: not a prefix of it
    digest = None
    for _attempt in range(2):
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"User-Agent": USER_AGENT}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            resp = urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=timeout_s
            )
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:  # nothing left to send: the .part may be whole
                digest = _hash_file(part)
                if _mismatch(part, digest.hexdigest(), sha256, sha256_prefix, size) is None:
                    break
                part.unlink()  # not this file: start over
                continue
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(f"{url}: cannot connect: {reason}") from None
        with resp:
            length = resp.headers.get("Content-Length")
            length = int(length) if length and length.isdigit() else None
            start, total = _content_range(resp) if resp.status == 206 else (None, None)
            if resp.status == 206 and (not offset or start != offset):
                part.unlink(missing_ok=True)  # a range we did not ask for: start over
                continue
            if offset and resp.status == 206:
                mode, digest = "ab", _hash_file(part)
                total = total if total is not None else (offset + length if length else None)
            else:  # no Range asked, or the server ignored it: from the first byte
                offset, mode, digest, total = 0, "wb", hashlib.sha256(), length
            written = offset
            bar = tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                file=sys.stderr,
                disable=None if progress else True,
            )
            try:
                with part.open(mode) as fh:
                    while chunk := resp.read(CHUNK):
                        fh.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as exc:
                raise DownloadError(
                    f"{url}: the download broke off after {written} bytes ({exc}); "
                    f"{part} is kept: run the same command again to resume"
                ) from None
            finally:
                bar.close()
        if total is not None and written < total:
            raise DownloadError(
                f"{url}: the download broke off after {written} of {total} bytes; "
                f"{part} is kept: run the same command again to resume"
            )
        break
    else:
        raise DownloadError(f"{url}: the server answered no usable range for {part}")
    actual = digest.hexdigest()
    problem = _mismatch(part, actual, sha256, sha256_prefix, size)
    if problem is not None:
        part.unlink()
        raise DownloadError(
            f"{url}: {problem}; the download was removed and nothing was placed at {dest}"
        )
    os.replace(part, dest)
    return actual


def _mismatch(
    path: Path, actual: str, sha256: str | None, prefix: str | None, size: int | None
) -> str | None:
    if sha256 and actual != sha256:
        return f"wrong checksum: expected sha256 {sha256}, got {actual}"
    if prefix and not actual.startswith(prefix):
        return f"wrong checksum: expected a sha256 starting {prefix}, got {actual}"
    found = path.stat().st_size
    if size is not None and found != size:
        return f"wrong size: expected {size} bytes, got {found} (sha256 {actual})"
    return None


def _instructions(entry: ModelEntry, file: ModelFile | None, cfg: MasterConfig) -> str:
    text = (file.instructions if file and file.instructions else entry.instructions) or ""
    file = file or entry.files[0]
    return text.format(
        folder=folder(entry, cfg), target=target(entry, file, cfg), source=file.url or ""
    ).rstrip()


def fetch_models(
    entries: Sequence[ModelEntry],
    cfg: MasterConfig,
    *,
    source_base: str | None = None,
    accept_licence: bool = False,
    progress: bool = True,
    out: TextIO | None = None,
) -> int:
    """Put every file of `entries` in place: download, verify, move, write the extra files.

    A file already present with the right checksum is kept. Models that cannot be fetched
    print what to do instead; those behind a licence are fetched only with
    `accept_licence`.

    Returns
    -------
    int
        0 when every file of every entry is in place afterwards, else 1.
    """
    out = out or sys.stdout
    cache = cache_for(cfg)
    failed: list[str] = []
    for entry in entries:
        if (
            entry.licence_acceptance_required
            and not accept_licence
            and any(
                f.fetchable and entry.fetchable and not target(entry, f, cfg).is_file()
                for f in entry.files
            )
        ):
            print(
                f"{entry.name}: not fetched: its licence must be accepted first: "
                f"{entry.licence} - {entry.licence_url}\n"
                f"  read it, then run again with --accept-licence",
                file=out,
            )
            failed.append(entry.name)
            continue
        if entry.licence_acceptance_required and accept_licence:
            print(
                f"{entry.name}: licence accepted: {entry.licence} - {entry.licence_url}", file=out
            )
        ok = True
        for file in entry.files:
            path = target(entry, file, cfg)
            if path.is_file():
                state, detail = check_file(path, file, cache.sha256(path))
                if state != WRONG:
                    print(f"{entry.name}: {shown(path)} already in place ({state})", file=out)
                    continue
                print(
                    f"{entry.name}: {shown(path)} is wrong ({detail}); fetching it again", file=out
                )
            if not (file.fetchable and entry.fetchable):
                print(
                    f"{entry.name}: {shown(path)} cannot be fetched by mir; do this instead:\n"
                    + _indent(_instructions(entry, file, cfg)),
                    file=out,
                )
                ok = False
                continue
            url = rebase(file.url or "", source_base)
            print(f"{entry.name}: downloading {url}\n  -> {shown(path)}", file=out, flush=True)
            try:
                actual = download(
                    url,
                    path,
                    sha256=file.sha256,
                    sha256_prefix=file.sha256_prefix,
                    size=file.size,
                    progress=progress,
                )
            except DownloadError as exc:
                print(f"{entry.name}: error: {exc}", file=out)
                ok = False
                continue
            cache.record(path, actual)
            state, _ = check_file(path, file, actual)
            note = f" (sha256 {actual}: not in the manifest yet)" if state == UNKNOWN else ""
            print(f"{entry.name}: {shown(path)} in place, {state}{note}", file=out)
        if ok:
            for name, content in entry.write.items():
                path = folder(entry, cfg) / name
                if not path.is_file():
                    path.write_text(content)
                    print(f"{entry.name}: wrote {shown(path)}", file=out)
        if not ok:
            failed.append(entry.name)
    cache.save()
    if failed:
        print(f"\nnot in place: {', '.join(failed)} (see above)", file=out)
        return 1
    print(f"\nin place: {', '.join(e.name for e in entries)}", file=out)
    return 0


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
