"""Re-scoring an exported session: verified first, then its submission runs here.

    target = archive_target(path, catalog)     # refused, with the failed checks, unless verify passes
    outcome = Rescorer(target.task, store, profile=target.profile, seed=target.seed).rescore(target.candidate)
    comparison_lines(target, outcome.result.results, ...)

The submitted test's snapshot is read from the archive and goes through the
same rescore machinery as a local session (`rescore --session`), on the
archive's profile and seed unless others are asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sessions.archive import open_archive
from sessions.leaderboard import format_value, numbers, text_table
from sessions.rescore_candidates import Candidate, CandidateError, session_candidate
from sessions.verify import Verdict, verify_archive
from tasks import Catalog
from tasks.spec import TaskSpec


@dataclass(frozen=True)
class ArchiveTarget:
    path: Path
    task: TaskSpec
    candidate: Candidate
    profile: str  # the archive's
    seed: int  # the archive's
    results: dict[str, str]  # the archive's final results
    verdict: Verdict


def archive_target(path: Path, catalog: Catalog) -> ArchiveTarget:
    """What to re-score from an archive; refused, naming each failed check, unless it verifies."""
    verdict = verify_archive(path, catalog)
    if not verdict.ok or verdict.state is None:
        failed = "\n".join(f"  {c.name}: {c.detail}" for c in verdict.failures())
        raise CandidateError(f"{path} did not pass `mlsbench-tui verify`, so it was not re-scored "
                             f"(nothing ran):\n{failed}")
    meta = verdict.state.meta
    task = catalog.get(meta["task_id"])
    with open_archive(path) as archive:
        candidate = session_candidate(task, archive.root)
    session_id = verdict.manifest.get("session", {}).get("id", "?")
    name = replace(candidate.name, detail=f"archive {path.name}, session {session_id}, "
                                          f"test #{verdict.state.submitted_test}")
    return ArchiveTarget(path, task, replace(candidate, name=name), meta["profile"], int(meta["seed"]),
                         verdict.final_results(), verdict)


def comparison_lines(target: ArchiveTarget, here: dict[str, str], profile: str, seed: int) -> list[str]:
    """The archive's numbers beside this machine's, metric by metric, with profile and seed."""
    ran = f"profile {profile}, seed {seed}"
    if (profile, seed) != (target.profile, target.seed):
        ran += f" (the archive ran profile {target.profile}, seed {target.seed}: the numbers differ by design)"
    theirs, ours = numbers(target.results), numbers(here)
    body = []
    for name in target.task.metric_directions():
        a, b = theirs.get(name), ours.get(name)
        delta = "-" if a is None or b is None else f"{b - a:+.2f}"
        body.append([name, format_value(a), format_value(b), delta])
    return [f"{target.candidate.name.entry} ({target.candidate.name.detail})", f"  {ran}", "",
            *text_table(["metric", "archive", "this machine", "difference"], body)]
