"""The training dataset: crops of each track (:mod:`mir.dataset.crops`), their time series
and the whole track's (:mod:`mir.dataset.timeseries`), the Stable Audio Tools dataset
folder made of them (:mod:`mir.dataset.sat_export`), the latent windows
(:mod:`mir.dataset.windows`, :mod:`mir.dataset.resample`) and corpora
(:mod:`mir.dataset.corpus`), and the card of each dataset and corpus
(:mod:`mir.dataset.card`).
"""
