"""The app's collector: passes at quiet moments, never held back for long, a full one at a pause."""

import tui.collector as collector


def test_passes_wait_for_typing_but_not_for_long(monkeypatch):
    now = [1000.0]
    last_key = [0.0]
    passes = []
    monkeypatch.setattr(collector.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(collector.gc, "collect", lambda generation=2: passes.append(generation))
    quiet = collector.QuietCollector(quiet_for=lambda: now[0] - last_key[0])

    def advance(seconds: float, typing: bool) -> None:
        now[0] += seconds
        if typing:
            last_key[0] = now[0]
        quiet.tick()

    advance(0.1, typing=False)
    assert passes == [1]  # a young pass when nobody types

    for _ in range(int(collector.MAX_DEFER / 0.1) - 1):
        advance(0.1, typing=True)
    assert passes == [1]  # held while the person types...
    advance(0.2, typing=True)
    assert passes == [1, 1]  # ...but not longer than MAX_DEFER

    # Non-stop typing past FULL_EVERY: young passes go on, the full pass waits for a pause.
    while now[0] < 1000.0 + collector.FULL_EVERY + 1:
        advance(0.1, typing=True)
    assert 2 not in passes
    last_key[0] = now[0]
    advance(collector.FULL_QUIET / 2, typing=False)
    assert passes[-1] == 1  # a short pause is not enough
    advance(collector.FULL_QUIET / 2, typing=False)
    assert passes[-1] == 2  # a pause of FULL_QUIET is
    start = now[0]
    advance(0.1, typing=False)
    assert passes[-1] == 1

    # Typing that never pauses still gets a full pass after FULL_MAX_DEFER.
    while now[0] - start < collector.FULL_MAX_DEFER - 0.05:
        advance(0.1, typing=True)
    assert passes[-1] != 2
    advance(0.1, typing=True)
    assert passes[-1] == 2
