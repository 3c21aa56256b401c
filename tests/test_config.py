import pytest

from mir.config import DEFAULT_CONFIG, config_from_dict, load_config
from mir.errors import ConfigError


def test_default_config_loads_with_absolute_paths():
    cfg = load_config(DEFAULT_CONFIG)
    assert cfg.paths.library.is_absolute()
    assert cfg.beats.beats_per_bar == (3, 4)
    assert cfg.rocm["HIP_FORCE_DEV_KERNARG"] == "1"


def test_unknown_key_is_an_error_naming_it():
    with pytest.raises(ConfigError, match=r"paths\.inboxx"):
        config_from_dict({"paths": {"inboxx": "x"}})


def test_wrong_type_is_an_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"features\.loudness"):
        config_from_dict({"features": {"loudness": "yes"}})
    with pytest.raises(ConfigError, match=r"processing\.tracks_per_run"):
        config_from_dict({"processing": {"tracks_per_run": "many"}})


def test_environment_overrides_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("MIR_LIBRARY", str(tmp_path / "lib"))
    cfg = config_from_dict({}, root=tmp_path)
    assert cfg.paths.library == tmp_path / "lib"
    assert cfg.paths.inbox == tmp_path / "data" / "inbox"


def test_relative_paths_follow_the_project_of_a_config_folder_else_the_files_own_folder(
    tmp_path,
):
    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    (project / "config" / "master_pipeline.yaml").write_text("paths: {models: models}\n")
    cfg = load_config(project / "config" / "master_pipeline.yaml")
    assert cfg.paths.models == project / "models" and cfg.paths.inbox == project / "data" / "inbox"
    elsewhere = tmp_path / "music"
    elsewhere.mkdir()
    (elsewhere / "mir.yaml").write_text("paths: {models: models}\n")
    cfg = load_config(elsewhere / "mir.yaml")  # not the home folder above it
    assert (
        cfg.paths.models == elsewhere / "models" and cfg.paths.inbox == elsewhere / "data" / "inbox"
    )
