"""The leaderboard table gives way column by column to fit the width; nothing goes off-screen."""

from __future__ import annotations

from sessions.leaderboard import RESCORED_SHIPPED, Row
from tui.board_fit import fit_board, shared_ends
from tui.model import MetricColumn

METRICS = [MetricColumn(f"test_acc_{label}-cifar100mt", "max", label, hidden=label == "vgg16bn")
           for label in ("resnet20", "resnet56", "vgg16bn")]
ROWS = [Row("baseline:equal (default)", "baseline", {m.name: 35.2 for m in METRICS},
            "Equal weighting (scaffold default)", RESCORED_SHIPPED, "42"),
        Row("agent:deepseek-reasoner-with-a-very-long-model-name", "agent", {m.name: 27.0 for m in METRICS},
            "001_0318fb5d832f9c37.txt, submitted test #2", RESCORED_SHIPPED, "42")]
RANKS = [1.0, 2.0]


def keys(fitted) -> list[str]:
    return [c.key for c in fitted.columns]


def test_a_wide_screen_shows_every_column_in_full():
    fitted = fit_board(METRICS, ROWS, RANKS, 300)
    assert keys(fitted) == ["place", "entry", *(m.name for m in METRICS), "mean rank", "from", "seeds", "detail"]
    assert fitted.note == "" and fitted.columns[2].heading == "test_acc_resnet20-cifar100mt ↑"


def test_columns_give_way_in_order_and_the_note_says_what():
    fitted = fit_board(METRICS, ROWS, RANKS, 96)  # a 100-column terminal
    assert keys(fitted) == ["place", "entry", *(m.name for m in METRICS), "mean rank", "from"]
    assert [c.heading for c in fitted.columns[2:5]] == ["resnet20 ↑", "resnet56 ↑", "vgg16bn ↑ (hidden)"]
    assert set(fitted.columns[6].cells) == {"shipped"}
    assert fitted.width <= 96
    assert fitted.note == ("Metric columns are test_acc_‹name›-cifar100mt. Left out at this width: detail, seeds "
                           "(`mlsbench-tui leaderboard` prints them).")


def test_the_entry_is_cut_last_with_an_ellipsis():
    fitted = fit_board(METRICS, ROWS, RANKS, 80)
    entry = fitted.columns[1]
    assert fitted.width <= 80
    assert [c.key for c in fitted.columns][-2:] == ["mean rank", "from"] and fitted.columns[-2].heading == "rank"
    for row, cell in zip(ROWS, entry.cells):
        assert cell.endswith("…") and row.entry.startswith(cell[:-1]) and len(cell) <= entry.width - 2


def test_shared_ends_are_cut_at_a_separator():
    assert shared_ends(["test_acc_resnet20-x", "test_acc_resnet56-x"]) == ("test_acc_", "-x")
    assert shared_ends(["score_a", "score_b"]) == ("score_", "")
    assert shared_ends(["only_one"]) == ("", "")
    assert shared_ends(["acc_a", "acc_a_b"]) == ("acc_", "")  # the part up to the last shared separator
    assert shared_ends(["acc_", "acc_b"]) == ("", "")  # one name would be left empty
