"""The built-in feature families, each declared once (:class:`mir.family.Family`).

The order is the pipeline's: a family comes after the families it reads. Adding a
built-in feature is three places: its function (in the `mir` module of its concept), its
declaration here, its test. `tests/test_versions.py` holds each family's code to its
`version` (mir/families.lock).
"""

from __future__ import annotations

from mir.family import Family, Feature, ModelNeed, flag, text

#: every stem a separator gives, and the stems each per-stem family reads
STEMS = ("drums", "bass", "other", "vocals")
RHYTHM_STEMS = ("drums", "bass", "other")
HARMONIC_STEMS = ("bass", "other")
TRANSCRIPTION_STEMS = ("bass", "other")
DRUM_CLASSES = ("kick", "snare", "tom", "hihat", "cymbal")
TIMBRAL_KEYS = (
    "brightness", "roughness", "hardness", "depth", "booming", "sharpness", "warmth",
    "reverberation",
)  # fmt: skip
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FREQUENCY_BANDS = {"bass": (20, 120), "body": (120, 600), "mid": (600, 2500), "air": (2500, 22000)}

ALL = frozenset({"crops", "statistics", "captions"})
NONE: frozenset[str] = frozenset()


# -- the families ---------------------------------------------------------------------

SOURCE = Family(
    name="source_audio",
    group="source",
    version="2",
    description="The original file copied to `<library>/<Track Name>/full_mix.<ext>` (the "
    "original is only read) and what it is. The file must decode: a broken file fails "
    "here, before any feature runs.",
    keys=(
        Feature("full_mix", kind="file", description="the copy's file name", crops=False),
        text("source_path", "the original, relative to paths.inbox when there", crops=False),
        text("sha256", "SHA-256 of the original's bytes", crops=False),
        Feature("duration_s", 0, 86400, "s", "duration of the full mix", crops=True),
        Feature("sample_rate", 1000, 768000, "Hz", "sample rate of the original", crops=False),
        Feature("channels", 1, 32, "", "channel count of the original", crops=False),
        text("format", "the original's extension (flac, mp3, ...)", crops=False),
    ),
    consumers=NONE,
    code=("mir.audio:load_audio", "mir.tracks:file_sha256"),
    kinds=frozenset({"audio", "duckdb"}),
)

QUALITY = Family(
    name="audio_quality",
    group="source",
    version="1",
    description="Dataset hygiene flags of the full mix: `fake_lossless` with "
    "`lossy_cutoff_hz` (the spectrum ends at an encoder's low-pass), `clipped` with "
    "`clipped_runs` and `clipped_ratio`, `silent` with `silence_ratio`, `too_short` "
    "(shorter than one crop), and `duplicate_of` with `duplicate_similarity` (the same "
    "recording as a better copy, by Chromaprint fingerprint). `export.exclude` keeps "
    "flagged tracks out of `sat_dataset`. Needs `fpcalc`.",
    keys=(
        flag("fake_lossless", "a lossless file whose spectrum ends at a lossy low-pass"),
        Feature(
            "lossy_cutoff_hz",
            0,
            24000,
            "Hz",
            "where a lossy encoder's low-pass ends the spectrum (null: none found)",
        ),
        flag("clipped", "runs of full-scale samples found"),
        Feature("clipped_runs", 0, 1e9, "", "runs of >= 3 consecutive full-scale samples"),
        Feature("clipped_ratio", 0, 1, "", "share of the samples in clipped runs"),
        flag("silent", "digital silence takes most of the track"),
        Feature("silence_ratio", 0, 1, "", "share of the duration in >= 1 s of digital silence"),
        flag("too_short", "shorter than one crop"),
        text("duplicate_of", "the track kept of this recording (empty: this one is kept)"),
        Feature(
            "duplicate_similarity",
            0,
            1,
            "",
            "fingerprint similarity to the copy kept (1 - bit error rate)",
        ),
    ),
    # they describe the file, not the music: the crops do not inherit them
    consumers=frozenset({"statistics"}),
    program="mir.requirements:fpcalc_program",
    code=(
        "mir.quality:assess",
        "mir.quality:keeper",
        "mir.quality:fingerprint_similarity",
        "mir.quality:ItemScreen",
        "mir.quality:exclusion_reason",
    ),
    kinds=frozenset({"numpy", "duckdb"}),
)

METADATA = Family(
    name="track_metadata",
    group="metadata",
    version="1",
    description="`track_metadata_{artist,title,album,genre,year}` from the file's tags; "
    "with `metadata.lookup`, the best-scoring MusicBrainz/Spotify recording (duration 0.5, "
    "year 0.3, artist 0.2, at least `metadata.min_score`) with the winner's and the "
    "runner-up's scores. Answers are cached under `<library>/.cache/metadata`.",
    keys=(
        *(
            text(f"track_metadata_{k}", f"{k} from the file's tags", optional=True)
            for k in ("artist", "title", "album", "genre")
        ),
        Feature("track_metadata_year", 1000, 2100, "", "year from the file's tags", optional=True),
        flag("metadata_lookup_attempted", "an online lookup ran", optional=True),
        Feature(
            "metadata_lookup_score",
            0,
            1,
            "",
            "score of the best lookup candidate",
            optional=True,
        ),
        Feature(
            "metadata_lookup_runner_up_score",
            0,
            1,
            "",
            "score of the second-best candidate",
            optional=True,
        ),
        text(
            "metadata_lookup_source",
            "musicbrainz, spotify or none (no candidate reached metadata.min_score)",
            optional=True,
        ),
        Feature(
            "release_year",
            1000,
            2100,
            "",
            "release year of the best lookup match",
            optional=True,
        ),
        text("release_date", "release date of the best match", optional=True),
        text("album", "album of the best match", optional=True),
        text("isrc", "ISRC of the best match", optional=True),
        text("label", "record label of the best match", optional=True),
        Feature("artists", kind="list", description="artists of the best match", optional=True),
        Feature("genres", kind="list", description="genres of the best match", optional=True),
        text("musicbrainz_id", "MusicBrainz recording id of the best match", optional=True),
        text("spotify_id", "Spotify track id of the best match", optional=True),
    ),
    consumers=ALL,
    code=("mir.metadata.tags:embedded_tags", "mir.metadata.search:lookup"),
    kinds=frozenset({"musicbrainz", "duckdb"}),
)

SEPARATION = Family(
    name="stems",
    group="stems",
    version="2",
    description="`drums`, `bass`, `other`, `vocals` in the track folder (FLAC for lossless "
    "sources, MP3 otherwise), from Demucs or BS-RoFormer loaded once per run on the GPU "
    "resource. While one track is separated, the next is decoded and the previous one's "
    "stems are encoded and written.",
    keys=(
        text("stem_backend", "demucs or bs_roformer"),
        text("stem_model", "the separation model"),
        text("stem_format", "the stems' file format"),
        Feature("stem_sample_rate", 1000, 768000, "Hz", "the stems' sample rate"),
        flag("stems_peak_normalized", "the separator peak-normalised the stems"),
        Feature(
            "stem_quality_flagged",
            kind="list",
            description="stems found near-silent and mixed into other",
        ),
        Feature("stem_files", kind="list", description="the stem files written", crops=False),
    ),
    # the crops cut each stem with the mix
    consumers=frozenset({"crops"}),
    model=ModelNeed(check="mir.requirements:separation_model", config_key="separation.backend"),
    gpu=True,
    code=(
        "mir.separation:separate",
        "mir.separation:model_loader",
        "mir.separation.files:write_separation",
    ),
    kinds=frozenset({"pytorch", "audio", "duckdb"}),
)

BEAT_GRID = Family(
    name="beat_grid",
    group="rhythm",
    # 3: no tempo (every tempo undefined) for silence, audio under 2 s, a grid the beat
    # network does not hear; the metrical level from the drums and the networks
    version="3",
    description="Beats and downbeats (`<Track>.BEATS_GRID`, `<Track>.DOWNBEATS`) and the "
    "tempo: madmom's downbeat network and bar-pointer DBN (3/4 and 4/4), or librosa when "
    "`beats.tracker: librosa` (no downbeats). `bpm` is the consensus of the grid, madmom's "
    "tempo estimator and Essentia's RhythmExtractor2013, its octave checked against the "
    "onsets at the beats and half-beats; a grid at another tempo than the chosen one is "
    "decoded again at that tempo from the same activations.",
    keys=(
        Feature(
            "bpm",
            30,
            300,
            "BPM",
            "track tempo: the consensus of the beat grid, madmom and Essentia, its octave "
            "chosen from the onsets at the beats and half-beats (bpm_source names the "
            "agreeing sources)",
        ),
        text("bpm_source", "the tempo sources that agree with bpm"),
        Feature(
            "bpm_confidence",
            0,
            1,
            "",
            "share of the tempo sources that agree with bpm up to an octave, halved when "
            "nothing but the prior chose the octave",
        ),
        Feature(
            "bpm_madmom", 30, 300, "BPM", "madmom TempoEstimationProcessor on the beat activation"
        ),
        Feature("bpm_essentia", 30, 300, "BPM", "Essentia RhythmExtractor2013 multifeature tempo"),
        Feature("beat_count", 0, 1_000_000, "", "beats in the beat grid"),
        Feature("beat_regularity", 0, 1, "s", "std of inter-beat intervals (capped at 1)"),
        Feature(
            "bpm_is_defined", 0, 1, "", "1 when the beat grid is steady enough to define a tempo"
        ),
        Feature("beats_per_bar", 2, 16, "", "bar length chosen by the downbeat tracker"),
        Feature("downbeat_count", 0, 1_000_000, "", "bars in the grid"),
        text("beat_tracker", "the tracker that made the grid (madmom or librosa)"),
    ),
    compute="mir.analysis:beat_grid",
    consumers=ALL,
    kinds=frozenset({"madmom", "essentia", "duckdb"}),
)

RHYTHM = Family(
    name="rhythm_features",
    group="rhythm",
    # 3: undefined, not 0, without onsets or beats
    version="3",
    description="Onsets of the mix (`<Track>.ONSETS`) and their rhythm against the beat grid.",
    keys=(
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
    ),
    compute="mir.analysis:rhythm_features",
    beats=True,
    kinds=frozenset({"librosa", "duckdb"}),
)


def _stem_rhythm_keys() -> tuple[Feature, ...]:
    rows: list[Feature] = []
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
    return tuple(rows)


STEM_RHYTHM = Family(
    name="stem_rhythm",
    group="rhythm",
    # 3: undefined, not 0, without onsets or beats, or shorter than one 4 s window
    version="3",
    description="Onset density, syncopation, complexity and evenness of the drums, bass and "
    "other stems.",
    keys=_stem_rhythm_keys(),
    compute="mir.analysis:stem_rhythm",
    beats=True,
    stems=RHYTHM_STEMS,
    kinds=frozenset({"librosa", "duckdb"}),
)

LOUDNESS = Family(
    name="loudness",
    group="loudness",
    # 2: lufs undefined under one 400 ms block, lra undefined without two gated windows
    version="2",
    description="`lufs` (BS.1770-4 gated) and `lra` (EBU Tech 3342) of the full mix.",
    keys=(
        # a master louder than 0 LUFS exists: a full-scale square wave measures +6.3 on
        # two channels, +11.9 on six
        Feature("lufs", -70, 12, "LUFS", "integrated loudness, ITU-R BS.1770-4 (-70 = silence)"),
        Feature("lra", 0, 50, "LU", "loudness range, EBU Tech 3342"),
    ),
    compute="mir.analysis:loudness",
    consumers=ALL,
)

STEM_LOUDNESS = Family(
    name="stem_loudness",
    group="loudness",
    # 2: as loudness 2
    version="2",
    description="`lufs_<stem>` and `lra_<stem>` of drums, bass, other and vocals. Stems "
    "from a peak-normalising separator are not level-consistent with the mix: "
    "`stems_peak_normalized` says when that is so.",
    keys=tuple(
        f
        for stem in STEMS
        for f in (
            Feature(f"lufs_{stem}", -70, 12, "LUFS", f"integrated loudness of the {stem} stem"),
            Feature(f"lra_{stem}", 0, 50, "LU", f"loudness range of the {stem} stem"),
        )
    ),
    compute="mir.analysis:stem_loudness",
    stems=STEMS,
)

SPECTRAL = Family(
    name="spectral_features",
    group="spectral",
    # 2: the spectral shape of digital silence undefined
    version="2",
    description="Spectral flatness, flux, skewness and kurtosis (medians over 2048/512 "
    "frames of the shared STFT), near-full-scale saturation, and RMS of four bands (dBFS).",
    keys=(
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
        *(
            Feature(f"rms_energy_{band}", -60, 0, "dBFS", f"RMS of the {lo}-{hi} Hz band")
            for band, (lo, hi) in FREQUENCY_BANDS.items()
        ),
    ),
    compute="mir.analysis:spectral_features",
    kinds=frozenset({"numpy", "duckdb"}),
)


ZERO_CROSSINGS = Family(
    name="zero_crossings",
    group="spectral",
    version="1",
    description="The share of adjacent samples of the 44.1 kHz mono mix whose signs differ: "
    "high for noisy, bright or percussive audio, low for tonal bass-heavy audio.",
    keys=(
        Feature(
            "zero_crossing_rate",
            0,
            1,
            "",
            "share of adjacent samples of the mix whose signs differ",
        ),
    ),
    compute="mir.spectral:zero_crossing_rate",
    kinds=frozenset({"numpy", "duckdb"}),
)


def _harmonic_keys() -> tuple[Feature, ...]:
    rows: list[Feature] = []
    for i, name in enumerate(PITCH_CLASSES):
        rows.append(Feature(f"chroma_{i}", 0, 1, "", f"mean CQT chroma of {name}, summing to 1"))
    for i, name in enumerate(PITCH_CLASSES):
        rows.append(Feature(f"hpcp_{i}", 0, 1, "", f"mean HPCP of {name}, max bin = 1"))
    for i in range(12):
        part = "real" if i % 2 == 0 else "imaginary"
        rows.append(
            Feature(
                f"tiv_{i}", -1, 1, "", f"tonal interval vector, coefficient {i // 2 + 1} ({part})"
            )
        )
    rows += [
        Feature(
            "tonic",
            0,
            11,
            "pitch class",
            "key tonic, C = 0: the consensus of Essentia Key (edmm, edma) and madmom's key "
            "CNN, the tonic chord naming it among close keys (key_source names the opinions)",
        ),
        Feature("tonic_strength", 0, 1, "", "strength of the edmm profile's key (Essentia Key)"),
        text("tonic_scale", "major or minor"),
        Feature(
            "key_confidence",
            0,
            1,
            "",
            "mean mir_eval weighted score of the key against each key opinion",
        ),
        text("key_source", "the key opinions and which agree"),
        text("harmonic_source", "what was analysed: full_mix, or the bass and other stems"),
    ]
    return tuple(rows)


HARMONIC = Family(
    name="harmonic_features",
    group="harmonic",
    # 3: the key undefined where the pitch content names none; the chroma, HPCP and
    # TIV undefined with no pitched sound
    # 4: the tonic chord's evidence counts the chords that open and close the music
    # 5: the recognised chords (the `chords` family's) pick between close keys by the
    # chords they cover and name the tonic chord first (also the chord that both opens
    # and closes the music); the HPCP's triads second
    version="5",
    description="`chroma_0..11`, `hpcp_0..11` (bin 0 = C), `tiv_0..11` and the key, read "
    "from the bass and other stems when present, else the mix. The key is the consensus of "
    "Essentia's edmm and edma profiles and madmom's key CNN; the recognised chords move it "
    "to a close key whose chords they fit, and the tonic chord (the time it sounds, and "
    "whether it opens and closes the music, from the recognised chords, else the HPCP's "
    "triads) names it among close keys.",
    keys=_harmonic_keys(),
    compute="mir.analysis:harmonic_features",
    stems=HARMONIC_STEMS,
    stems_required=False,
    consumers=ALL,
    kinds=frozenset({"essentia", "duckdb"}),
)

STEM_HARMONIC = Family(
    name="stem_harmonic",
    group="harmonic",
    # 2: undefined for a silent stem
    version="2",
    description="`harmonic_movement_<stem>` and `harmonic_variance_<stem>` of the bass and "
    "other stems.",
    keys=tuple(
        f
        for stem in HARMONIC_STEMS
        for f in (
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
        )
    ),
    compute="mir.analysis:stem_harmonic",
    stems=HARMONIC_STEMS,
    kinds=frozenset({"librosa", "duckdb"}),
)

CHORDS = Family(
    name="chords",
    group="harmonic",
    version="1",
    description="Chord segments (`<Track>.CHORDS`: `start<TAB>end<TAB>label` per line, "
    "labels such as `C:maj`, `A:min`, `N` for none) from madmom's chord recogniser "
    "(`chords.model`: CNN or deep chroma, each with its CRF).",
    keys=(
        Feature("chord_count", 0, 1_000_000, "", "chord segments (not 'N') in .CHORDS"),
        Feature(
            "chord_change_rate",
            0,
            600,
            "1/min",
            "changes to a different chord per minute (at most one per 0.1 s frame)",
        ),
        text("chord_top", "the three longest-held chords"),
        text("chord_progression", "the most frequent run of 4 chords"),
    ),
    compute="mir.analysis:chords",
    consumers=ALL,
    kinds=frozenset({"madmom", "duckdb"}),
)

STRUCTURE = Family(
    name="structure",
    group="structure",
    version="1",
    description="Sections (`<Track>.SECTIONS`: `start`, `end`, `label`, `name`, "
    "`label_confidence`, `name_confidence`, `lufs`, `energy`, tab-separated, one section per "
    "line), every boundary a downbeat of the beat grid. Labels (A, B, ...) mark repeated "
    "material; names are intro, verse, chorus, bridge, break or outro. No model: bar-level "
    "self-similarity of harmony and timbre from the shared intermediates (mir/structure.py). "
    "A run of one track shows a picture of the sections over the short-term loudness.",
    keys=(
        Feature("section_count", 1, 100_000, "", "sections of the track in .SECTIONS"),
        text(
            "form",
            "the sections in order: intros and outros by name, the rest by repetition label "
            "(intro A B A B C B outro)",
        ),
        Feature("section_mean_seconds", 0, 86400, "s", "mean length of the track's sections"),
        text(
            "section_grid",
            "what the boundaries snap to: downbeats; beats (every 4th, a grid without bars); "
            "seconds (no beats)",
        ),
    ),
    beats=True,
    code=("mir.structure:analyze_structure", "mir.structure:write_sections"),
    kinds=frozenset({"numpy", "matplotlib", "duckdb"}),
)

TIMBRAL = Family(
    name="timbral_features",
    group="timbral",
    version="3",
    description="The Audio Commons timbral ratings (0-100) and reverberation (%), from the "
    "vectorised models of mir/timbral (after timbral_models 0.4.0) on the whole track, or "
    "on `timbral.max_seconds` of its middle when that is > 0.",
    keys=(
        *(
            Feature(key, 0, 100, "", f"Audio Commons timbral {key}")
            for key in TIMBRAL_KEYS
            if key != "reverberation"
        ),
        Feature(
            "reverberation", 0, 100, "%", "Audio Commons probability of reverberant content x 100"
        ),
    ),
    compute="mir.analysis:timbral_features",
    consumers=ALL,
)

CLASSIFICATION = Family(
    name="classification",
    group="classification",
    version="2",
    description="`essentia_genre` (Discogs 400), `essentia_mood` (56), `essentia_instrument` "
    "(40): the top 10 labels >= 0.1 as {label: probability}, every one of the 496 "
    "probabilities in the `labels` table; and the VGGish heads (gender on a present vocals "
    "stem).",
    keys=(
        Feature("essentia_genre", kind="labels", description="Discogs 400 styles, top 10"),
        Feature("essentia_mood", kind="labels", description="MTG-Jamendo moods/themes, top 10"),
        Feature(
            "essentia_instrument", kind="labels", description="MTG-Jamendo instruments, top 10"
        ),
        Feature("danceability", 0, 1, "", "probability the track is danceable"),
        Feature("atonality", 0, 1, "", "probability the track is atonal"),
        Feature("voice_probability", 0, 1, "", "probability of singing voice"),
        Feature("instrumental_probability", 0, 1, "", "probability the track is instrumental"),
        Feature(
            "female_probability",
            0,
            1,
            "",
            "probability the voice is female (vocals stem)",
            optional=True,
        ),
        Feature(
            "male_probability",
            0,
            1,
            "",
            "probability the voice is male (vocals stem)",
            optional=True,
        ),
    ),
    consumers=ALL,
    model=ModelNeed(
        check="mir.requirements:classification_models", config_key="classification.model_dir"
    ),
    gpu=True,
    code=("mir.classification:classify", "mir.classification:load_classifier"),
    kinds=frozenset({"onnx", "duckdb"}),
)

AESTHETICS = Family(
    name="aesthetics",
    group="aesthetics",
    version="1",
    description="Audiobox Aesthetics scores (1..10), the checkpoint loaded once per run on "
    "the GPU resource, `aesthetics.batch_size` tracks at a time.",
    keys=(
        Feature("content_enjoyment", 1, 10, "", "Audiobox Aesthetics content enjoyment (CE)"),
        Feature("content_usefulness", 1, 10, "", "Audiobox Aesthetics content usefulness (CU)"),
        Feature(
            "production_complexity", 1, 10, "", "Audiobox Aesthetics production complexity (PC)"
        ),
        Feature("production_quality", 1, 10, "", "Audiobox Aesthetics production quality (PQ)"),
    ),
    model=ModelNeed(check="mir.requirements:aesthetics_model", config_key="aesthetics.checkpoint"),
    gpu=True,
    code=("mir.aesthetics:score", "mir.aesthetics:load_aesthetics"),
    kinds=frozenset({"pytorch", "duckdb"}),
)

DRUM_TRANSCRIPTION = Family(
    name="drum_transcription",
    group="transcription",
    version="1",
    description="`drums_adtof.mid`: the drums stem transcribed by ADTOF's Frame_RNN (bass "
    "drum 35, snare 38, tom 47, hi-hat 42, cymbal 49), with the note counts.",
    keys=(
        Feature("transcription_drums_notes", 0, 1_000_000, "", "notes in drums_adtof.mid (ADTOF)"),
        *(
            Feature(
                f"transcription_drums_{drum}_notes",
                0,
                1_000_000,
                "",
                f"{drum} notes in drums_adtof.mid (ADTOF)",
            )
            for drum in DRUM_CLASSES
        ),
        Feature("transcription_drums_midi", kind="file", description="the MIDI file", crops=False),
    ),
    stems=("drums",),
    model=ModelNeed(check="mir.requirements:adtof_model", config_key="transcription.model_dir"),
    gpu=True,
    code=(
        "mir.transcription:transcribe_drums",
        "mir.transcription:load_adtof",
        "mir.transcription:drum_values",
    ),
    kinds=frozenset({"pytorch", "duckdb"}),
)

PITCH_TRANSCRIPTION = Family(
    name="pitch_transcription",
    group="transcription",
    version="1",
    description="`bass_basic_pitch.mid` and `other_basic_pitch.mid` (basic-pitch, with pitch "
    "bends, its model inside the package) and per stem the note count and range.",
    keys=tuple(
        f
        for stem in TRANSCRIPTION_STEMS
        for f in (
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
                f"lowest note of the {stem} transcription (null without notes)",
            ),
            Feature(
                f"transcription_{stem}_pitch_max",
                0,
                127,
                "MIDI note",
                f"highest note of the {stem} transcription (null without notes)",
            ),
            Feature(
                f"transcription_{stem}_midi",
                kind="file",
                description=f"the {stem} MIDI file",
                crops=False,
            ),
        )
    ),
    stems=TRANSCRIPTION_STEMS,
    code=(
        "mir.transcription:transcribe_notes",
        "mir.transcription:load_basic_pitch",
        "mir.transcription:note_values",
    ),
    kinds=frozenset({"onnx", "duckdb"}),
)

CAPTIONS = Family(
    name="captions",
    group="captions",
    # 3: an undefined value is left out
    version="3",
    description="`caption_template` for every track (no model: labels, tempo, key, "
    "loudness, timbre); with `music_flamingo.backend` set, `music_flamingo_<prompt key>` per "
    "configured prompt; with `music_flamingo.revision.enabled`, the short summaries. "
    "`caption` is the prompt Stable Audio Tools gets: the best model caption, else the "
    "template.",
    keys=(
        text("caption", "the prompt: the best model caption, else the template"),
        text("caption_template", "a caption made of the track's values, no model"),
        text(
            "music_flamingo_*",
            "Music Flamingo's answer to each configured prompt, the revision's summaries and "
            "the model's tag",
            optional=True,
        ),
    ),
    consumers=frozenset({"crops"}),
    model=ModelNeed(check="mir.requirements:caption_models", config_key="music_flamingo.backend"),
    gpu="mir.requirements:captions_use_gpu",
    code=(
        "mir.captions.template:template_caption",
        "mir.captions.template:caption_for",
        "mir.captions.prompts:fill_prompt",
        "mir.captions.flamingo:load_captioner",
        "mir.captions.llm:revise",
    ),
    kinds=frozenset({"llama.cpp", "duckdb"}),
)

CROPS = Family(
    name="training_crops",
    group="crops",
    # 3: a crop without a tempo holds none (was 0); its values as the families store them
    # 4: crops carry their section and may start at section starts
    # 5: a crop's key reads slices of the track's HPCP and key network map (crop_key_inputs)
    # 6: a crop's key counts the chords that open and close it (mir.key.tonic_evidence)
    # 7: a crop's key reads the track's recognised chords inside it (harmonic_features 5)
    version="7",
    description="Beat-aligned crops of the mix and its stems in `<crops>/<Track>/`, each "
    "with its own `.INFO`: bookkeeping, every track feature its families let the crops "
    "inherit, per-crop loudness, spectral and harmonic features and 256-step series.",
    keys=(
        Feature("crop_count", 0, 1e6, "", "crops written"),
        Feature("crops_removed", 0, 1e6, "", "files of an earlier cropping removed"),
        Feature("crops_rejected_silent", 0, 1e6, "", "silent crops rejected"),
        text("crops_dir", "the track's folder under paths.crops"),
        Feature("crop_seconds", 0, 1e6, "s", "seconds of audio in the crops"),
    ),
    consumers=NONE,
    gpu="mir.requirements:crops_use_gpu",
    code=("mir.dataset.crops:make_crops",),
    kinds=frozenset({"audio", "duckdb"}),
)

TIMESERIES = Family(
    name="track_timeseries",
    group="latents",
    # 3: every series the crops know: their beat and downbeat bumps on the grid
    # (beat_activations_ts, downbeat_activations_ts) and onsets_activations_ts
    # 4: the section index and the place within the section (with .SECTIONS)
    version="4",
    description="Every series of the whole track (every series the crops know, and more), "
    "each at its own rate, in the `timeseries` table and `<Track>.TIMESERIES.npz` "
    "(`__meta__` with `field_rates`): at 100 Hz madmom's beat and downbeat activations, "
    "the crops' bumps at the grid's beats and downbeats, onset envelope (and scaled to "
    "peak 1), band RMS, spectral shape, HPCP and each stem's RMS and onset envelope; at "
    "50 Hz f0 of the bass and other stems with their voiced series; at 10 Hz the chord "
    "index and the section index and place within the section; at 1 Hz the tonic.",
    keys=(
        Feature("timeseries_frames", 0, 1e9, "", "frames of the 100 Hz series"),
        Feature("timeseries_frame_rate", 1, 1000, "1/s", "frames per second of the base rate"),
        Feature("timeseries_fields", kind="list", description="the series' names"),
        Feature("timeseries_file", kind="file", description="the .TIMESERIES.npz file"),
    ),
    beats=True,
    # the stem files and the .CHORDS and .SECTIONS sidecars, when their assets ran
    reads=("stems", "chords", "structure"),
    consumers=NONE,
    code=(
        "mir.dataset.timeseries:complete_track_series",
        "mir.dataset.timeseries:write_npz",
        "mir.structure:section_series",
        "mir.spectral:band_energies_of",
        "mir.analysis:read_beat_grid",
    ),
)

LATENT_WINDOWS = Family(
    name="latent_windows",
    group="latents",
    # 2: pools the series track_timeseries 3 adds (the crops' beat, downbeat and onset
    # activations)
    version="2",
    description="Windows of T latent frames of the configured preset over every second of "
    "the track, starting on downbeats (`<Track>.LATENT_WINDOWS.csv`), and every series "
    "pooled to each window's frames (`<Track>.LATENT_WINDOWS.npz`). No model.",
    keys=(
        Feature("latent_window_count", 0, 1e6, "", "windows over the track"),
        Feature("latent_window_frames", 256, 65536, "", "latent frames per window (T)"),
        Feature(
            "latent_window_coverage", 0, 1, "", "seconds in some window / seconds of the track"
        ),
        Feature("latent_windows_file", kind="file", description="the windows manifest (CSV)"),
    ),
    beats=True,
    consumers=NONE,
    # its .SECTIONS, with latents.sections: the windows start at section starts
    reads=("structure",),
    code=(
        "mir.dataset.windows:plan_windows",
        "mir.dataset.windows:manifest_rows",
        "mir.dataset.resample:TrackSeries",
        "mir.dataset.resample:padding_mask",
    ),
    kinds=frozenset({"csv", "numpy"}),
)

LATENTS = Family(
    name="latents",
    group="latents",
    # 2: one corpus per source of latents.sources (<source>/, <source>_ctrl/,
    # <source>_sat_pre_encoded.json; items.json keeps a plan per source); the control
    # normalisation from a bounded, stable sample of items, kept within 5 %; each card
    # with the statistics plots and the model and licence of every key
    version="2",
    description="Every latent window encoded with the preset's autoencoder (SAME-L, "
    "SAME-S or the Stable Audio Open 1.0 VAE, loaded once per run, batched, float16) into "
    "one flat pre-encoded corpus per source (the mix and the stems of `latents.sources`) "
    "that Stable Audio 3's and Stable Audio Tools' loaders read as it is, with its control "
    "arrays, captions and card beside it.",
    keys=(
        Feature("latent_items", 0, 1e6, "", "windows of the track (items in each corpus)"),
        Feature("latent_items_encoded", 0, 1e6, "", "items encoded by this run, all sources"),
        Feature("latent_items_removed", 0, 1e6, "", "items of windows that no longer exist"),
        text("latent_corpus", "the preset's folder of corpora under paths.latents"),
        Feature("latent_sources", kind="list", description="the corpora the track has items in"),
    ),
    consumers=NONE,
    model=ModelNeed(check="mir.requirements:latents_model", config_key="latents.preset"),
    gpu=True,
    code=(
        "mir.latents.autoencoders:load_autoencoder",
        "mir.dataset.corpus:write_item",
        "mir.dataset.corpus:write_controls",
        "mir.dataset.corpus:write_corpus_card",
        "mir.captions.template:template_caption",
    ),
    kinds=frozenset({"pytorch", "numpy"}),
)

DATASET = Family(
    name="sat_dataset",
    group="export",
    # 3: the dataset's card (README.md with counts, hours, statistics plots, configuration
    # and the model and licence of every key)
    # 4: the conditioners and the card are sat_dataset_card's (once per library, not per run)
    version="4",
    description="The Stable Audio Tools dataset folder: every crop's audio, `.json` sidecar "
    "and series, `dataset_config.json` and `custom_metadata.py` (the conditioners and the "
    "card: `sat_dataset_card`).",
    keys=(
        Feature("dataset_crops", 0, 1e6, "", "crops of the track in the dataset"),
        text("dataset_dir", "the track's folder under paths.dataset (empty when excluded)"),
        text("dataset_excluded", "why export.exclude keeps the track out (empty: included)"),
        Feature(
            "dataset_removed",
            0,
            1e6,
            "",
            "files of crops that no longer exist, removed",
            optional=True,
        ),
    ),  # fmt: skip
    consumers=NONE,
    # the crops' own sources too (wired by the consumers): a model asset materialized
    # later marks the dataset stale as well as the crops
    reads=("audio_quality",),
    code=(
        "mir.dataset.sat_export:sidecar",
        "mir.dataset.sat_export:write_dataset_files",
        "mir.captions.template:caption_for",
    ),
    kinds=frozenset({"json"}),
)

DATASET_CARD = Family(
    name="sat_dataset_card",
    group="export",
    version="1",
    description="The Stable Audio Tools dataset's conditioners "
    "(`model_config_conditioning.json`: a number conditioner for each of "
    "`export.conditioning_keys` that every sidecar holds) and its card (`README.md`: counts, "
    "hours, statistics plots, configuration, the model and licence of every key), over the "
    "whole dataset: once per library, after the tracks' `sat_dataset`.",
    keys=(),
    partitioned=False,
    consumers=NONE,
    reads=("sat_dataset",),
    code=(
        "mir.dataset.sat_export:sidecar_keys",
        "mir.dataset.sat_export:conditioning_fragment",
        "mir.dataset.sat_export:write_dataset_card",
    ),
    kinds=frozenset({"json", "matplotlib"}),
)

STATISTICS = Family(
    name="feature_statistics",
    group="statistics",
    # 3: the histograms in five columns (whole in the UI's Markdown dialog)
    version="3",
    description="Statistics, outliers and correlations of every numeric feature over the "
    "whole library, with plots in the UI and a report under paths.reports.",
    keys=(),
    partitioned=False,
    consumers=NONE,
    code=("mir.statistics:summarize", "mir.statistics:write_report"),
    kinds=frozenset({"duckdb", "matplotlib"}),
)

#: every built-in family, in the pipeline's order
FAMILIES: tuple[Family, ...] = (
    SOURCE,
    QUALITY,
    METADATA,
    SEPARATION,
    BEAT_GRID,
    RHYTHM,
    STEM_RHYTHM,
    LOUDNESS,
    STEM_LOUDNESS,
    SPECTRAL,
    ZERO_CROSSINGS,
    HARMONIC,
    STEM_HARMONIC,
    CHORDS,
    STRUCTURE,
    TIMBRAL,
    CLASSIFICATION,
    AESTHETICS,
    DRUM_TRANSCRIPTION,
    PITCH_TRANSCRIPTION,
    CAPTIONS,
    CROPS,
    TIMESERIES,
    LATENT_WINDOWS,
    LATENTS,
    DATASET,
    DATASET_CARD,
    STATISTICS,
)
