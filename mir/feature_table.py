"""The feature table: every numeric key with its range, unit and meaning.

One table drives the range checks shown in the Dagster UI, the DuckDB column comments
and the asset descriptions. Ranges are those the extractors really produce (the
original's declared ranges are kept where they hold, widened where real music exceeds
them: spectral skewness/kurtosis of tonal material, the -70 LUFS floor, onset strengths
of drum stems).
"""

from __future__ import annotations

from dataclasses import dataclass

STEMS = ("drums", "bass", "other", "vocals")
RHYTHM_STEMS = ("drums", "bass", "other")
HARMONIC_STEMS = ("bass", "other")
TRANSCRIPTION_STEMS = ("bass", "other")


@dataclass(frozen=True)
class Feature:
    key: str
    min: float
    max: float
    unit: str
    description: str

    def comment(self) -> str:
        unit = f" [{self.unit}]" if self.unit else ""
        return f"{self.description}{unit}, range {self.min:g}..{self.max:g}"


def _table() -> dict[str, Feature]:
    rows: list[Feature] = [
        # source
        Feature("duration_s", 0, 86400, "s", "duration of the full mix"),
        Feature("sample_rate", 1000, 768000, "Hz", "sample rate of the original"),
        Feature("channels", 1, 32, "", "channel count of the original"),
        # dataset hygiene (audio_quality)
        Feature(
            "lossy_cutoff_hz",
            0,
            24000,
            "Hz",
            "where a lossy encoder's low-pass ends the spectrum (null: none found)",
        ),
        Feature("clipped_runs", 0, 1e9, "", "runs of >= 3 consecutive full-scale samples"),
        Feature("clipped_ratio", 0, 1, "", "share of the samples in clipped runs"),
        Feature("silence_ratio", 0, 1, "", "share of the duration in >= 1 s of digital silence"),
        Feature(
            "duplicate_similarity",
            0,
            1,
            "",
            "fingerprint similarity to the copy kept (1 - bit error rate)",
        ),
        # metadata
        Feature("track_metadata_year", 1000, 2100, "", "year from the file's tags"),
        Feature("release_year", 1000, 2100, "", "release year of the best lookup match"),
        Feature("metadata_lookup_score", 0, 1, "", "score of the best lookup candidate"),
        Feature("metadata_lookup_runner_up_score", 0, 1, "", "score of the second-best candidate"),
        # classification (VGGish heads)
        Feature("danceability", 0, 1, "", "probability the track is danceable"),
        Feature("atonality", 0, 1, "", "probability the track is atonal"),
        Feature("voice_probability", 0, 1, "", "probability of singing voice"),
        Feature("instrumental_probability", 0, 1, "", "probability the track is instrumental"),
        Feature("female_probability", 0, 1, "", "probability the voice is female (vocals stem)"),
        Feature("male_probability", 0, 1, "", "probability the voice is male (vocals stem)"),
        # aesthetics (Audiobox Aesthetics)
        Feature("content_enjoyment", 1, 10, "", "Audiobox Aesthetics content enjoyment (CE)"),
        Feature("content_usefulness", 1, 10, "", "Audiobox Aesthetics content usefulness (CU)"),
        Feature(
            "production_complexity", 1, 10, "", "Audiobox Aesthetics production complexity (PC)"
        ),
        Feature("production_quality", 1, 10, "", "Audiobox Aesthetics production quality (PQ)"),
        # tempo and beats
        Feature(
            "bpm",
            30,
            300,
            "BPM",
            "track tempo: the consensus of the beat grid, madmom and Essentia, its octave "
            "chosen from the onsets at the beats and half-beats (bpm_source names the "
            "agreeing sources)",
        ),
        Feature(
            "bpm_confidence",
            0,
            1,
            "",
            "share of the tempo sources that agree with bpm up to an octave, halved when "
            "nothing but the prior chose the octave",
        ),
        Feature(
            "bpm_madmom",
            0,
            300,
            "BPM",
            "madmom TempoEstimationProcessor on the beat activation (0 = none)",
        ),
        Feature(
            "bpm_essentia",
            0,
            300,
            "BPM",
            "Essentia RhythmExtractor2013 multifeature tempo (0 = none)",
        ),
        Feature("beat_count", 0, 1_000_000, "", "beats in the beat grid"),
        Feature("beat_regularity", 0, 1, "s", "std of inter-beat intervals (1 = undefined)"),
        Feature(
            "bpm_is_defined", 0, 1, "", "1 when the beat grid is steady enough to define a tempo"
        ),
        Feature(
            "beats_per_bar", 0, 4, "", "bar length chosen by the downbeat tracker (0 = unknown)"
        ),
        Feature("downbeat_count", 0, 1_000_000, "", "bars in the grid"),
        # onsets and rhythm
        Feature("onset_count", 0, 10_000_000, "", "onsets in the full mix"),
        Feature("onset_density", 0, 50, "1/s", "onsets per second"),
        Feature("onset_strength_mean", 0, 50, "", "mean onset-envelope value at the onset peaks"),
        Feature("onset_strength_std", 0, 50, "", "std of onset-envelope values at the onset peaks"),
        Feature("syncopation", 0, 1, "", "share of onsets farther than 70 ms from every beat"),
        Feature("on_beat_ratio", 0, 1, "", "share of onsets within 70 ms of a beat"),
        Feature(
            "rhythmic_complexity",
            0,
            1,
            "",
            "mean of IOI-histogram entropy/5 and IOI CV/2, each capped at 1",
        ),
        Feature("rhythmic_evenness", 0, 1, "", "1 / (1 + CV of inter-onset intervals)"),
        Feature("ioi_mean", 0, 60, "s", "mean inter-onset interval"),
        Feature("ioi_std", 0, 60, "s", "std of inter-onset intervals"),
        # loudness
        Feature("lufs", -70, 0, "LUFS", "integrated loudness, ITU-R BS.1770-4 (-70 = silence)"),
        Feature("lra", 0, 50, "LU", "loudness range, EBU Tech 3342"),
        # spectral
        Feature(
            "spectral_flatness", 0, 1, "", "median spectral flatness (geometric / arithmetic mean)"
        ),
        Feature("spectral_flux", 0, 10, "", "median L2 spectral flux between frames"),
        Feature(
            "spectral_skewness",
            -5,
            200,
            "",
            "median skewness of the magnitude spectrum over bin index",
        ),
        Feature(
            "spectral_kurtosis",
            -3,
            50_000,
            "",
            "median excess kurtosis of the magnitude spectrum over bin index",
        ),
        Feature(
            "saturation_ratio",
            0,
            1,
            "",
            "share of the duration with the envelope at >= 0.95 full scale",
        ),
        Feature("saturation_count", 0, 1_000_000, "", "number of near-full-scale regions"),
        Feature("rms_energy_bass", -60, 0, "dBFS", "RMS of the 20-120 Hz band"),
        Feature("rms_energy_body", -60, 0, "dBFS", "RMS of the 120-600 Hz band"),
        Feature("rms_energy_mid", -60, 0, "dBFS", "RMS of the 600-2500 Hz band"),
        Feature("rms_energy_air", -60, 0, "dBFS", "RMS of the 2500-22000 Hz band"),
        # harmonic
        Feature(
            "tonic",
            0,
            11,
            "pitch class",
            "key tonic, C = 0: the consensus of Essentia Key (edmm, edma) and madmom's key "
            "CNN, the tonic chord naming it among close keys (key_source names the opinions)",
        ),
        Feature("tonic_strength", 0, 1, "", "strength of the edmm profile's key (Essentia Key)"),
        Feature(
            "key_confidence",
            0,
            1,
            "",
            "mean mir_eval weighted score of the key against each key opinion",
        ),
        # chords (madmom chord recogniser + CRF, 10 frames per second)
        Feature("chord_count", 0, 1_000_000, "", "chord segments (not 'N') in .CHORDS"),
        Feature(
            "chord_change_rate",
            0,
            600,
            "1/min",
            "changes to a different chord per minute (at most one per 0.1 s frame)",
        ),
    ]
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    for i, name in enumerate(names):
        rows.append(Feature(f"chroma_{i}", 0, 1, "", f"mean CQT chroma of {name}, summing to 1"))
        rows.append(Feature(f"hpcp_{i}", 0, 1, "", f"mean HPCP of {name}, max bin = 1"))
    for i in range(12):
        part = "real" if i % 2 == 0 else "imaginary"
        rows.append(
            Feature(
                f"tiv_{i}", -1, 1, "", f"tonal interval vector, coefficient {i // 2 + 1} ({part})"
            )
        )
    for key in ("brightness", "roughness", "hardness", "depth", "booming", "sharpness", "warmth"):
        rows.append(Feature(key, 0, 100, "", f"Audio Commons timbral {key}"))
    rows.append(
        Feature(
            "reverberation", 0, 100, "%", "Audio Commons probability of reverberant content x 100"
        )
    )
    for stem in STEMS:
        rows.append(
            Feature(f"lufs_{stem}", -70, 0, "LUFS", f"integrated loudness of the {stem} stem")
        )
        rows.append(Feature(f"lra_{stem}", 0, 50, "LU", f"loudness range of the {stem} stem"))
    for stem in RHYTHM_STEMS:
        rows += [
            Feature(
                f"onset_density_average_{stem}",
                0,
                50,
                "1/s",
                f"mean onset density of the {stem} stem over 4 s windows",
            ),
            Feature(
                f"onset_density_variance_{stem}",
                0,
                2500,
                "1/s^2",
                f"variance of the {stem} stem's window onset densities",
            ),
            Feature(
                f"syncopation_{stem}",
                0,
                1,
                "",
                f"strength-weighted share of {stem} onsets off the beats",
            ),
            Feature(
                f"rhythmic_complexity_{stem}", 0, 1, "", f"rhythmic complexity of the {stem} stem"
            ),
            Feature(f"rhythmic_evenness_{stem}", 0, 1, "", f"rhythmic evenness of the {stem} stem"),
        ]
    for stem in HARMONIC_STEMS:
        rows += [
            Feature(
                f"harmonic_movement_{stem}",
                0,
                1,
                "",
                f"mean chroma change between frames of the {stem} stem",
            ),
            Feature(
                f"harmonic_variance_{stem}",
                0,
                1,
                "",
                f"mean temporal variance of the {stem} stem's chroma / 0.1",
            ),
        ]
    rows.append(
        Feature("transcription_drums_notes", 0, 1_000_000, "", "notes in drums_adtof.mid (ADTOF)")
    )
    for drum in ("kick", "snare", "tom", "hihat", "cymbal"):
        rows.append(
            Feature(
                f"transcription_drums_{drum}_notes",
                0,
                1_000_000,
                "",
                f"{drum} notes in drums_adtof.mid (ADTOF)",
            )
        )
    for stem in TRANSCRIPTION_STEMS:
        rows += [
            Feature(
                f"transcription_{stem}_notes",
                0,
                1_000_000,
                "",
                f"notes in {stem}_basic_pitch.mid (basic-pitch)",
            ),
            Feature(
                f"transcription_{stem}_pitch_min",
                0,
                127,
                "MIDI note",
                f"lowest note of the {stem} transcription",
            ),
            Feature(
                f"transcription_{stem}_pitch_max",
                0,
                127,
                "MIDI note",
                f"highest note of the {stem} transcription",
            ),
        ]
    return {f.key: f for f in rows}


FEATURES: dict[str, Feature] = _table()
#: keys that come from tags and online lookups, not from the audio
METADATA_KEYS = frozenset(
    {
        "track_metadata_year",
        "release_year",
        "metadata_lookup_score",
        "metadata_lookup_runner_up_score",
    }
)
#: keys that need a classification model (and a vocals stem for the gender pair)
MODEL_KEYS = frozenset(
    {
        "danceability",
        "atonality",
        "voice_probability",
        "instrumental_probability",
        "female_probability",
        "male_probability",
    }
)
#: keys of the aesthetics model (Audiobox Aesthetics checkpoint)
AESTHETICS_KEYS = frozenset(
    {"content_enjoyment", "content_usefulness", "production_complexity", "production_quality"}
)
#: keys of the transcription assets (drums need the ADTOF weights; all need stems)
TRANSCRIPTION_KEYS = frozenset(k for k in FEATURES if k.startswith("transcription_"))
#: keys of the audio_quality asset (fpcalc; some are null where nothing was found)
QUALITY_KEYS = frozenset(
    {
        "lossy_cutoff_hz",
        "clipped_runs",
        "clipped_ratio",
        "silence_ratio",
        "duplicate_similarity",
    }
)
#: keys of the chords asset (its own asset: `mir analyze` does not compute them)
CHORD_KEYS = frozenset({"chord_count", "chord_change_rate"})
#: keys every analysed track has
AUDIO_FEATURES = (
    frozenset(FEATURES)
    - METADATA_KEYS
    - MODEL_KEYS
    - AESTHETICS_KEYS
    - TRANSCRIPTION_KEYS
    - CHORD_KEYS
    - QUALITY_KEYS
)


def declare(features) -> None:
    """Add a feature module's keys to the table (:func:`mir_assets.runtime.feature_asset_args`
    calls it with the module's declarations). A key the table already holds must be
    declared the same way: one key, one meaning."""
    for feature in features:
        known = FEATURES.get(feature.key)
        if known is not None and known != feature:
            raise ValueError(
                f"feature {feature.key!r} is declared twice, differently: {known} and {feature}"
            )
        FEATURES[feature.key] = feature


def out_of_range(values: dict) -> dict[str, float]:
    """The numeric values of `values` outside their declared range (key -> value)."""
    bad = {}
    for key, value in values.items():
        feature = FEATURES.get(key)
        if feature is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not (feature.min <= value <= feature.max):
            bad[key] = value
    return bad


def comments(keys) -> dict[str, str]:
    """DuckDB column comments for `keys` that the table knows."""
    return {k: FEATURES[k].comment() for k in keys if k in FEATURES}
