"""Captions: prompt-ready text about a track or a crop.

:mod:`mir.captions.template` writes a caption from a track's own values (no model);
:mod:`mir.captions.prompts` and :mod:`mir.captions.flamingo` ask Music Flamingo (its
prompts, and three ways to run it); :mod:`mir.captions.llm` condenses captions with a
text model; :mod:`mir.captions.text` makes caption text plain.
"""
