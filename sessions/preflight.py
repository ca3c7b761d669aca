"""How a setting's command is built, and the `--check` each setting passes before budget is spent.

Each check runs in its own process group, killed whole when it ends, times out
or is interrupted; the groups are listed in the session folder so that the next
start kills those a killed engine left running.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sessions.folder import SessionFolder
from sessions.processes import JOB_TOKEN, is_our_group, kill_group, token_groups
from tasks.spec import Setting

PREFLIGHT_TIMEOUT = 300  # seconds for one setting's --check


@dataclass(frozen=True)
class DriverCommands:
    """A setting's command line and environment, filled in from the session's facts."""

    python: str
    seed: int
    profile: str
    data_root: str

    def command_for(self, setting: Setting) -> str:
        return setting.command.format(
            python=shlex.quote(self.python),
            seed=self.seed,
            profile=self.profile,
            data_root=shlex.quote(self.data_root),
        )

    def env(self) -> dict[str, str]:
        """The app's own environment (jobs inherit it, as a shell would), plus the session's."""
        return {**os.environ, "PYTHONUNBUFFERED": "1", "MLSBENCH_DATA": self.data_root}


class Preflight:
    """Runs the settings' checks of one session, at most `workers` at a time."""

    def __init__(self, folder: SessionFolder, commands: DriverCommands, workers: int):
        self.folder, self.commands, self.workers = folder, commands, max(1, workers)
        self._groups: set[int] = set()
        self._lock = threading.Lock()

    @property
    def _token(self) -> str:
        return f"preflight {self.folder.root}"

    def run(self, run_dir: Path, settings: list[Setting]) -> list[str]:
        """Run each setting's `--check` in run_dir; the failures, as messages."""
        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            return [m for m in pool.map(lambda s: self._check(run_dir, s), settings) if m]
        except BaseException:  # interrupted: stop every check before waiting for the threads
            for pgid in list(self._groups):
                kill_group(pgid)
            raise
        finally:
            pool.shutdown(wait=True)

    def _check(self, run_dir: Path, setting: Setting) -> str | None:
        proc = subprocess.Popen(
            self.commands.command_for(setting) + " --check", shell=True, cwd=run_dir,
            env={**self.commands.env(), JOB_TOKEN: self._token},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            text=True, errors="replace", start_new_session=True,
        )
        self._track(proc.pid, add=True)
        try:
            out, err = proc.communicate(timeout=PREFLIGHT_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"{setting.label}: the preflight check did not finish in {PREFLIGHT_TIMEOUT} s"
        finally:
            kill_group(proc.pid)  # the check and anything it started
            proc.wait()
            self._track(proc.pid, add=False)
        if proc.returncode == 0:
            return None
        text = (err.strip() or out.strip() or "(no output)").splitlines()
        failed = [line for line in text if "CHECK FAILED" in line]
        shown = "\n".join(failed or text[-12:])
        return f"{setting.label}: preflight failed (exit {proc.returncode}):\n{shown}"

    def _track(self, pgid: int, add: bool) -> None:
        with self._lock:
            (self._groups.add if add else self._groups.discard)(pgid)
            listing = self.folder.preflight_groups
            try:
                if self._groups:
                    listing.write_text("".join(f"{g}\n" for g in sorted(self._groups)))
                else:
                    listing.unlink(missing_ok=True)
            except OSError:
                pass  # only a cleanup aid: the checks themselves are killed when they end

    def end_leftovers(self) -> None:
        """Kill the checks of a preflight whose engine was killed (kill -9, power cut)."""
        listing = self.folder.preflight_groups
        try:
            groups = {int(line) for line in listing.read_text().split() if line.isdigit()}
        except OSError:
            groups = set()
        # a check started in the instant before the listing was written has only its token
        for pgid in groups | token_groups(self._token):
            if is_our_group(pgid, self._token):
                kill_group(pgid)
        listing.unlink(missing_ok=True)
