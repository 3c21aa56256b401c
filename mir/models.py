"""Model files: what the configuration selects, where each file must lie, and getting it.

One manifest (`models/manifest.yaml`) names every model the configuration can select: the
assets that need it, the config key that selects it, the folder it goes in (a config key,
so the configuration decides where), its published URL, sha256 (or null where unknown),
licence, and whether we can fetch it at all. `mir models list | fetch | verify` read it.

Downloads go to `<file>.part` beside the target, resume with an HTTP Range request, and
are moved into place only once their checksum is verified: a wrong or cut-off download
never lands where a loader would read it.

Nothing here imports Dagster or a model stack.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import yaml

from mir.config import PROJECT_ROOT, MasterConfig, load_config
from mir.errors import MirError

#: the manifest in the repository; `--manifest FILE` or $MIR_MODELS_MANIFEST replace it
MANIFEST = PROJECT_ROOT / "models" / "manifest.yaml"
MANIFEST_ENV = "MIR_MODELS_MANIFEST"
#: checksums already computed, by path, size and mtime (under `paths.models`)
CHECKSUM_CACHE = ".sha256-cache.json"
USER_AGENT = "mir-platform/0.1 (mir models fetch)"
CHUNK = 1 << 20


class ManifestError(MirError):
    """A manifest that cannot be read, or a name in it that does not exist."""


class DownloadError(MirError):
    """A download that failed, was cut off, or did not match its checksum."""


@dataclass(frozen=True)
class ModelFile:
    """One file of a model, as the manifest describes it."""

    path: str
    url: str | None = None
    sha256: str | None = None
    sha256_prefix: str | None = None
    #: bytes; checked when known
    size: int | None = None
    approx_size: str | None = None
    #: config key whose value renames the file (`aesthetics.checkpoint`)
    name_key: str | None = None
    fetchable: bool = True
    instructions: str | None = None


@dataclass(frozen=True)
class ModelEntry:
    """One model of the manifest: its files and how the configuration selects it."""

    name: str
    assets: tuple[str, ...]
    config_key: str
    files: tuple[ModelFile, ...]
    description: str = ""
    folder: str | None = None
    folder_of: str | None = None
    when: dict[str, Any] = field(default_factory=dict)
    required: bool = True
    licence: str = ""
    licence_url: str | None = None
    licence_acceptance_required: bool = False
    fetchable: bool = True
    instructions: str | None = None
    #: small files a loader needs beside the download: {file name: content}
    write: dict[str, str] = field(default_factory=dict)


# -- the manifest ---------------------------------------------------------------------


def manifest_path(path: str | os.PathLike | None = None) -> Path:
    """The manifest to read: `path`, else $MIR_MODELS_MANIFEST, else `models/manifest.yaml`."""
    if path:
        return Path(path)
    return Path(os.environ.get(MANIFEST_ENV) or MANIFEST)


_ENTRY_KEYS = set(ModelEntry.__dataclass_fields__)
_FILE_KEYS = set(ModelFile.__dataclass_fields__)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PREFIX = re.compile(r"[0-9a-f]{4,63}")


def load_manifest(path: str | os.PathLike | None = None) -> list[ModelEntry]:
    """Read and check the manifest.

    Parameters
    ----------
    path : path-like, optional
        Defaults to $MIR_MODELS_MANIFEST, then `models/manifest.yaml`.

    Raises
    ------
    ManifestError
        For a missing file, an unknown key, a malformed sha256 or a duplicate name.
    """
    path = manifest_path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ManifestError(f"model manifest not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML: {exc}") from None
    entries: list[ModelEntry] = []
    for item in raw.get("models") or []:
        name = item.get("name", "?")
        unknown = set(item) - _ENTRY_KEYS
        if unknown:
            raise ManifestError(f"{path}: model {name}: unknown key(s) {sorted(unknown)}")
        files = []
        for f in item.get("files") or []:
            bad = set(f) - _FILE_KEYS
            if bad:
                raise ManifestError(f"{path}: model {name}: unknown file key(s) {sorted(bad)}")
            for key, pattern in (("sha256", _SHA256), ("sha256_prefix", _PREFIX)):
                value = f.get(key)
                if value is not None and not pattern.fullmatch(str(value)):
                    raise ManifestError(f"{path}: model {name}: {key} {value!r} is not hex")
            files.append(ModelFile(**f))
        if (item.get("folder") is None) == (item.get("folder_of") is None):
            raise ManifestError(f"{path}: model {name}: give one of `folder`, `folder_of`")
        entry = ModelEntry(
            **{
                **item,
                "assets": tuple(item.get("assets") or ()),
                "files": tuple(files),
                "when": dict(item.get("when") or {}),
                "write": dict(item.get("write") or {}),
            }
        )
        if any(e.name == entry.name for e in entries):
            raise ManifestError(f"{path}: model {entry.name} is listed twice")
        entries.append(entry)
    return entries


# -- where the configuration puts each file ---------------------------------------------------


def config_value(cfg: MasterConfig, key: str) -> Any:
    """The value of a dotted config key (`separation.demucs.repo`)."""
    value: Any = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


def folder(entry: ModelEntry, cfg: MasterConfig) -> Path:
    """The folder the entry's files go in, from the configuration."""
    if entry.folder_of:
        return Path(config_value(cfg, entry.folder_of)).parent
    return Path(config_value(cfg, entry.folder))


def target(entry: ModelEntry, file: ModelFile, cfg: MasterConfig) -> Path:
    """Where `file` must lie under the configuration."""
    name = str(config_value(cfg, file.name_key)) if file.name_key else file.path
    return folder(entry, cfg) / name


def _matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return any(_matches(value, w) for w in wanted)
    if isinstance(value, Path) and isinstance(wanted, str) and "/" not in wanted:
        return value.name == wanted
    return value == wanted


def is_selected(entry: ModelEntry, cfg: MasterConfig) -> bool:
    """True when the configuration selects this model (every `when` key matches)."""
    return all(_matches(config_value(cfg, k), v) for k, v in entry.when.items())


def selected_for(entries: Iterable[ModelEntry], cfg: MasterConfig, asset: str) -> list[ModelEntry]:
    """The required models the configuration selects for `asset`."""
    return [e for e in entries if asset in e.assets and e.required and is_selected(e, cfg)]


def enabled(cfg: MasterConfig, asset: str) -> bool:
    """The asset's `features:` switch."""
    return cfg.features.enabled(asset)


@dataclass(frozen=True)
class Unlisted:
    """A model the configuration selects that the manifest does not know."""

    asset: str
    config_key: str
    value: str
    path: Path
    present: bool


def unlisted_selections(entries: Sequence[ModelEntry], cfg: MasterConfig) -> list[Unlisted]:
    """Configured models outside the manifest (a Demucs model of your own, another GGUF):
    `list` shows them and checks only that they are there."""
    found = []
    sep = cfg.separation
    if not selected_for(entries, cfg, "stems"):
        if sep.backend == "demucs":
            from mir.separation.demucs import demucs_model_available

            path = sep.demucs.repo / f"{sep.demucs.model}.yaml"
            present = demucs_model_available(sep.demucs.model, sep.demucs.repo)
            found.append(
                Unlisted("stems", "separation.demucs.model", sep.demucs.model, path, present)
            )
        else:
            path = sep.bs_roformer.model_dir / sep.bs_roformer.model_file
            found.append(
                Unlisted(
                    "stems",
                    "separation.bs_roformer.model_file",
                    sep.bs_roformer.model_file,
                    path,
                    path.is_file(),
                )
            )
    rev = cfg.music_flamingo.revision
    revision_listed = any(
        e.config_key == "music_flamingo.revision.model" and is_selected(e, cfg) for e in entries
    )
    if rev.enabled and not revision_listed:
        found.append(
            Unlisted(
                "captions",
                "music_flamingo.revision.model",
                rev.model.name,
                rev.model,
                rev.model.is_file(),
            )
        )
    return found


# -- checksums ------------------------------------------------------------------------------


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class ChecksumCache:
    """sha256 of files by (path, size, mtime): `list` hashes a multi-GB file once."""

    def __init__(self, path: Path | None):
        self.path = path
        self.data: dict[str, dict] = {}
        self.changed = False
        if path is not None and path.is_file():
            try:
                self.data = json.loads(path.read_text())
            except (OSError, ValueError):
                self.data = {}

    def sha256(self, file: Path, *, fresh: bool = False) -> str:
        st = file.stat()
        key = str(file.resolve())
        known = self.data.get(key)
        if not fresh and known and known["size"] == st.st_size and known["mtime"] == st.st_mtime_ns:
            return known["sha256"]
        value = sha256_of(file)
        self.record(file, value)
        return value

    def record(self, file: Path, sha256: str) -> None:
        st = file.stat()
        self.data[str(file.resolve())] = {
            "size": st.st_size,
            "mtime": st.st_mtime_ns,
            "sha256": sha256,
        }
        self.changed = True

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        except OSError:
            pass  # a read-only models folder: checksums are computed again next time


def _cache(cfg: MasterConfig) -> ChecksumCache:
    return ChecksumCache(Path(cfg.paths.models) / CHECKSUM_CACHE)


#: checksum states, as `list` and `verify` print them
VERIFIED, PREFIX_VERIFIED, UNKNOWN, WRONG, ABSENT = (
    "verified",
    "prefix verified",
    "unknown",
    "WRONG",
    "-",
)


def check_file(path: Path, file: ModelFile, sha256: str) -> tuple[str, str]:
    """(state, detail) of a present file against its manifest entry."""
    size = path.stat().st_size
    if file.sha256:
        if sha256 == file.sha256:
            return VERIFIED, ""
        return WRONG, f"expected sha256 {file.sha256}, found {sha256}"
    if file.size is not None and size != file.size:
        return WRONG, f"expected {file.size} bytes, found {size}"
    if file.sha256_prefix:
        if sha256.startswith(file.sha256_prefix):
            return PREFIX_VERIFIED, ""
        return WRONG, f"expected a sha256 starting {file.sha256_prefix}, found {sha256}"
    return UNKNOWN, f"no sha256 in the manifest; this file's is {sha256}"


@dataclass
class FileStatus:
    """One row of `mir models list`."""

    entry: ModelEntry
    #: None for a file that `fetch` writes (a Demucs yaml)
    file: ModelFile | None
    path: Path
    present: bool
    size: int | None
    checksum: str
    detail: str = ""


def file_statuses(
    entries: Sequence[ModelEntry], cfg: MasterConfig, cache: ChecksumCache
) -> list[FileStatus]:
    """The state of every file of every entry, where the configuration puts it."""
    rows = []
    for entry in entries:
        for file in entry.files:
            path = target(entry, file, cfg)
            if path.is_file():
                state, detail = check_file(path, file, cache.sha256(path))
                rows.append(FileStatus(entry, file, path, True, path.stat().st_size, state, detail))
            else:
                rows.append(FileStatus(entry, file, path, False, None, ABSENT))
        for name, content in entry.write.items():
            path = folder(entry, cfg) / name
            if path.is_file():
                same = path.read_text(errors="replace") == content
                rows.append(
                    FileStatus(
                        entry,
                        None,
                        path,
                        True,
                        path.stat().st_size,
                        "as written" if same else "differs",
                        "" if same else "not what `mir models fetch` writes",
                    )
                )
            else:
                rows.append(FileStatus(entry, None, path, False, None, ABSENT))
    return rows


# -- downloading ------------------------------------------------------------------------------


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


# -- the commands ------------------------------------------------------------------------------


def _shown(path: Path) -> str:
    """A path relative to the working folder when it lies under it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


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


def _instructions(entry: ModelEntry, file: ModelFile | None, cfg: MasterConfig) -> str:
    text = (file.instructions if file and file.instructions else entry.instructions) or ""
    file = file or entry.files[0]
    return text.format(
        folder=folder(entry, cfg), target=target(entry, file, cfg), source=file.url or ""
    ).rstrip()


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
    cache = _cache(cfg)
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
                _shown(s.path),
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
                    problems.setdefault(asset, []).append(f"{_shown(s.path)} {why}")
    for u in unlisted_selections(entries, cfg):
        rows.append(
            [
                f"* {u.value}",
                u.asset,
                u.config_key,
                _shown(u.path),
                "present" if u.present else "MISSING",
                "",
                "not in manifest",
                "-",
            ]
        )
        if not u.present and enabled(cfg, u.asset):
            problems.setdefault(u.asset, []).append(
                f"{_shown(u.path)} missing (not in the manifest: place it yourself)"
            )
    print(f"manifest: {_shown(manifest or manifest_path())}", file=out)
    print(f"config:   {_shown(cfg.source) if cfg.source else '(defaults)'}", file=out)
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
        print(f"\nWRONG {_shown(s.path)}: {s.detail}", file=out)
    if problems:
        print("\nenabled assets whose selected model is not in place:", file=out)
        for asset, what in problems.items():
            print(f"  {asset} (fetch it: mir models fetch --for {asset})", file=out)
            for line in what:
                print(f"    {line}", file=out)
        return 1
    print("\nevery enabled asset's selected model is in place", file=out)
    return 0


def verify_models(
    entries: Sequence[ModelEntry], cfg: MasterConfig, *, out: TextIO | None = None
) -> int:
    """Hash every present model file again and report it against the manifest.

    Returns
    -------
    int
        1 when a file does not match, else 0.
    """
    out = out or sys.stdout
    cache = _cache(cfg)
    checked = wrong = 0
    for entry in entries:
        for file in entry.files:
            path = target(entry, file, cfg)
            if not path.is_file():
                continue
            checked += 1
            actual = cache.sha256(path, fresh=True)
            state, detail = check_file(path, file, actual)
            wrong += state == WRONG
            line = f"{state:<16} {entry.name:<26} {_shown(path)}"
            if state == UNKNOWN:
                line += f"\n{'':<16} sha256 {actual} (record it in the manifest)"
            elif state == WRONG:
                line += f"\n{'':<16} {detail}"
            print(line, file=out)
    cache.save()
    print(f"\n{checked} file(s) present and checked, {wrong} wrong", file=out)
    return 1 if wrong else 0


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
    cache = _cache(cfg)
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
                    print(f"{entry.name}: {_shown(path)} already in place ({state})", file=out)
                    continue
                print(
                    f"{entry.name}: {_shown(path)} is wrong ({detail}); fetching it again", file=out
                )
            if not (file.fetchable and entry.fetchable):
                print(
                    f"{entry.name}: {_shown(path)} cannot be fetched by mir; do this instead:\n"
                    + _indent(_instructions(entry, file, cfg)),
                    file=out,
                )
                ok = False
                continue
            url = rebase(file.url or "", source_base)
            print(f"{entry.name}: downloading {url}\n  -> {_shown(path)}", file=out, flush=True)
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
            print(f"{entry.name}: {_shown(path)} in place, {state}{note}", file=out)
        if ok:
            for name, content in entry.write.items():
                path = folder(entry, cfg) / name
                if not path.is_file():
                    path.write_text(content)
                    print(f"{entry.name}: wrote {_shown(path)}", file=out)
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
                        f"place it yourself at {_shown(u.path)}",
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
        return verify_models(entries, cfg)
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
    q = actions.add_parser("verify", help="re-check the sha256 of every present model file")
    common(q)
