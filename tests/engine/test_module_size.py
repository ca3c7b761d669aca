"""The engine stays in small modules: none in sessions/ over 600 lines (issue 15)."""

from tests.conftest import ROOT

LIMIT = 600


def test_no_engine_module_is_over_the_limit():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in (ROOT / "sessions").rglob("*.py")}
    assert {path: n for path, n in sizes.items() if n > LIMIT} == {}
