"""The training dataset: crops of each track (:mod:`mir.dataset.crops`), their time series
and the whole track's (:mod:`mir.dataset.timeseries`), and the Stable Audio Tools dataset
folder made of them (:mod:`mir.dataset.sat_export`).
"""
