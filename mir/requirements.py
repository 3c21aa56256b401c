"""What families need beyond audio, as their declarations name it (mir/families.py):
model checks, program checks and GPU predicates, each a function of the configuration.

A model check raises :class:`~mir.errors.ModelNotFound` naming the file and its config
key; a program check raises the program's error naming what to install. Declarations name
these functions by dotted path: nothing here is imported until a run asks.
"""

from __future__ import annotations


def separation_model(cfg) -> None:
    from mir.separation import check_model

    check_model(cfg.separation)


def classification_models(cfg) -> None:
    from mir.classification import check_models

    check_models(cfg.classification.model_dir)


def aesthetics_model(cfg) -> None:
    from mir.aesthetics import check_checkpoint

    check_checkpoint(cfg.aesthetics.model_dir / cfg.aesthetics.checkpoint)


def adtof_model(cfg) -> None:
    from mir.transcription import check_adtof_model

    check_adtof_model(cfg.transcription.model_dir)


def caption_models(cfg) -> None:
    from mir.captions.flamingo import check_caption_models

    check_caption_models(cfg.music_flamingo)


def fpcalc_program(cfg) -> None:
    from mir.quality import check_fpcalc

    check_fpcalc()


def latents_model(cfg) -> None:
    from mir.latents.autoencoders import check_autoencoder
    from mir.latents.presets import autoencoder_dir, preset

    p = preset(cfg.latents.preset)
    check_autoencoder(p.encoder, autoencoder_dir(cfg.latents, p))


def captions_use_gpu(cfg) -> bool:
    """A captioning or revision model runs: template captions need no GPU."""
    mf = cfg.music_flamingo
    return mf.backend != "template" or mf.revision.enabled


def crops_use_gpu(cfg) -> bool:
    """The crops run the classification, aesthetics or caption models on each crop."""
    return cfg.crops.model_values or cfg.crops.flamingo
