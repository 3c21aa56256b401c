"""Model files: what the configuration selects, where each file must lie, getting it, and
checking what is there.

- :mod:`mir.models.manifest`: `models/manifest.yaml` read and checked; where the
  configuration puts each file;
- :mod:`mir.models.checksums`: sha256 of placed files against the manifest;
- :mod:`mir.models.download`: resumable, checksum-verified downloads (`mir models fetch`);
- :mod:`mir.signatures`: each file's signature (ONNX inputs and outputs, GGUF
  metadata, torch checkpoints' keys and configuration) read and checked;
- :mod:`mir.models.verify`: `mir models verify`, checksums and signatures of every placed file;
- :mod:`mir.models.command`: the `mir models list | fetch | verify` command line.

Nothing here imports Dagster; a model stack is imported only to read a signature.
"""

from mir.models.checksums import (
    ABSENT,
    CHECKSUM_CACHE,
    PREFIX_VERIFIED,
    UNKNOWN,
    VERIFIED,
    WRONG,
    ChecksumCache,
    FileStatus,
    check_file,
    file_statuses,
    sha256_of,
)
from mir.models.command import add_models_parser, cmd_models, list_models
from mir.models.download import DownloadError, download, fetch_models, rebase
from mir.models.manifest import (
    MANIFEST,
    MANIFEST_ENV,
    ManifestError,
    ModelEntry,
    ModelFile,
    Unlisted,
    config_value,
    folder,
    is_selected,
    load_manifest,
    manifest_path,
    selected_for,
    target,
    unlisted_selections,
)
from mir.models.verify import verify_models

__all__ = [
    "ABSENT",
    "CHECKSUM_CACHE",
    "MANIFEST",
    "MANIFEST_ENV",
    "PREFIX_VERIFIED",
    "UNKNOWN",
    "VERIFIED",
    "WRONG",
    "ChecksumCache",
    "DownloadError",
    "FileStatus",
    "ManifestError",
    "ModelEntry",
    "ModelFile",
    "Unlisted",
    "add_models_parser",
    "check_file",
    "cmd_models",
    "config_value",
    "download",
    "fetch_models",
    "file_statuses",
    "folder",
    "is_selected",
    "list_models",
    "load_manifest",
    "manifest_path",
    "rebase",
    "selected_for",
    "sha256_of",
    "target",
    "unlisted_selections",
    "verify_models",
]
