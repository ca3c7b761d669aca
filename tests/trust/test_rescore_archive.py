"""`mlsbench-tui rescore FILE`: a verified archive's submission runs again here, beside its own numbers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import FAKE_FILE
from tests.trust.conftest import tampered

pytestmark = pytest.mark.slow


def test_rescore_file_runs_the_submission_here_and_shows_both_numbers(submitted, cli):
    archive = submitted[1]
    code, out, _ = cli("rescore", str(archive))
    assert code == 0, out
    table = out[out.index("person:ada ("):].splitlines()
    assert table[0] == f"person:ada (archive {archive.name}, session {submitted[0].name}, test #2)"
    assert table[1] == "  profile demo, seed 42"
    assert table[3].split() == ["metric", "archive", "this", "machine", "difference"]
    # The region printed a fake FINAL_METRICS line: it is log text here as it was there.
    assert [row.split() for row in table[4:]] == [["test_acc_alpha", "80.00", "80.00", "+0.00"],
                                                  ["test_acc_beta", "81.00", "81.00", "+0.00"],
                                                  ["test_acc_gamma", "82.00", "82.00", "+0.00"]]

    code, out, _ = cli("rescore", str(archive), "--seed", "7", "--json")
    result = json.loads(out)
    assert code == 0 and (result["seed"], result["archive_seed"], result["profile"]) == (7, 42, "demo")
    assert result["archive_results"]["test_acc_alpha"] == "80.00" and result["status"] == "done"


def test_rescore_file_refuses_an_archive_that_fails_verify_and_runs_nothing(submitted, cli, tmp_path):
    bad = tampered(submitted[1], tmp_path, lambda root: (root / "tests/2/run" / FAKE_FILE).write_text("SCORE = 99\n"))
    code, out, err = cli("rescore", str(bad))
    assert code == 2 and out == ""
    assert "did not pass `mlsbench-tui verify`, so it was not re-scored (nothing ran)" in err
    assert "snapshots: test #2's fake/fake_driver.py is not the file that was tested" in err
    assert not any(Path(os.environ["MLSBENCH_RESULTS"]).rglob("journal.jsonl"))  # no internal session began

    code, _, err = cli("rescore", str(submitted[1]), "--baselines")
    assert code == 2 and "re-scores that archive alone" in err
