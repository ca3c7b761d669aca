"""Task specs: the shipped ones load; broken ones fail with file, field and reason."""

import shutil
from pathlib import Path

import pytest

from sessions.settings import current_settings
from tasks import Catalog, TaskSpecError, UnknownTask, load_task
from tasks.catalog import BUILTIN_DIR

SHIPPED = ["cv-multitask-loss", "dl-activation-function", "optimization-bilevel"]
PUBLISHED_PATHS = {
    "cv-multitask-loss": ("pytorch-vision/custom_mtl.py", 195, 216),
    "dl-activation-function": ("pytorch-vision/custom_activation.py", 32, 49),
    "optimization-bilevel": ("penalized-bilevel-gradient-descent/mlsbench/custom_strategy.py", 216, 253),
}


@pytest.mark.parametrize("task_id", SHIPPED)
def test_shipped_specs_load_with_published_paths_and_hidden_settings(task_id):
    spec = Catalog().get(task_id)
    path, start, end = PUBLISHED_PATHS[task_id]
    editable = spec.editable_files
    assert [f.path for f in editable] == [path]
    assert (editable[0].editable[0].start, editable[0].editable[0].end) == (start, end)
    assert spec.test_budget == 3
    assert len(spec.hidden_settings) == 1 and len(spec.visible_settings) == 2
    assert set(spec.profiles) == {"paper", "quick", "demo"} and spec.profiles["paper"].comparable
    assert not spec.profiles["demo"].comparable
    # every published metric is one the spec derives, with the same direction
    assert spec.reference is not None
    derived = spec.metric_directions()
    for name, direction in spec.reference.directions.items():
        assert derived[name] == direction
    assert spec.description.startswith("# ")


def test_shared_reference_matches_the_shipped_copy():
    import json

    shared = BUILTIN_DIR.parent.parent / "shared" / "reference" / "mlsbench-published-baselines.json"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    published = json.loads(shared.read_text())
    for task_id in SHIPPED:
        spec = Catalog().get(task_id)
        assert list(spec.reference.rows) == published[task_id]["rows"]


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(UnknownTask, match="known tasks: .*cv-multitask-loss"):
        Catalog().get("no-such-task")


def test_tasks_dir_and_env_add_tasks(tmp_path, monkeypatch):
    from tests.conftest import FIXTURE_TASKS

    assert "fake-task" in Catalog([FIXTURE_TASKS]).entries
    assert "fake-task" not in Catalog().entries  # the catalog reads no environment itself
    monkeypatch.setenv("MLSBENCH_TASKS", str(FIXTURE_TASKS / "fake-task"))
    assert "fake-task" in Catalog(current_settings().task_dirs).entries


@pytest.fixture
def broken(tmp_path):
    from tests.conftest import FIXTURE_TASKS

    folder = tmp_path / "fake-task"
    shutil.copytree(FIXTURE_TASKS / "fake-task", folder)
    toml = folder / "task.toml"

    def write(old: str, new: str) -> Path:
        text = toml.read_text()
        assert old in text
        toml.write_text(text.replace(old, new, 1))
        return folder

    return write


@pytest.mark.parametrize(
    "old,new,field,reason",
    [
        ("test_budget = 3", "test_budget = 0", "task.test_budget", "at least 1"),
        ('title = "Fake task for engine tests"\n', "", "task.title", "missing"),
        ("editable = [[14, 16]]", "editable = [[16, 14]]", "files[0].editable", "start <= end"),
        ('direction = "max"', 'direction = "up"', "metrics[0].direction", "expected max or min"),
        ("--seed {seed}", "--seed {sed}", "settings[0].command", "bad placeholder"),
        ('label = "beta"', 'label = "alpha"', "settings[1].label", "listed twice"),
        ('id = "fake-task"', 'id = "other"', "task.id", "differs from its folder"),
        ("[profiles.quick]\nsummary = \"Fake quick profile.\"\n", "", "profiles", "missing quick"),
        ("test_budget = 3", 'test_budget = "3"', "task.test_budget", "expected int"),
        ("[task]", "[task", "(syntax)", ""),
    ],
)
def test_broken_spec_names_file_field_and_reason(broken, old, new, field, reason):
    folder = broken(old, new)
    with pytest.raises(TaskSpecError) as info:
        load_task(folder)
    assert info.value.field_name == field
    assert reason in info.value.reason
    assert str(folder / "task.toml") in str(info.value)


def test_catalog_keeps_broken_specs_and_reports_them(broken):
    folder = broken("test_budget = 3", "test_budget = -1")
    catalog = Catalog([folder.parent])
    assert catalog.entries["fake-task"].error is not None
    with pytest.raises(TaskSpecError, match="test_budget"):
        catalog.get("fake-task")
