"""The pipeline configuration: `config/master_pipeline.yaml` as a typed object.

Every key is declared here; an unknown key or a value of the wrong type raises
:class:`~mir.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mir.conditioning import DEFAULT_CONDITIONING_KEYS
from mir.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "master_pipeline.yaml"

#: Environment variables that override `paths.*`.
PATH_OVERRIDES = {
    "inbox": "MIR_INBOX",
    "library": "MIR_LIBRARY",
    "duckdb": "MIR_DUCKDB",
    "crops": "MIR_CROPS",
    "dataset": "MIR_DATASET",
    "latents": "MIR_LATENTS",
}
#: Environment variables that override `feature_store.*`.
STORE_OVERRIDES = {"backend": "MIR_FEATURE_STORE", "postgres_url": "MIR_FEATURE_STORE_URL"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PathsConfig(_Section):
    inbox: Path = Path("data/inbox")
    library: Path = Path("data/library")
    duckdb: Path = Path("data/mir.duckdb")
    models: Path = Path("models")
    crops: Path = Path("data/crops")
    dataset: Path = Path("data/sat_dataset")
    reports: Path = Path("data/reports")
    latents: Path = Path("data/latents")


class FeaturesConfig(BaseModel):
    """`features:`, one switch per asset (`timbral_features: false`); an asset without a
    switch is on, so a new feature runs without one. Which names exist is known once the
    code location has loaded its assets: it rejects a switch that names none
    (mir_assets/definitions.py, `check_switches`)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    #: every switch is a boolean (pydantic validates the extra keys with this type)
    __pydantic_extra__: dict[str, bool] = Field(init=False)

    @model_validator(mode="before")
    @classmethod
    def _booleans(cls, raw: object) -> object:
        # YAML's true/false only: configs are validated leniently (ints for floats), and a
        # lenient bool would take "yes" or 1
        for name, value in (raw or {}).items() if isinstance(raw, dict) else ():
            if not isinstance(value, bool):
                raise ValueError(f"features.{name}: expected true or false, got {value!r}")
        return raw

    def switches(self) -> dict[str, bool]:
        """The switches the file sets, by asset name."""
        return dict(self.model_extra or {})

    def enabled(self, asset: str) -> bool:
        """Whether `asset` runs: its switch, or on without one."""
        return bool(self.switches().get(asset, True))


class MetadataConfig(_Section):
    lookup: bool = False
    use_musicbrainz: bool = True
    use_spotify: bool = True
    use_fingerprinting: bool = True
    min_score: float = Field(0.5, ge=0.0, le=1.0)
    musicbrainz_url: str = "https://musicbrainz.org"
    spotify_api_url: str = "https://api.spotify.com"
    spotify_accounts_url: str = "https://accounts.spotify.com"
    acoustid_url: str = "https://api.acoustid.org"
    user_agent: str = "mir-platform/0.1 (music-information-retrieval data platform)"
    min_interval_s: float = Field(1.0, ge=0.0)
    timeout_s: float = Field(10.0, gt=0.0)
    retries: int = Field(3, ge=0)
    backoff_s: float = Field(1.0, ge=0.0)


class ClassificationConfig(_Section):
    model_dir: Path = Path("models/essentia")
    vocal_crest_db: float = 30.0
    vocal_rms_dbfs: float = -42.0
    vocal_peak_dbfs: float = -20.0


class AestheticsConfig(_Section):
    model_dir: Path = Path("models/audiobox")
    checkpoint: str = "checkpoint.pt"
    batch_size: int = Field(16, ge=1)
    windows_per_pass: int = Field(16, ge=1)


class RevisionConfig(_Section):
    enabled: bool = False
    model: Path = Path("models/llm/granite-4.0-h-tiny-Q8_0.gguf")
    chat_format: Literal["chatml", "granite", "harmony"] = "granite"
    max_tokens: int = Field(512, ge=16)
    temperature: float = Field(0.7, ge=0.0)
    n_ctx: int = Field(4096, ge=512)
    gpu_layers: int = -1
    #: longest summary, in characters (the grammar's bound)
    max_chars: int = Field(400, ge=8)
    prompts: dict[str, str] = Field(default_factory=dict)


class MusicFlamingoConfig(_Section):
    backend: Literal["template", "cli", "llama_cpp", "transformers"] = "template"
    model: str = "Q8_0"
    model_dir: Path = Path("models/music_flamingo")
    cli: str = "llama-mtmd-cli"
    transformers_model: Path = Path("models/music_flamingo/music-flamingo-hf")
    context_size: int = Field(16384, ge=512)
    gpu_layers: int = 99
    temperature: float = Field(0.7, ge=0.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    timeout_s: float = Field(300.0, gt=0.0)
    sample_probability: float = Field(1.0, ge=0.0, le=1.0)
    prompts: dict[str, str] = Field(default_factory=dict)
    max_tokens: dict[str, int] = Field(default_factory=dict)
    revision: RevisionConfig = RevisionConfig()


class TranscriptionConfig(_Section):
    #: folder of ADTOF's Frame_RNN weights (adtof_frame_rnn_pytorch_weights.pth)
    model_dir: Path = Path("models/adtof")
    #: peak-picking thresholds of bass drum, snare, tom, hi-hat, cymbal (ADTOF's fitted ones)
    drum_thresholds: tuple[float, float, float, float, float] = (0.22, 0.24, 0.32, 0.22, 0.30)
    onset_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    frame_threshold: float = Field(0.3, gt=0.0, lt=1.0)
    min_note_ms: float = Field(127.7, ge=0.0)


class CropsConfig(_Section):
    length_samples: int = Field(524288, ge=4096)
    mode: Literal["beat-aligned", "sequential"] = "beat-aligned"
    div4: bool = True
    overlap: bool = False
    include_stems: bool = True
    skip_stems: tuple[str, ...] = ()
    silence_dbfs: float = -60.0
    features: bool = True
    timeseries: bool = True
    n_steps: int = Field(256, ge=8)
    #: classification (labels, danceability and the other heads) and aesthetics computed on
    #: each crop's audio, with the models in place; off: each crop carries the track's
    model_values: bool = False
    #: Music Flamingo (`music_flamingo.backend`, its prompts) on each crop's audio: each
    #: crop's own captions, its prompt in the dataset; off: each crop carries the track's.
    #: Slow: one model call per prompt and crop
    flamingo: bool = False
    #: crops start where a section of the `structure` asset starts and never straddle a
    #: boundary (needs the track's .SECTIONS); off: crops follow the downbeats alone
    sections: bool = False


class StructureConfig(_Section):
    """`structure:`, the sections of a track (mir/structure.py, :func:`segment_bars`)."""

    #: cost of one more section, in bars of scatter: higher, fewer sections
    penalty: float = Field(2.0, gt=0)
    #: sections inside the song that are not a whole number of `phrase_bars` bars cost
    #: `phrase_penalty` more (intros and outros run any length)
    phrase_bars: int = Field(4, ge=1)
    phrase_penalty: float = Field(1.0, ge=0)
    #: the shortest section, and the shortest intro or outro, in bars
    min_section_bars: int = Field(4, ge=1)
    min_edge_bars: int = Field(2, ge=1)
    #: half-width of the checkerboard kernel of the novelty curve, in bars
    kernel_bars: int = Field(4, ge=1)
    #: sections at least this similar (0-1) share a label
    label_threshold: float = Field(0.5, gt=0, lt=1)


class LatentsConfig(_Section):
    #: the target model and its autoencoder (mir/latents/presets.py): sa3-medium (SAME-L),
    #: sa3-small (SAME-S), sao-1.0 (the Stable Audio Open 1.0 VAE)
    preset: Literal["sa3-medium", "sa3-small", "sao-1.0"] = "sa3-medium"
    #: window length in latent frames, a multiple of 256; 0: the preset's
    window_frames: int = Field(0, ge=0)
    #: windows per encoder pass
    batch_size: int = Field(2, ge=1)
    #: each window after the first starts at the last section start (the `structure`
    #: asset's .SECTIONS) within the previous window, before any later downbeat; windows
    #: still cover every second, so one longer than a section spans the next boundary
    sections: bool = False
    #: the sources encoded, one flat corpus each (`<latents>/<preset>/<source>/`): the mix
    #: and any of the stems (a track without that stem file has no item in its corpus)
    sources: tuple[Literal["mix", "drums", "bass", "other", "vocals"], ...] = ("mix",)
    #: the folders of each autoencoder's checkpoint and configuration (models/README.md)
    same_l_dir: Path = Path("models/same-l")
    same_s_dir: Path = Path("models/same-s")
    sao_vae_dir: Path = Path("models/stable-audio-open-1.0")

    @field_validator("window_frames")
    @classmethod
    def _multiple(cls, value: int) -> int:
        if value % 256:
            raise ValueError("must be a multiple of 256 (0: the preset's)")
        return value

    @field_validator("sources")
    @classmethod
    def _some_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one source (mix, drums, bass, other, vocals)")
        return tuple(dict.fromkeys(value))


class TimbralConfig(_Section):
    #: seconds from the middle of the track the timbral models analyse; 0 = all of it
    max_seconds: float = Field(0.0, ge=0)


class ChordsConfig(_Section):
    #: madmom's chord recogniser: "cnn" (the more accurate) or "deepchroma" (the faster)
    model: Literal["cnn", "deepchroma"] = "cnn"


class BeatsConfig(_Section):
    tracker: Literal["madmom", "librosa"] = "madmom"
    beats_per_bar: tuple[int, ...] = (3, 4)
    min_bpm: float = 55.0
    max_bpm: float = 215.0
    fps: int = 100


class LoudnessConfig(_Section):
    lra_window_s: float = 3.0


class FeatureStoreConfig(_Section):
    """`feature_store:`, where the feature tables live: a DuckDB file (`paths.duckdb`, one
    machine) or a PostgreSQL database that several machines write at once."""

    backend: Literal["duckdb", "postgres"] = "duckdb"
    #: libpq URL (`postgresql://user@host:5432/mir`); the password may come from $PGPASSWORD
    postgres_url: str = ""

    @model_validator(mode="after")
    def _url_for_postgres(self) -> FeatureStoreConfig:
        if self.backend == "postgres" and not self.postgres_url:
            raise ValueError(
                "backend postgres needs feature_store.postgres_url (or $MIR_FEATURE_STORE_URL)"
            )
        return self


class SensorConfig(_Section):
    stable_seconds: float = 10.0
    max_new_tracks_per_tick: int = Field(50, ge=1)
    interval_seconds: int = Field(30, ge=1)


class DemucsConfig(_Section):
    model: str = "htdemucs"
    repo: Path = Path("models/demucs")
    shifts: int = Field(0, ge=0)
    overlap: float = Field(0.25, ge=0.0, lt=1.0)


class RoformerConfig(_Section):
    model_dir: Path = Path("models/bs-roformer")
    model_file: str = "model_bs_roformer_ep_317_sdr_12.9755.ckpt"
    batch_size: int = Field(1, ge=1)
    peak: float = Field(0.9, gt=0.0, le=1.0)


class SeparationConfig(_Section):
    backend: Literal["demucs", "bs_roformer"] = "demucs"
    demucs: DemucsConfig = DemucsConfig()
    bs_roformer: RoformerConfig = RoformerConfig()
    output_format: Literal["auto", "flac", "mp3", "wav"] = "auto"
    mp3_bitrate: int = Field(0, ge=0)
    keep_extra_stems: bool = False
    instrumental: bool = False
    block_seconds: float = Field(60.0, ge=5.0)
    quality_check: bool = True
    quality_rms_dbfs: float = -39.0
    quality_peak_dbfs: float = -20.0


#: what `export.exclude` may name (the flags of the `audio_quality` asset, mir/quality.py)
EXPORT_EXCLUSIONS = ("duplicate", "fake_lossless", "clipped", "silent", "too_short")


class ExportConfig(_Section):
    #: tracks whose `audio_quality` flags fall in one of these get no crops in `sat_dataset`
    exclude: tuple[str, ...] = ("duplicate", "fake_lossless")

    @field_validator("exclude")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in EXPORT_EXCLUSIONS]
        if unknown:
            raise ValueError(
                f"unknown exclusion {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(EXPORT_EXCLUSIONS)}"
            )
        return value

    #: the numeric keys each sidecar carries, one `number` conditioner each in the
    #: model-config fragment (ranges from mir/feature_table.py)
    conditioning_keys: tuple[str, ...] = DEFAULT_CONDITIONING_KEYS
    #: the prompt's text encoder (stable-audio-tools' `t5` conditioner) and token limit
    prompt_model: str = "t5-base"
    prompt_max_length: int = Field(128, ge=1)
    #: max_val of the seconds_start and seconds_total conditioners
    seconds_max: float = Field(512.0, gt=0)

    @field_validator("conditioning_keys")
    @classmethod
    def _numeric(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from mir.conditioning import conditioning_feature

        for key in value:
            conditioning_feature(key)  # a ValueError that names the key
        if len(set(value)) != len(value):
            raise ValueError("a key is listed twice")
        return value


class ProcessingConfig(_Section):
    audio_extensions: tuple[str, ...] = ("flac", "wav", "aiff", "aif", "mp3", "ogg", "m4a", "aac")
    tracks_per_run: int = Field(25, ge=1)
    workers: int = Field(0, ge=0)
    device: Literal["auto", "rocm", "cuda", "cpu"] = "auto"
    gpu_pool: str = "gpu"


class MasterConfig(_Section):
    """The whole of `master_pipeline.yaml`. Paths are absolute after :func:`load_config`.

    One attribute per top-level section (`paths`, `beats`, `crops`, ...), each a model of
    its own; the configuration reference (docs/reference/configuration.md) lists every
    key with its type, default and range.
    """

    paths: PathsConfig = PathsConfig()
    feature_store: FeatureStoreConfig = FeatureStoreConfig()
    features: FeaturesConfig = FeaturesConfig()
    beats: BeatsConfig = BeatsConfig()
    loudness: LoudnessConfig = LoudnessConfig()
    timbral: TimbralConfig = TimbralConfig()
    chords: ChordsConfig = ChordsConfig()
    structure: StructureConfig = StructureConfig()
    separation: SeparationConfig = SeparationConfig()
    crops: CropsConfig = CropsConfig()
    latents: LatentsConfig = LatentsConfig()
    export: ExportConfig = ExportConfig()
    metadata: MetadataConfig = MetadataConfig()
    classification: ClassificationConfig = ClassificationConfig()
    transcription: TranscriptionConfig = TranscriptionConfig()
    aesthetics: AestheticsConfig = AestheticsConfig()
    music_flamingo: MusicFlamingoConfig = MusicFlamingoConfig()
    sensor: SensorConfig = SensorConfig()
    processing: ProcessingConfig = ProcessingConfig()
    rocm: dict[str, str] = Field(default_factory=dict)
    #: feature modules outside the project: module names or `.py` files (relative to the
    #: config's root), loaded with the built-in asset modules (docs/development.md, "Adding a feature")
    feature_modules: tuple[str, ...] = ()
    #: the file this configuration was read from (not a YAML key)
    source: Path | None = Field(default=None, exclude=True)


def config_path(path: str | os.PathLike | None = None) -> Path:
    """The config file to load: `path`, else $MIR_CONFIG, else the project default.

    Parameters
    ----------
    path : path-like, optional
        A configuration file given on the command line or by the caller.

    Returns
    -------
    Path
        As given (not resolved); the project default is `config/master_pipeline.yaml`.
    """
    if path:
        return Path(path)
    return Path(os.environ.get("MIR_CONFIG") or DEFAULT_CONFIG)


#: configurations read by this process, by file and what overrides it
_READ: dict[tuple, MasterConfig] = {}


def load_config(path: str | os.PathLike | None = None) -> MasterConfig:
    """Read, validate and resolve a pipeline configuration, once per process.

    The file is read and validated the first time; later calls return the same object
    while the file and the environment variables that override it are unchanged. On the
    first read the configuration's `rocm:` section is exported (:func:`mir.gpu.
    apply_rocm_env`; shell exports win): ROCm and PyTorch read those variables once, when
    torch is first imported, which no module does before a configuration is read.

    Parameters
    ----------
    path : path-like, optional
        The YAML file. Defaults to $MIR_CONFIG, then `config/master_pipeline.yaml`.

    Returns
    -------
    MasterConfig
        With every path absolute: relative ones are taken from :func:`config_root`,
        and `MIR_INBOX`, `MIR_LIBRARY`, `MIR_DUCKDB` override their keys
        (`MIR_FEATURE_STORE` and `MIR_FEATURE_STORE_URL` those of `feature_store`).
    """
    path = config_path(path).resolve()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    overrides = tuple(
        os.environ.get(var, "") for var in (*PATH_OVERRIDES.values(), *STORE_OVERRIDES.values())
    )
    key = (str(path), st.st_mtime_ns, st.st_size, overrides)
    cfg = _READ.get(key)
    if cfg is None:
        cfg = _read_config(path)
        _READ[key] = cfg
        from mir.gpu import apply_rocm_env

        apply_rocm_env(cfg.rocm)
    return cfg


def _read_config(path: Path) -> MasterConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return config_from_dict(raw, root=config_root(path), source=path)


def config_root(path: Path) -> Path:
    """The folder a config file's relative paths start from: for a file in a folder named
    `config` (a project's, like this one's `config/master_pipeline.yaml`), the folder above
    it, the project; for any other file, its own folder (`--config ~/music/mir.yaml` keeps
    `models/` and `data/` beside that file).

    Parameters
    ----------
    path : Path
        The configuration file.

    Returns
    -------
    Path
        An absolute folder.
    """
    path = Path(path).resolve()
    return path.parent.parent if path.parent.name == "config" else path.parent


def _yaml_friendly(raw: dict) -> dict:
    # YAML has lists, not tuples; strict mode would reject a list for a tuple field.
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out[key] = _yaml_friendly(value)
        elif isinstance(value, list):
            out[key] = tuple(value)
        else:
            out[key] = value
    return out


def config_from_dict(
    raw: dict, *, root: Path = PROJECT_ROOT, source: Path | None = None
) -> MasterConfig:
    """Validate a configuration mapping (as read from YAML) and resolve its paths.

    Parameters
    ----------
    raw : dict
        The configuration's sections, as `yaml.safe_load` reads them (lists for tuples
        are accepted).
    root : Path
        The folder relative paths start from (:func:`config_root`; default the project).
    source : Path, optional
        The file it was read from: named in errors, and kept as `MasterConfig.source`.

    Returns
    -------
    MasterConfig
        With every path absolute; `MIR_INBOX`, `MIR_LIBRARY`, `MIR_DUCKDB`,
        `MIR_FEATURE_STORE` and `MIR_FEATURE_STORE_URL` override their keys.

    Raises
    ------
    ConfigError
        An unknown key, a value of the wrong type or out of range, naming each key.
    """
    raw = _yaml_friendly(raw)
    store = raw.get("feature_store")
    overrides = {k: os.environ[env] for k, env in STORE_OVERRIDES.items() if os.environ.get(env)}
    if overrides and (store is None or isinstance(store, dict)):
        raw = {**raw, "feature_store": {**(store or {}), **overrides}}
    # YAML reads `1` as int where a float is declared; accept ints for float fields only.
    try:
        cfg = MasterConfig.model_validate(raw, strict=False)
        _check_strict_types(raw, MasterConfig)
    except ValidationError as exc:
        where = f"{source}: " if source else ""
        problems = "; ".join(
            f"`{'.'.join(str(p) for p in err['loc'])}`: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{where}invalid configuration: {problems}") from None
    paths = {}
    for key in ("inbox", "library", "duckdb", "models", "crops", "dataset", "reports", "latents"):
        value = getattr(cfg.paths, key)
        env = PATH_OVERRIDES.get(key)
        if env and os.environ.get(env):
            value = Path(os.environ[env])
        value = Path(os.path.expanduser(str(value)))
        # normalised (`..` folded, links kept): a path is then written one way only, as
        # the registry's keys and the sensor's comparisons need
        paths[key] = Path(os.path.normpath(value if value.is_absolute() else (root / value)))
    sep = cfg.separation
    separation = sep.model_copy(
        update={
            "demucs": sep.demucs.model_copy(update={"repo": _under(root, sep.demucs.repo)}),
            "bs_roformer": sep.bs_roformer.model_copy(
                update={"model_dir": _under(root, sep.bs_roformer.model_dir)}
            ),
        }
    )
    classification = cfg.classification.model_copy(
        update={"model_dir": _under(root, cfg.classification.model_dir)}
    )
    aesthetics = cfg.aesthetics.model_copy(
        update={"model_dir": _under(root, cfg.aesthetics.model_dir)}
    )
    mf = cfg.music_flamingo
    music_flamingo = mf.model_copy(
        update={
            "model_dir": _under(root, mf.model_dir),
            "transformers_model": _under(root, mf.transformers_model),
            # a bare name is looked up on PATH; a path is taken from the project root
            "cli": str(_under(root, Path(mf.cli))) if "/" in mf.cli else mf.cli,
            "revision": mf.revision.model_copy(update={"model": _under(root, mf.revision.model)}),
        }
    )
    transcription = cfg.transcription.model_copy(
        update={"model_dir": _under(root, cfg.transcription.model_dir)}
    )
    lat = cfg.latents
    latents = lat.model_copy(
        update={
            k: _under(root, getattr(lat, k)) for k in ("same_l_dir", "same_s_dir", "sao_vae_dir")
        }
    )
    return cfg.model_copy(
        update={
            "latents": latents,
            "music_flamingo": music_flamingo,
            "paths": PathsConfig(**paths),
            "separation": separation,
            "classification": classification,
            "transcription": transcription,
            "aesthetics": aesthetics,
            "source": source,
        }
    )


def _under(root: Path, path: Path) -> Path:
    path = Path(os.path.expanduser(str(path)))
    return path if path.is_absolute() else root / path


def _check_strict_types(raw: dict, model: type[BaseModel], prefix: str = "") -> None:
    """Reject values that lax validation would coerce (a string "yes" for a bool, say)."""
    for key, value in raw.items():
        field = model.model_fields.get(key)
        if field is None:
            continue
        ann = field.annotation
        name = f"{prefix}{key}"
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if isinstance(value, dict):
                _check_strict_types(value, ann, name + ".")
            continue
        bad = (
            (ann is bool and not isinstance(value, bool))
            or (ann is int and (isinstance(value, bool) or not isinstance(value, int)))
            or (ann is float and (isinstance(value, bool) or not isinstance(value, int | float)))
            or (ann is Path and not isinstance(value, str))
        )
        if bad:
            raise ConfigError(
                f"invalid configuration: `{name}` must be {ann.__name__}, got {value!r}"
            )
