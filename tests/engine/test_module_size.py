"""Small modules (issue 15): the main screen under 400 lines, no module of the engine or the
app over 600 (the drivers' common modules stay one readable file each)."""

from tests.conftest import ROOT

LIMIT = 600
MAIN_SCREEN_LIMIT = 400


def line_counts(*packages: str) -> dict[str, int]:
    return {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
            for package in packages for p in (ROOT / package).rglob("*.py")}


def test_no_module_of_the_engine_or_the_app_is_over_the_limit():
    sizes = line_counts("sessions", "tasks", "tui")
    assert {path: n for path, n in sizes.items() if n > LIMIT} == {}


def test_the_main_screen_stays_under_its_limit():
    assert line_counts("tui")["tui/screens/main.py"] < MAIN_SCREEN_LIMIT
