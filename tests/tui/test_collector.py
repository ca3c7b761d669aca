"""The app's collector: passes at quiet moments, never held back for long, a full one now and then."""

import tui.collector as collector


def test_passes_wait_for_typing_but_not_for_long(monkeypatch):
    now = [1000.0]
    passes = []
    monkeypatch.setattr(collector.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(collector.gc, "collect", lambda generation=2: passes.append(generation))
    typing = [False]
    quiet = collector.QuietCollector(busy=lambda: typing[0])

    now[0] += 0.1
    quiet.tick()
    assert passes == [1]  # a young pass when nobody types

    typing[0] = True
    for _ in range(int(collector.MAX_DEFER / 0.1) - 1):
        now[0] += 0.1
        quiet.tick()
    assert passes == [1]  # held while the person types...
    now[0] += 0.2
    quiet.tick()
    assert passes == [1, 1]  # ...but not longer than MAX_DEFER

    typing[0] = False
    now[0] = 1000.0 + collector.FULL_EVERY + 0.01
    quiet.tick()
    assert passes[-1] == 2  # a full pass every FULL_EVERY seconds
    now[0] += 0.1
    quiet.tick()
    assert passes[-1] == 1
