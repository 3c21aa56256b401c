from dagster import AssetKey

from mir_assets.definitions import defs as load_definitions

defs = load_definitions()


def test_definitions_load_with_every_asset_job_and_sensor():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"source_audio", "beat_grid", "loudness"} <= keys
    assert defs.resolve_job_def("track_job") is not None
    assert defs.resolve_sensor_def("inbox_sensor") is not None


def test_every_asset_has_a_code_version_and_is_partitioned_by_track():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.code_version, f"{key} has no code version"
        # library-wide by design: they read every track's values or samples
        if key.to_user_string() in ("feature_statistics", "sat_dataset_card"):
            assert node.partitions_def is None
            continue
        assert node.partitions_def is not None and node.partitions_def.name == "tracks"


def test_features_depend_on_source_audio():
    graph = defs.resolve_asset_graph()
    for name in ("beat_grid", "loudness"):
        assert AssetKey("source_audio") in graph.get(AssetKey(name)).parent_keys


def test_mir_library_does_not_import_dagster():
    import ast
    from pathlib import Path

    for path in Path("mir").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "dagster" for n in names), f"{path} imports dagster"
