"""Transcription: the stems as MIDI files, drums with ADTOF, bass and other with basic-pitch.

Two assets, so that a missing drum model never stops the pitched stems: basic-pitch's
model ships inside its package, ADTOF's weights are a file under `transcription.model_dir`.
"""

from dagster import AssetExecutionContext, MetadataValue

from mir.errors import ModelNotFound
from mir.stems import require_stems
from mir.transcription import (
    BASIC_PITCH_SR,
    BASS_PROGRAM,
    DRUMS_MIDI,
    OTHER_PROGRAM,
    PITCHED_STEMS,
    drum_values,
    load_adtof,
    load_basic_pitch,
    note_values,
    pitched_midi,
    transcribe_drums,
    transcribe_notes,
)
from mir_assets.runtime import decoded, for_each_track, model_failure
from resources.gpu import GpuResource
from resources.settings import PipelineSettings


def drum_transcription(
    context: AssetExecutionContext, settings: PipelineSettings, gpu: GpuResource
) -> dict[str, dict]:
    """`drums_adtof.mid` in the track folder: the drums stem transcribed by ADTOF's Frame_RNN
    (bass drum 35, snare 38, tom 47, hi-hat 42, cymbal 49), and `transcription_drums_notes`
    with `transcription_drums_<kick|snare|tom|hihat|cymbal>_notes`.

    Fails, naming `<transcription.model_dir>/adtof_frame_rnn_pytorch_weights.pth` and the
    config key, when the weights are not there (a partial result would look complete).
    """
    cfg = settings.config.transcription
    try:
        model = gpu.model(("adtof", str(cfg.model_dir)), lambda: load_adtof(cfg.model_dir))
    except ModelNotFound as exc:
        raise model_failure(exc) from None

    def compute(track_id: str) -> dict:
        track_dir = settings.track_dir(track_id)
        drums = decoded(require_stems(track_dir, ["drums"])["drums"])
        result = transcribe_drums(model, drums.mono(), sr=drums.sr, thresholds=cfg.drum_thresholds)
        result.write(track_dir / DRUMS_MIDI)
        return {**drum_values(result), "transcription_drums_midi": DRUMS_MIDI}

    values = for_each_track(context, settings, compute)
    context.add_output_metadata(
        {
            k: MetadataValue.text(str(v)) if isinstance(v, str) else v
            for k, v in gpu.metadata().items()
        }
    )
    return values


def pitch_transcription(
    context: AssetExecutionContext, settings: PipelineSettings, gpu: GpuResource
) -> dict[str, dict]:
    """`bass_basic_pitch.mid` and `other_basic_pitch.mid` in the track folder (basic-pitch,
    with pitch bends), and per stem `transcription_<stem>_notes`, `_pitch_min` and
    `_pitch_max` (MIDI note numbers; null without notes)."""
    cfg = settings.config.transcription
    try:
        model = gpu.model(("basic_pitch",), load_basic_pitch)
    except ModelNotFound as exc:
        raise model_failure(exc) from None
    programs = {"bass": BASS_PROGRAM, "other": OTHER_PROGRAM}

    def compute(track_id: str) -> dict:
        track_dir = settings.track_dir(track_id)
        values: dict = {}
        for stem, path in require_stems(track_dir, PITCHED_STEMS).items():
            result = transcribe_notes(
                model,
                decoded(path).mono(BASIC_PITCH_SR),
                sr=BASIC_PITCH_SR,
                onset_threshold=cfg.onset_threshold,
                frame_threshold=cfg.frame_threshold,
                min_note_ms=cfg.min_note_ms,
                program=programs[stem],
                name=stem,
            )
            result.write(track_dir / pitched_midi(stem))
            values.update(note_values(result, stem))
            values[f"transcription_{stem}_midi"] = pitched_midi(stem)
        return values

    return for_each_track(context, settings, compute)
