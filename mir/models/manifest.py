"""The model manifest: what the configuration can select, and where each file must lie.

One manifest (`models/manifest.yaml`) names every model the configuration can select: the
assets that need it, the config key that selects it, the folder it goes in (a config key,
so the configuration decides where), its published URL, sha256 (or null where unknown),
licence, whether we can fetch it at all, and the signature each file must have.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mir.config import PROJECT_ROOT, MasterConfig
from mir.errors import MirError
from mir.signatures import CHECKS

#: the manifest in the repository; `--manifest FILE` or $MIR_MODELS_MANIFEST replace it
MANIFEST = PROJECT_ROOT / "models" / "manifest.yaml"
MANIFEST_ENV = "MIR_MODELS_MANIFEST"


class ManifestError(MirError):
    """A manifest that cannot be read, or a name in it that does not exist."""


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
    #: the check of the file's signature (a name of `mir.signatures.CHECKS`)
    signature: str | None = None


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
        For a missing file, an unknown key, a malformed sha256, an unknown signature
        check or a duplicate name.
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
            check = f.get("signature")
            if check is not None and check not in CHECKS:
                raise ManifestError(
                    f"{path}: model {name}: signature {check!r} is not one of {', '.join(CHECKS)}"
                )
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
    #: the check of its signature (`mir models verify`)
    signature: str | None = None


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
                Unlisted(
                    "stems", "separation.demucs.model", sep.demucs.model, path, present, "demucs"
                )
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
                    "bs-roformer",
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
                "text-gguf",
            )
        )
    return found


def shown(path: Path) -> str:
    """A path relative to the working folder when it lies under it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
