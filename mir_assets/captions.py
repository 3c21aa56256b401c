"""captions: a template caption for every track, Music Flamingo's when configured, and
the LLM revision's short summaries."""

import random

from dagster import AssetExecutionContext, MetadataValue, Output

from mir.captions.flamingo import load_captioner
from mir.captions.llm import DEFAULT_REVISION_PROMPTS, TextModel, revise, revision_inputs
from mir.captions.prompts import fill_prompt, prompts_of
from mir.captions.template import caption_for, template_caption
from mir.errors import ModelNotFound
from mir.info import info_path, read_info
from mir_assets.runtime import for_each_track, full_mix_path, input_cursors, model_failure
from resources.gpu import GpuResource
from resources.settings import PipelineSettings


def captions(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    gpu: GpuResource,
    source_audio: dict[str, dict],
) -> Output[dict[str, dict]]:
    """`caption_template` for every track (no model: labels, tempo, key, loudness,
    timbre); with `music_flamingo.backend` set, `music_flamingo_<prompt key>` per
    configured prompt and `music_flamingo_model`; with `music_flamingo.revision.enabled`,
    the short summaries `music_flamingo_<revision key>`. `caption` is the prompt Stable
    Audio Tools gets: the best model caption, else the template."""
    cursors = input_cursors(context)
    cfg = settings.config.music_flamingo
    prompts = prompts_of(cfg)
    revision_prompts = dict(cfg.revision.prompts) or dict(DEFAULT_REVISION_PROMPTS)
    captioner = reviser = None
    try:
        if cfg.backend != "template":
            captioner = gpu.model(
                ("music_flamingo", cfg.backend, cfg.model), lambda: load_captioner(cfg)
            )
        if cfg.revision.enabled:
            rev = cfg.revision
            reviser = gpu.model(
                ("revision", str(rev.model), rev.chat_format),
                lambda: TextModel(
                    rev.model,
                    config_key="music_flamingo.revision.model",
                    chat_format=rev.chat_format,
                    n_ctx=rev.n_ctx,
                    gpu_layers=rev.gpu_layers,
                ),
            )
    except ModelNotFound as exc:
        raise model_failure(exc) from None
    sampled = {"captioned": 0, "skipped_by_sampling": 0, "revised": 0}

    def compute(track_id: str) -> dict:
        values = read_info(info_path(settings.track_dir(track_id)))
        out: dict = {"caption_template": template_caption(values)}
        if captioner is not None:
            if random.random() < cfg.sample_probability:
                audio = full_mix_path(settings, track_id, source_audio[track_id])
                for key, (template, max_tokens) in prompts.items():
                    prompt = fill_prompt(template, values)
                    out[f"music_flamingo_{key}"] = captioner.caption(audio, prompt, max_tokens)
                out["music_flamingo_model"] = captioner.tag
                sampled["captioned"] += 1
            else:
                sampled["skipped_by_sampling"] += 1
        if reviser is not None:
            merged = {**values, **out}
            if revision_inputs(merged, revision_prompts):
                out.update(
                    revise(
                        reviser,
                        merged,
                        revision_prompts,
                        max_tokens=cfg.revision.max_tokens,
                        temperature=cfg.revision.temperature,
                        max_chars=cfg.revision.max_chars,
                    )
                )
                sampled["revised"] += 1
        out["caption"] = caption_for({**values, **out})
        return out

    result = for_each_track(context, settings, compute)
    context.add_output_metadata(
        {
            "backend": MetadataValue.text(cfg.backend),
            "prompt_keys": MetadataValue.text(", ".join(prompts) if captioner else "-"),
            **{k: MetadataValue.int(v) for k, v in sampled.items()},
        }
    )
    return Output(result, tags=cursors)
