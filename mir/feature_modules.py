"""Feature modules: families declared outside the project, named by the configuration.

A module (a module name, or a `.py` file) listed under `feature_modules:` declares
`FAMILY` (a :class:`mir.family.Family`) or `FAMILIES`; :func:`families_of` gives them
with the built-in ones (:mod:`mir.families`), and their keys join the feature table.
"""

from __future__ import annotations

from pathlib import Path

from mir.config import MasterConfig
from mir.family import Family, by_name


def load_feature_modules(cfg: MasterConfig) -> list[Family]:
    """The families of the modules named in `feature_modules:` of the config.

    An entry is a module name (`my_features.zero_crossings`, importable from the Python
    path) or a `.py` file (relative paths as the config's others:
    :func:`mir.config.config_root`). A module declares `FAMILY` (a :class:`Family`) or
    `FAMILIES` (several).

    Parameters
    ----------
    cfg : MasterConfig
        The configuration; its `feature_modules:` are loaded, in order.

    Returns
    -------
    list of Family
        The families they declare (not the built-in ones).

    Raises
    ------
    ConfigError
        A module that cannot be loaded, or that declares no family.
    """
    import importlib
    import importlib.util
    import sys

    from mir.config import PROJECT_ROOT, config_root
    from mir.errors import ConfigError

    out: list[Family] = []
    root = config_root(cfg.source) if cfg.source else PROJECT_ROOT
    for entry in cfg.feature_modules:
        try:
            if entry.endswith(".py"):
                path = Path(entry).expanduser()
                path = path if path.is_absolute() else root / path
                if not path.is_file():
                    raise FileNotFoundError(f"no such file: {path}")
                name = f"mir_features.{path.stem}"
                spec = importlib.util.spec_from_file_location(name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            else:
                module = importlib.import_module(entry)
        except Exception as exc:
            raise ConfigError(
                f"feature_modules: cannot load {entry!r} ({type(exc).__name__}: {exc})"
            ) from exc
        declared = getattr(module, "FAMILIES", None) or (
            [module.FAMILY] if isinstance(getattr(module, "FAMILY", None), Family) else []
        )
        if not declared or not all(isinstance(f, Family) for f in declared):
            raise ConfigError(
                f"feature_modules: {entry!r} declares no family (a FAMILY = Family(...) or "
                "FAMILIES = [...]; see the docs, 'Adding a feature')"
            )
        out += declared
    return out


#: the families of each set of feature modules, loaded once per process
_LOADED: dict[tuple, tuple[Family, ...]] = {}


def families_of(cfg: MasterConfig) -> tuple[Family, ...]:
    """Every family of a configuration: the built-in ones and its feature modules' (whose
    keys then join the feature table); the modules are loaded once per process.

    Parameters
    ----------
    cfg : MasterConfig
        The configuration.

    Returns
    -------
    tuple of Family
        The built-in families (:data:`mir.families.FAMILIES`), then those of the feature
        modules.

    Raises
    ------
    ConfigError
        A feature module that cannot be loaded or declares no family.
    ValueError
        Two families of one name.
    """
    from mir import feature_table
    from mir.families import FAMILIES

    key = (str(cfg.source), cfg.feature_modules)
    if key not in _LOADED:
        extra = load_feature_modules(cfg) if cfg.feature_modules else []
        families = (*FAMILIES, *extra)
        by_name(families)  # two families of one name are an error
        feature_table.register(extra)
        _LOADED[key] = families
    return _LOADED[key]
