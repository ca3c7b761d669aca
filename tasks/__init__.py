"""Task specs and the catalog of task folders (no UI, no torch)."""

from tasks.catalog import Catalog, UnknownTask
from tasks.spec import TaskSpec, TaskSpecError, load_task

__all__ = ["Catalog", "TaskSpec", "TaskSpecError", "UnknownTask", "load_task"]
