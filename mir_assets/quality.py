"""audio_quality: what keeps a track out of the training set (duplicates, fake lossless,
clipping, digital silence, too short), and the library's duplicate groups.

The flags go to `.INFO` and the `audio_quality` table like any feature. The fingerprints
live in their own table, `audio_fingerprints` (the feature store only: a 5-minute track's
2,400 items would otherwise be copied into its `.INFO` and from there into every crop's), one
row per track with what decides which copy is kept and that decision:

    track_id, duration_s, lossless, clipped, bitrate_kbps, sample_rate,
    fingerprint (BLOB, little-endian uint32), duplicate_of, duplicate_similarity

A new track is compared with the stored tracks of similar duration (within
:data:`mir.quality.DURATION_TOLERANCE`) whose fingerprints share exact items with its
own, so its cost grows linearly with the library (0.7 s for 1,000 candidates). Its
group is settled, and the decision of every member written, under the feature store's
lock in one transaction: two runs never decide the same group at once, and a better copy
arriving later turns the one kept so far into its duplicate (that track's `audio_quality`
row and `.INFO` are rewritten by the later run).
"""

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from dagster import AssetExecutionContext, MetadataValue

from mir import quality
from mir.separation.files import LOSSLESS, mp3_bitrate
from mir_assets.runtime import decoded, for_each_track, full_mix_path
from resources.settings import PipelineSettings
from store.tables import FeatureTables

QUALITY_TABLE = "audio_quality"
FINGERPRINTS_TABLE = "audio_fingerprints"

_COPY_COLUMNS = "track_id, duration_s, lossless, clipped, bitrate_kbps, sample_rate, fingerprint"


_FINGERPRINT_COLUMNS = [
    ("track_id", "VARCHAR"), ("duration_s", "DOUBLE"), ("lossless", "BOOLEAN"),
    ("clipped", "BOOLEAN"), ("bitrate_kbps", "INTEGER"), ("sample_rate", "INTEGER"),
    ("fingerprint", "BLOB"), ("duplicate_of", "VARCHAR"), ("duplicate_similarity", "DOUBLE"),
    ("fingerprinted_at", "TIMESTAMP"),
]  # fmt: skip


def _copy(row: tuple) -> tuple[quality.Copy, np.ndarray]:
    track_id, duration_s, lossless, clipped, bitrate, sample_rate, blob = row
    copy = quality.Copy(
        track_id, bool(lossless), bool(clipped), int(bitrate), int(sample_rate), duration_s
    )
    return copy, quality.fingerprint_from_bytes(blob)


Decision = tuple[str | None, float | None]


def group_duplicates(
    tables: FeatureTables,
    copy: quality.Copy,
    items: np.ndarray,
    *,
    threshold: float = quality.DUPLICATE_SIMILARITY,
    tolerance: float = quality.DURATION_TOLERANCE,
) -> dict[str, Decision]:
    """Store a track's fingerprint and settle the duplicate group it belongs to.

    The group: the track, the stored tracks of similar duration whose fingerprints are at
    least `threshold` similar to its own, and the tracks already marked duplicates of
    any of them. Its :func:`mir.quality.keeper` is kept; every other member at least
    `threshold` similar to the keeper becomes its duplicate.

    Returns
    -------
    dict
        `{track id: (duplicate_of or None, similarity to the keeper or None)}` for every
        member of the group (only the track itself when it has no copy).
    """
    me = copy.track_id
    members: dict[str, tuple[quality.Copy, np.ndarray]] = {me: (copy, items)}
    similarity: dict[frozenset, float] = {}
    with tables.connect(lock=FINGERPRINTS_TABLE) as con:
        tables.create_table(con, FINGERPRINTS_TABLE, _FINGERPRINT_COLUMNS, ("track_id",))
        con.begin()
        if quality.comparable(items):
            screen = quality.ItemScreen(items)
            candidates = con.execute(
                f"SELECT {_COPY_COLUMNS} FROM {FINGERPRINTS_TABLE} "
                "WHERE track_id <> ? AND duration_s BETWEEN ? AND ?",
                [me, copy.duration_s * (1 - tolerance), copy.duration_s / (1 - tolerance)],
            ).fetchall()
            for row in candidates:
                other, other_items = _copy(row)
                if not screen.passes(other_items) or not quality.comparable(other_items):
                    continue
                s = quality.fingerprint_similarity(items, other_items)
                if s >= threshold:
                    members[other.track_id] = (other, other_items)
                    similarity[frozenset((me, other.track_id))] = s
        ids = list(members)
        for row in con.execute(  # the rest of their groups (and of this track's old one)
            f"SELECT {_COPY_COLUMNS} FROM {FINGERPRINTS_TABLE} "
            f"WHERE {tables.in_list('duplicate_of')} AND NOT ({tables.in_list('track_id')})",
            [ids, ids],
        ).fetchall():
            other, other_items = _copy(row)
            members[other.track_id] = (other, other_items)
        best = quality.keeper(c for c, _ in members.values()).track_id
        decisions: dict[str, Decision] = {best: (None, None)}
        for track_id, (_, its) in members.items():
            if track_id == best:
                continue
            pair = frozenset((track_id, best))
            if pair not in similarity:
                similarity[pair] = quality.fingerprint_similarity(its, members[best][1])
            s = similarity[pair]
            decisions[track_id] = (best, s) if s >= threshold else (None, None)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        row = [me, copy.duration_s, copy.lossless, copy.clipped, copy.bitrate_kbps,
               copy.sample_rate, quality.fingerprint_to_bytes(items), *decisions[me], now]  # fmt: skip
        tables.insert_rows(
            con,
            FINGERPRINTS_TABLE,
            [row],
            key=("track_id",),
            names=[name for name, _ in _FINGERPRINT_COLUMNS],
            types=[t for _, t in _FINGERPRINT_COLUMNS],
        )
        others = [[*d, t] for t, d in decisions.items() if t != me]
        if others:
            con.executemany(
                f"UPDATE {FINGERPRINTS_TABLE} SET duplicate_of = ?, duplicate_similarity = ? "
                "WHERE track_id = ?",
                others,
            )
        con.commit()
    return decisions


def stored_duplicates(
    tables: FeatureTables, track_ids: list[str] | None = None
) -> dict[str, Decision]:
    """`{track id: (duplicate_of or None, similarity)}` as `audio_fingerprints` holds them
    (the decision of record: it is written under the lock with the whole group)."""
    with tables.connect(read_only=True) as con:
        if not tables.columns(con, FINGERPRINTS_TABLE):
            return {}
        sql = f"SELECT track_id, duplicate_of, duplicate_similarity FROM {FINGERPRINTS_TABLE}"
        params: list = []
        if track_ids is not None:
            sql += " WHERE " + tables.in_list("track_id")
            params = [list(track_ids)]
        return {t: (d, s) for t, d, s in con.execute(sql, params).fetchall()}


def _duplicate_values(decision: Decision | None) -> dict[str, Any]:
    duplicate_of, similarity = decision or (None, None)
    return {
        "duplicate_of": duplicate_of or "",
        "duplicate_similarity": round(similarity, 4) if duplicate_of else None,
    }


def audio_quality(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """Dataset hygiene flags of the full mix: `fake_lossless` with `lossy_cutoff_hz` (the
    spectrum ends at an encoder's low-pass), `clipped` with `clipped_runs` and
    `clipped_ratio` (runs of >= 3 full-scale samples), `silent` with `silence_ratio`
    (digital silence), `too_short` (shorter than one crop), and `duplicate_of` with
    `duplicate_similarity` (the same recording as a better copy, by Chromaprint
    fingerprint). `export.exclude` keeps flagged tracks out of `sat_dataset`."""
    min_seconds = quality.min_crop_seconds(settings.config.crops.length_samples)
    regrouped: dict[str, Decision] = {}

    def compute(track_id: str) -> dict:
        source = source_audio[track_id]
        path = full_mix_path(settings, track_id, source)
        lossless = str(source["format"]).lower() in LOSSLESS
        report = quality.assess(decoded(path), lossless=lossless, min_seconds=min_seconds)
        copy = quality.Copy(
            track_id,
            lossless=lossless and not report.fake_lossless,
            clipped=report.clipped,
            bitrate_kbps=0 if lossless else mp3_bitrate(path),
            sample_rate=int(source["sample_rate"]),
            duration_s=float(source["duration_s"]),
        )
        decisions = group_duplicates(settings.tables, copy, report.fingerprint)
        regrouped.update({t: d for t, d in decisions.items() if t != track_id})
        return {**report.values(), **_duplicate_values(decisions[track_id])}

    result = for_each_track(context, settings, compute)
    # copies processed before, whose group a track of this run changed: rewrite their rows
    run = set(context.partition_keys)
    outside = [t for t in regrouped if t not in run]
    updated = []
    for track_id, row in (settings.tables.read(QUALITY_TABLE, outside) if outside else {}).items():
        new = _duplicate_values(regrouped[track_id])
        if any(row.get(k) != v for k, v in new.items()):
            result[track_id] = {**row, **new}
            updated.append(track_id)
    # the decision of record, in case a concurrent run regrouped a track of this one
    for track_id, decision in stored_duplicates(settings.tables, list(result)).items():
        result[track_id].update(_duplicate_values(decision))
    context.add_output_metadata(
        {
            "duplicates": MetadataValue.json(
                {t: r["duplicate_of"] for t, r in result.items() if r["duplicate_of"]}
            ),
            "regrouped_tracks": MetadataValue.json(updated),
            "fingerprints_table": MetadataValue.text(FINGERPRINTS_TABLE),
        }
    )
    return result


# -- the dataset filter (sat_dataset) ---------------------------------------------------


def dataset_exclusions(settings: PipelineSettings) -> dict[str, str]:
    """`{track id: why}` for every track whose stored `audio_quality` values fall in a
    category of `export.exclude` (duplicates as `audio_fingerprints` decided them)."""
    exclude = settings.config.export.exclude
    if not exclude:
        return {}
    rows = settings.tables.read(QUALITY_TABLE)
    duplicates = stored_duplicates(settings.tables) if "duplicate" in exclude else {}
    out = {}
    for track_id, row in rows.items():
        if track_id in duplicates:
            row = {**row, **_duplicate_values(duplicates[track_id])}
        reason = quality.exclusion_reason(row, exclude)
        if reason:
            out[track_id] = reason
    return out


def exclude_from_dataset(settings: PipelineSettings, root: Path) -> dict[str, str]:
    """:func:`dataset_exclusions`, with the dataset folder of each such track removed
    (every one of them, not only this run's: a copy that became a duplicate when a
    better one arrived leaves the dataset at the next `sat_dataset` run)."""
    excluded = dataset_exclusions(settings)
    root = Path(root).resolve()
    for track_id in excluded:
        folder = (root / track_id).resolve()
        if folder.parent == root and folder.is_dir():
            shutil.rmtree(folder)
    return excluded
