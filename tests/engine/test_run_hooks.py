"""The run controller needs no Session: only the narrow hooks it is handed."""

from __future__ import annotations

import sys

from sessions.events import DONE, LogLines, RunFinished, RunKey, SettingStatus
from sessions.execution import RunController, RunHooks, SettingJob
from sessions.folder import SessionFolder
from sessions.metrics import SettingMetrics
from sessions.runner import Launch, LocalRunner


def test_a_run_controller_works_through_its_hooks_alone(fake_task, tmp_path):
    key, setting = RunKey("test", 1), fake_task.settings[0]
    folder = SessionFolder(tmp_path)
    folder.run_dir(1).mkdir(parents=True)
    command = f"{sys.executable} -c \"print('one'); print('two')\""
    launch = Launch(setting.label, command, folder.run_dir(1), folder.log_path(key, setting.label),
                    folder.exit_path(key, setting.label), {})
    recorded, events, finished = [], [], []
    hooks = RunHooks(
        record=lambda type_, **data: recorded.append(type_), emit=events.append, budget_left=lambda: 2,
        snapshot_problem=lambda k: None, lines_per_event=lambda: 1,
        finished=lambda k, feedback: finished.append(feedback),
    )
    controller = RunController(hooks, key, [SettingJob(setting, launch, SettingMetrics(fake_task.metrics, setting))],
                               LocalRunner(nice=0), [{}])
    controller.start()
    assert controller.wait(30) and controller.error is None
    assert recorded == ["setting_started", "setting_finished"]
    assert "(2 tests remaining" in finished[0]  # the budget comes from the hooks
    lines = [e for e in events if isinstance(e, LogLines)]
    assert all(len(e.lines) <= 1 for e in lines) and sum(len(e.lines) + e.skipped for e in lines) == 2
    assert any(isinstance(e, SettingStatus) and e.status == DONE for e in events)
    assert isinstance(events[-1], RunFinished)
