"""What a feature family is: its keys, its computation, what it needs, who reads it.

A *family* is one asset of a track: the values one computation returns together (the
beat grid, the spectral shape, the stems). Each is declared once, as a :class:`Family`
(the built-in ones in :mod:`mir.families`, others in a feature module named by the
configuration's `feature_modules:`). Everything else is derived from the declaration:
the feature table (:mod:`mir.feature_table`), the asset and its range check, its UI
metadata and DuckDB column comments, `mir analyze`'s steps, what each crop inherits, the
assets that depend on it, the model check that leaves it out of a run, the generated
reference of the documentation, and its code version (:mod:`mir.versions`).

This module is light on purpose: declarations name their code by dotted path
(`"mir.analysis:spectral"`), which is imported only when it runs.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from mir.audio import Audio
    from mir.config import MasterConfig

Kind = Literal["number", "text", "flag", "labels", "list", "file"]
"""What a key holds: a number (with a range), text, a flag, `{label: probability}`
(each probability 0 .. 1), a list, or the name of a file in the track folder."""

CONSUMERS = ("crops", "statistics", "captions")
"""The assets that read other families' values (a family's `consumers` name some of
them)."""


@dataclass(frozen=True)
class Feature:
    """One key of a family: what it means, its unit and range.

    Attributes
    ----------
    key : str
        The name in `.INFO`, DuckDB and the crops' sidecars. A key ending in `*` stands for
        every key with that prefix (`music_flamingo_*`: one per configured prompt).
    min, max : float
        The physical range of a number, in its `unit` (the `values_in_range` check; -inf
        and +inf: unbounded, the default); unused for other kinds.
    unit : str
        `"s"`, `"Hz"`, `"LUFS"`, ...; `""` for none.
    description : str
        What it means, in a line.
    kind : str
        See :data:`Kind`.
    optional : bool
        Present only when it is known (a lookup found a release, a stem held notes);
        otherwise every result of the family holds it.
    crops : bool or None
        Whether each crop inherits the key; None: as its family says.
    """

    key: str
    min: float = -math.inf
    max: float = math.inf
    unit: str = ""
    description: str = ""
    kind: Kind = "number"
    optional: bool = False
    crops: bool | None = None

    @property
    def numeric(self) -> bool:
        """Whether the key holds a number (its `kind` is `"number"`)."""
        return self.kind == "number"

    @property
    def pattern(self) -> bool:
        """Whether the key stands for every key with its prefix (it ends in `*`)."""
        return self.key.endswith("*")

    def matches(self, key: str) -> bool:
        """Whether this declaration is that of `key`.

        Parameters
        ----------
        key : str
            A key of a family's result.

        Returns
        -------
        bool
            True for the key itself, or, for a pattern (`music_flamingo_*`), for any key
            with its prefix.
        """
        return key.startswith(self.key[:-1]) if self.pattern else key == self.key

    def comment(self) -> str:
        """The DuckDB column comment: meaning, unit and range.

        Returns
        -------
        str
            `"<description> [<unit>], range <min>..<max>"` for a number (the unit left
            out when there is none), `"<description> [<unit>]"` otherwise.
        """
        unit = f" [{self.unit}]" if self.unit else ""
        if not self.numeric:
            return f"{self.description}{unit}"
        return f"{self.description}{unit}, range {self.min:g}..{self.max:g}"


def text(key: str, description: str, **kw) -> Feature:
    """A key holding text.

    Parameters
    ----------
    key : str
        The key's name.
    description : str
        What it means, in a line.
    **kw
        Other fields of :class:`Feature` (`optional`, `crops`, `unit`).

    Returns
    -------
    Feature
        Of kind `"text"`.
    """
    return Feature(key, description=description, kind="text", **kw)


def flag(key: str, description: str, **kw) -> Feature:
    """A key holding true or false.

    Parameters
    ----------
    key : str
        The key's name.
    description : str
        What it means, in a line.
    **kw
        Other fields of :class:`Feature` (`optional`, `crops`).

    Returns
    -------
    Feature
        Of kind `"flag"`.
    """
    return Feature(key, description=description, kind="flag", **kw)


@dataclass(frozen=True)
class Undefined:
    """A value that does not exist for this audio, with why ("digital silence: no
    tempo"). A family returns it in place of a number it cannot give; the value is then
    stored as null and the reason under the family's `<family>_undefined` key. Every
    consumer (captions, crops, the dataset, statistics, conditioning) treats it as absent:
    no value is ever made up in its place.

    Attributes
    ----------
    reason : str
        Why the value does not exist, in words a user reads in the `.INFO`.
    """

    reason: str


def undefined_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """`values` with every :class:`Undefined`, NaN or infinite number as None, and
    `{key: reason}` for those (a non-finite number's reason says so: an extractor must
    not give one, but if one does, it is never stored as a number).

    Parameters
    ----------
    values : mapping
        `{key: value}` as a family computed them.

    Returns
    -------
    values : dict
        The same keys, each undefined or non-finite value None.
    reasons : dict
        `{key: reason}` of the values set to None; empty when there are none.
    """
    out: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, Undefined):
            out[key], reasons[key] = None, value.reason
        elif isinstance(value, float | np.floating) and not math.isfinite(value):
            out[key], reasons[key] = None, f"the computation gave {value} (not a number)"
        else:
            out[key] = value
    return out, reasons


@dataclass(frozen=True)
class ModelNeed:
    """The model files a family needs.

    Attributes
    ----------
    check : str
        Dotted path of `check(config)`, which raises :class:`~mir.errors.ModelNotFound`
        (naming the file and its config key) when the files are not in place.
    config_key : str
        The configuration key that selects the model.
    """

    check: str | Callable
    config_key: str


class Track:
    """What a family computes from: one track's decoded mix and what is known of it.

    Attributes
    ----------
    audio : Audio
        The decoded full mix (its cached intermediates are shared by every family). Given
        as a function, it is decoded when a family first reads it.
    config : MasterConfig
        The pipeline configuration.
    stems : dict
        `{stem name: Audio}` of the stems the family asked for (those present).
    beats, downbeats : ndarray or None
        The beat grid in seconds, when the family needs it (or a family before it in
        `mir analyze` set it).
    out_dir : Path or None
        The track folder, where a family writes its sidecar files (`.BEATS_GRID`,
        `.CHORDS`); None writes none.
    values : dict
        The stored values of the assets the family `reads` (in `mir analyze`: every value
        computed before it).
    series : dict
        Frame series a family hands on for the whole-track time series
        (`beat_activation_ts`, ...), stored by the asset.
    """

    def __init__(
        self,
        audio: Audio | Callable[[], Audio],
        config: MasterConfig,
        *,
        stems: dict[str, Audio] | None = None,
        beats: np.ndarray | None = None,
        downbeats: np.ndarray | None = None,
        out_dir: Path | None = None,
        values: dict[str, Any] | None = None,
    ):
        self._audio = audio
        self.config = config
        self.stems = dict(stems or {})
        self.beats = beats
        self.downbeats = downbeats
        self.out_dir = out_dir
        self.values = dict(values or {})
        self.series: dict[str, np.ndarray] = {}

    @property
    def audio(self) -> Audio:
        """The decoded full mix, decoded on this first read when it was given as a
        function."""
        if callable(self._audio):
            self._audio = self._audio()
        return self._audio


def analysable(compute: Callable[[Track], dict]) -> Callable[[Track], dict]:
    """`compute` refusing a track (or one of its stems) shorter than the shortest analysis
    with an :class:`~mir.errors.AudioError` naming its file, as the door does
    (:func:`mir.audio.check_duration`): no library error from an empty frame.

    Parameters
    ----------
    compute : callable
        A family's `compute(track: Track) -> dict`.

    Returns
    -------
    callable
        `compute`, wrapped: the same signature, name and docstring.
    """
    import functools

    from mir.audio import check_duration

    @functools.wraps(compute)
    def checked(track: Track) -> dict:
        for audio in (track.audio, *track.stems.values()):
            check_duration(audio.path or "<audio>", audio.n_samples, audio.sr)
        return compute(track)

    return checked


def resolve(path: str | Callable) -> Any:
    """The object a dotted path names.

    Parameters
    ----------
    path : str or callable
        `"package.module:attribute"` (the attribute may be dotted, `"mod:Class.method"`;
        without one, the module), or the object itself.

    Returns
    -------
    object
        The named object, the module imported; a callable given is returned as is.
    """
    if not isinstance(path, str):
        return path
    module, _, attribute = path.partition(":")
    obj = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Family:
    """One feature family: one asset of a track, declared once.

    Attributes
    ----------
    name : str
        The asset, its DuckDB table and its `features:` switch.
    group : str
        The asset group in the UI.
    version : str
        The code version: move it whenever the family's results change (tests/
        test_versions.py fails when its code changed and it did not); Dagster then marks
        this asset and its consumers stale, and `mir run` recomputes exactly those.
    keys : tuple of Feature
        Every key it returns.
    description : str
        What it computes and how (the asset's description in the UI).
    compute : str or callable, optional
        `compute(track: Track) -> dict` (or its dotted path): families with one run in
        `mir analyze` (when they need no model) and get a generated asset. Families
        without one have an asset module of their own (their work needs the run: a
        model loaded once, the feature store, other tracks).
    beats : bool
        Needs the beat grid (its asset depends on `beat_grid`).
    stems : tuple of str
        Stems it reads: required (its asset depends on `stems`, and `mir analyze` runs it
        only with all of them), or used when present if `stems_required` is false.
    stems_required : bool
        Whether the family needs all of its `stems` (True, the default) or only uses
        those present (False).
    consumers : frozenset
        Which of `crops` (each crop's `.INFO` and the dataset sidecars inherit its keys),
        `statistics` (`feature_statistics` reads its table) and `captions` (the caption
        reads its keys) read its values: they depend on it.
    reads : tuple of str
        Other assets whose stored values of the track it reads (`Track.values`; its asset
        depends on them).
    model : ModelNeed or None
        The model it needs; the manifest (models/manifest.yaml) lists the files, their
        licence and where they come from, by this family's name.
    program : str or callable, optional
        `check(config)` (or its dotted path) that raises a :class:`~mir.errors.MirError`
        naming what to install when a program it runs is missing.
    gpu : bool, str or callable
        Whether it runs on the GPU resource and holds the GPU pool; or a predicate of the
        configuration (or its dotted path) that says so.
    partitioned : bool
        False for a library-wide asset (the statistics).
    code : tuple of str
        Dotted paths of the code its results come from beyond `compute` (the roots of its
        fingerprint in :mod:`mir.versions`).
    kinds : frozenset
        The UI's kind tags.
    """

    name: str
    group: str
    version: str
    keys: tuple[Feature, ...]
    description: str = ""
    compute: str | Callable[[Track], dict] | None = None
    beats: bool = False
    stems: tuple[str, ...] = ()
    stems_required: bool = True
    consumers: frozenset[str] = frozenset({"crops", "statistics"})
    reads: tuple[str, ...] = ()
    model: ModelNeed | None = None
    program: str | Callable | None = None
    gpu: bool | str | Callable = False
    partitioned: bool = True
    code: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset({"duckdb"})

    def __post_init__(self):
        unknown = set(self.consumers) - set(CONSUMERS)
        if unknown:
            raise ValueError(f"{self.name}: unknown consumers {sorted(unknown)}")
        names = [f.key for f in self.keys]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a key is declared twice")
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "consumers", frozenset(self.consumers))
        object.__setattr__(self, "kinds", frozenset(self.kinds))

    @property
    def key_names(self) -> list[str]:
        """The names of its keys, in declaration order."""
        return [f.key for f in self.keys]

    @property
    def needs_stems(self) -> bool:
        """Whether it runs only with all of its `stems` (it names some, all required)."""
        return bool(self.stems) and self.stems_required

    @property
    def in_analysis(self) -> bool:
        """Whether `mir analyze` runs it: it has a computation and needs no model."""
        return self.compute is not None and self.model is None

    def uses_gpu(self, cfg: MasterConfig) -> bool:
        """Whether the family holds the GPU pool under `cfg`.

        Parameters
        ----------
        cfg : MasterConfig
            The pipeline configuration (a `gpu` predicate reads it).

        Returns
        -------
        bool
        """
        if isinstance(self.gpu, bool):
            return self.gpu
        return bool(resolve(self.gpu)(cfg))

    def check_requirements(self, cfg: MasterConfig) -> None:
        """Raise :class:`~mir.errors.ModelNotFound` when its model files are not in place,
        or the program check's error when a program it runs is missing.

        Parameters
        ----------
        cfg : MasterConfig
            The pipeline configuration (where the model paths are set).

        Raises
        ------
        ModelNotFound
            Naming the expected file and its configuration key.
        MirError
            From the `program` check: naming what to install.
        """
        if self.model is not None:
            resolve(self.model.check)(cfg)
        if self.program is not None:
            resolve(self.program)(cfg)

    def feature(self, key: str) -> Feature | None:
        """The declaration of `key` (a pattern's for the keys it stands for; the family's
        :attr:`undefined_key` too).

        Parameters
        ----------
        key : str
            A key of the family's result.

        Returns
        -------
        Feature or None
            None for a key the family does not declare.
        """
        for f in self.keys:
            if f.matches(key):
                return f
        if key == self.undefined_key:
            return Feature(
                key,
                kind="labels",
                description=f"why values of {self.name} are undefined for this track",
                optional=True,
                crops=False,
            )
        return None

    def inherited_by_crops(self, key: str) -> bool:
        """Whether each training crop inherits `key`.

        Parameters
        ----------
        key : str
            A key of the family's result.

        Returns
        -------
        bool
            The key's own `crops` when it sets one, else whether `crops` is among the
            family's `consumers`.
        """
        f = self.feature(key)
        if f is not None and f.crops is not None:
            return f.crops
        return "crops" in self.consumers

    @property
    def undefined_key(self) -> str:
        """The key holding `{key: reason}` for the values undefined for a track."""
        return f"{self.name}_undefined"

    def finish(self, values: Mapping[str, Any]) -> dict:
        """A result as it is stored: undefined (or non-finite) values as None, their
        reasons under :attr:`undefined_key` (present only when there are some).

        Parameters
        ----------
        values : mapping
            `{key: value}` as the computation returned them.

        Returns
        -------
        dict
            The values, with `{key: reason}` under :attr:`undefined_key` when some are
            undefined (:func:`undefined_values`).
        """
        out, reasons = undefined_values(values)
        if reasons:
            out[self.undefined_key] = reasons
        return out

    def run(self, track: Track) -> dict:
        r"""Compute the family's values of one track (:meth:`finish`\ ed).

        Parameters
        ----------
        track : Track
            The decoded track and what is known of it.

        Returns
        -------
        dict
            `{key: value}` as stored (:meth:`finish`).

        Raises
        ------
        TypeError
            For a family without a `compute` of its own (its asset runs it).
        """
        if self.compute is None:
            raise TypeError(f"{self.name} has no computation of its own: its asset runs it")
        return self.finish(resolve(self.compute)(track))

    def undeclared(self, values: Mapping[str, Any]) -> list[str]:
        """Keys of `values` the family does not declare.

        Parameters
        ----------
        values : mapping
            A result of the family.

        Returns
        -------
        list of str
            In the order of `values`; empty when every key is declared.
        """
        return [k for k in values if self.feature(k) is None]

    def missing(self, values: Mapping[str, Any]) -> list[str]:
        """Declared keys (neither optional nor patterns) absent from `values`.

        Parameters
        ----------
        values : mapping
            A result of the family.

        Returns
        -------
        list of str
            In declaration order; empty when every required key is there.
        """
        return [
            f.key for f in self.keys if not f.optional and not f.pattern and f.key not in values
        ]


def by_name(families: Iterable[Family]) -> dict[str, Family]:
    """The families by name.

    Parameters
    ----------
    families : iterable of Family

    Returns
    -------
    dict
        `{name: Family}`, in the order given.

    Raises
    ------
    ValueError
        When two families have one name.
    """
    out: dict[str, Family] = {}
    for family in families:
        if family.name in out:
            raise ValueError(f"two families named {family.name!r}")
        out[family.name] = family
    return out
