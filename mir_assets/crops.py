"""Crops: the training crops of each track (the whole-track series: mir_assets/timeseries.py)."""

import random
from pathlib import Path

from dagster import AssetExecutionContext, MetadataValue, Output

from mir.analysis import CHORDS, read_beat_grid
from mir.audio import Audio
from mir.chords import read_chords
from mir.dataset.crops import make_crops
from mir.dataset.sat_export import remove_other_files
from mir.errors import ModelNotFound
from mir.info import info_path, read_info, sidecar_path
from mir.stems import find_stems
from mir.structure import SECTIONS, read_sections
from mir_assets.runtime import decoded, for_each_track, full_mix_path, input_cursors
from resources.gpu import GpuResource
from resources.settings import PipelineSettings

CROPS_TABLE = "crops"


class CropModels:
    """The models `crops.model_values` runs on each crop, loaded once per run on the GPU
    resource: classification and aesthetics, each when its model is in place (a missing
    one leaves the crops the track's values, with a warning)."""

    def __init__(self, settings: PipelineSettings, gpu: GpuResource, log):
        from mir.aesthetics import load_aesthetics
        from mir.classification import load_classifier

        self.gpu, self.classifier, self.aesthetics = gpu, None, None
        cfg = settings.config
        path = cfg.aesthetics.model_dir / cfg.aesthetics.checkpoint
        self.windows_per_pass = cfg.aesthetics.windows_per_pass
        self.vocals_gate = cfg.classification
        try:
            self.classifier = gpu.model(
                ("essentia", str(cfg.classification.model_dir)),
                lambda: load_classifier(cfg.classification.model_dir),
            )
        except ModelNotFound as exc:
            log.warning(f"crops.model_values: the crops keep the track's labels: {exc}")
        try:
            self.aesthetics = gpu.model(
                ("audiobox_aesthetics", str(path)), lambda: load_aesthetics(path)
            )
        except ModelNotFound as exc:
            log.warning(f"crops.model_values: the crops keep the track's aesthetics: {exc}")

    def values(self, mix: Audio, stems: dict[str, Audio]) -> dict:
        """The models' values of one crop (mix and stem crops), as the track assets name them."""
        from mir import aesthetics as aesthetics_model
        from mir import classification as classifier_model
        from mir_assets.classification import vocals_present

        out: dict = {}
        if self.classifier is not None:
            vocals = stems.get("vocals")
            gate = self.vocals_gate
            if vocals is not None and not vocals_present(
                vocals.samples,
                crest_db=gate.vocal_crest_db,
                rms_dbfs=gate.vocal_rms_dbfs,
                peak_dbfs=gate.vocal_peak_dbfs,
            ):
                vocals = None
            values, _ = classifier_model.classify(
                self.classifier,
                mix.mono(classifier_model.SR),
                vocals16=None if vocals is None else vocals.mono(classifier_model.SR),
            )
            out.update(values)
        if self.aesthetics is not None:
            (scores,) = aesthetics_model.score(
                self.aesthetics,
                [mix.mono(aesthetics_model.SR)],
                device=self.gpu.device,
                windows_per_pass=self.windows_per_pass,
            )
            out.update({k: round(v, 4) for k, v in scores.items()})  # as the track's
        return out


class CropCaptioner:
    """Music Flamingo on each crop's own audio (`crops.flamingo`), loaded once per run on
    the GPU resource under the key the `captions` asset uses: the configured prompts
    (`music_flamingo.prompts`, `max_tokens`, `sample_probability`), filled from the crop's
    values. Without a captioning model (the template backend, or its files missing) the
    crops keep the track's captions, with a warning."""

    def __init__(self, settings: PipelineSettings, gpu: GpuResource, log):
        from mir.captions.flamingo import load_captioner
        from mir.captions.prompts import prompts_of

        cfg = settings.config.music_flamingo
        self.prompts, self.sample_probability = prompts_of(cfg), cfg.sample_probability
        self.captioner = None
        if cfg.backend == "template":
            log.warning(
                "crops.flamingo: music_flamingo.backend is template (no captioning model): "
                "the crops keep the track's captions"
            )
            return
        try:
            self.captioner = gpu.model(
                ("music_flamingo", cfg.backend, cfg.model), lambda: load_captioner(cfg)
            )
        except ModelNotFound as exc:
            log.warning(f"crops.flamingo: the crops keep the track's captions: {exc}")

    def captions(self, audio_path: Path, values: dict) -> dict:
        """`music_flamingo_<prompt key>` and `music_flamingo_model` of one crop's audio file;
        empty when no model is loaded or the crop is left out by sampling."""
        from mir.captions.prompts import fill_prompt

        if self.captioner is None or random.random() >= self.sample_probability:
            return {}
        out = {
            f"music_flamingo_{key}": self.captioner.caption(
                audio_path, fill_prompt(template, values), max_tokens
            )
            for key, (template, max_tokens) in self.prompts.items()
        }
        out["music_flamingo_model"] = self.captioner.tag
        return out


def training_crops(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    gpu: GpuResource,
    source_audio: dict[str, dict],
    beat_grid: dict[str, dict],
) -> Output[dict[str, dict]]:
    """Beat-aligned crops of the mix and its stems in `<crops>/<Track>/`, each with its own
    `.INFO`: bookkeeping (`position`, `start_time`, `end_time`, `start_sample`, `end_sample`,
    `duration`, `samples`, `downbeats`, local `bpm` and `beat_count`), every track feature
    transferred, and per-crop loudness, spectral and harmonic features; with
    `crops.model_values` the classification and aesthetics of the crop's own audio, with
    `crops.flamingo` its own Music Flamingo captions (in place of the track's). Its
    `caption_template` and `caption` are made of these values. Silent crops are
    rejected. Rows of the `crops` table (track, crop index); 256-step series of each crop in
    the `timeseries` table and beside it as `<Track>_<N>.TIMESERIES.npz`.

    Depends on every track asset whose values the crops carry (`crops=True`): a
    model asset that arrives later is upstream of the crops, its first materialization
    marks them stale (:func:`mir_assets.runtime.input_cursors`), and materializing it with
    its downstream assets, or a backfill of the crops and `sat_dataset`, brings its values
    in without running anything else upstream. Re-cropping replaces the track's crops: files
    of crops that no longer exist are removed."""
    cursors = input_cursors(context)
    cfg = settings.config.crops
    models = CropModels(settings, gpu, context.log) if cfg.model_values else None
    captioner = CropCaptioner(settings, gpu, context.log) if cfg.flamingo else None

    def compute(track_id: str) -> dict:
        track_dir = settings.track_dir(track_id)
        mix_path = full_mix_path(settings, track_id, source_audio[track_id])
        audio = decoded(mix_path)
        beats, downbeats = read_beat_grid(track_dir, beat_grid.get(track_id))
        stems = {}
        if cfg.include_stems:
            stems = {
                n: decoded(p) for n, p in find_stems(track_dir).items() if n not in cfg.skip_stems
            }
        out_dir = settings.config.paths.crops / track_id
        # each crop's own chords, from the track's segments (when the chords asset ran)
        chords_file = sidecar_path(track_dir, CHORDS)
        # each crop's section (when the structure asset ran); crops.sections needs it
        sections_file = sidecar_path(track_dir, SECTIONS)
        sections = read_sections(sections_file) if sections_file.exists() else None
        crops = make_crops(
            audio,
            name=track_id,
            source=mix_path,
            out_dir=out_dir,
            beats=beats,
            downbeats=downbeats,
            stems=stems,
            track_values=read_info(info_path(track_dir)),
            chord_segments=read_chords(chords_file) if chords_file.exists() else None,
            cfg=cfg,
            model_values=models.values if models is not None else None,
            captions=captioner.captions if captioner is not None else None,
            sections=sections,
        )
        settings.tables.replace_crop_rows(CROPS_TABLE, track_id, crops.rows)
        settings.tables.replace_crop_arrays(track_id, crops.series)
        # the crops of an earlier cropping that this one did not write again (a new
        # length, new beats): gone, so the folder, the table and the dataset agree
        removed = remove_other_files(out_dir, crops.written)
        return {
            "crop_count": len(crops.rows),
            "crops_removed": len(removed),
            "crops_rejected_silent": crops.rejected,
            "crops_dir": out_dir.relative_to(settings.config.paths.crops).as_posix(),
            "crop_seconds": round(sum(r["duration"] for r in crops.rows), 3),
        }

    result = for_each_track(context, settings, compute)
    context.add_output_metadata({"crops_table": MetadataValue.text(CROPS_TABLE)})
    return Output(result, tags=cursors)
