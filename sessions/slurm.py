"""The Slurm runner: each setting becomes one batch job.

The generated batch script runs the setting's command in the test's
snapshot, appends its output to the setting's log file and writes the exit
status beside it, as a local job does; the engine tails the log (watchdog,
or its polling observer on network file systems) and asks Slurm for the
job's state (squeue, then scontrol for jobs that have left the queue). The
job id is journaled, so a restarted app re-attaches by id.

The exit file is trusted as far as the local runner's wrapper is: it is read
only once Slurm says the batch script has ended (a file the training code
writes meanwhile changes nothing, and the wrapper overwrites it), it names
the job that wrote it (a stale or copied file from another job is refused),
and its status must agree with the exit code Slurm recorded for the job
while Slurm still remembers it. Before writing it, the wrapper kills what the
command left running in its process group, so nothing rewrites it later.
A job whose exit file is missing, unreadable or does not match is lost, and
the reason says which.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from sessions.events import DONE, ENDED, FAILED, LOST, QUEUED, RUNNING
from sessions.runner import JobState, Launch, metrics_channel_shell
from sessions.watch import LogWatcher

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RUNNING_STATES = {"RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "RESIZING"}
PENDING_STATES = {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED"}
ENDED_BY_ITSELF = {"COMPLETED", "FAILED"}  # the batch script exited: its wrapper wrote the exit file
EXIT_FILE_GRACE = 30.0  # seconds a finished job's exit file may take to appear (NFS)
FORGOTTEN = "Invalid job id"  # what scontrol says of a job that has left its memory


class SlurmConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SlurmConfig:
    partition: str
    account: str = ""
    qos: str = ""
    time_limit: str = ""  # e.g. "04:00:00"
    gres: str = ""  # e.g. "gpu:1"
    gpus: str = ""  # e.g. "1" or "a100:1"
    cpus_per_task: int = 0
    mem: str = ""  # e.g. "16G"
    extra_sbatch: tuple[str, ...] = field(default_factory=tuple)  # raw lines, e.g. "--constraint=a100"
    shared_dir: str = ""  # session files live here, visible to the compute nodes
    poll_interval: float = 2.0  # seconds between squeue queries of one job
    polling_observer: bool = False  # watchdog's polling observer (network file systems)

    @classmethod
    def load(cls, path: Path) -> SlurmConfig:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SlurmConfigError(
                f"the Slurm runner needs a config file; {path} does not exist. "
                "Write one with a [slurm] table (see the README, 'Running on a cluster')"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise SlurmConfigError(f"{path}: {exc}") from None
        table = raw.get("slurm")
        if not isinstance(table, dict):
            raise SlurmConfigError(f"{path}: a [slurm] table is missing")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise SlurmConfigError(f"{path}: unknown keys {unknown}; known: {', '.join(known)}")
        if not table.get("partition"):
            raise SlurmConfigError(f"{path}: [slurm] partition is required (the partition jobs are sent to)")
        values = dict(table)
        if "extra_sbatch" in values:
            extra = values["extra_sbatch"]
            if not isinstance(extra, list) or not all(isinstance(x, str) for x in extra):
                raise SlurmConfigError(f"{path}: extra_sbatch must be a list of strings")
            values["extra_sbatch"] = tuple(extra)
        for name, value in values.items():
            kind = known[name].type
            expected = {"str": str, "int": int, "float": (int, float), "bool": bool}.get(str(kind))
            if expected is not None and not isinstance(value, expected):
                raise SlurmConfigError(f"{path}: {name} must be a {kind}, got {value!r}")
        return cls(**values)

    def sbatch_lines(self) -> list[str]:
        options = {
            "--partition": self.partition, "--account": self.account, "--qos": self.qos,
            "--time": self.time_limit, "--gres": self.gres, "--gpus": self.gpus, "--mem": self.mem,
            "--cpus-per-task": str(self.cpus_per_task) if self.cpus_per_task else "",
        }
        lines = [f"#SBATCH {k}={v}" for k, v in options.items() if v]
        return lines + [f"#SBATCH {extra}" for extra in self.extra_sbatch]


def batch_wrapper(launch: Launch) -> list[str]:
    """Shell lines that run the command in its own process group, then kill what it left
    there and record "<status> <job id>" atomically in the exit file; the script exits
    with the command's status, so Slurm's record of the job carries it too."""
    log, done = shlex.quote(str(launch.log_path)), shlex.quote(str(launch.exit_path))
    tmp = shlex.quote(str(launch.exit_path) + ".tmp")
    head, channel = metrics_channel_shell(launch)
    return [
        f"rm -f {done} {tmp}",  # whatever was there is not this job's
        f"{head}setsid -w /bin/sh -c {shlex.quote(launch.command)} >>{log} 2>&1 </dev/null{channel} &",
        "group=$!",
        "wait $group; code=$?",
        "kill -KILL -$group 2>/dev/null",
        f'echo "$code $SLURM_JOB_ID" >{tmp} && mv {tmp} {done}',
        "exit $code",
    ]


def wrapper_status(exit_path: Path, job_id: str, slurm_code: int | None) -> JobState:
    """How the job ended by its exit file, if that file is this job's and agrees with Slurm
    (slurm_code: the exit code Slurm recorded, None where Slurm no longer knows the job)."""
    name = exit_path.name
    try:
        text = exit_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return JobState(LOST, detail=f"job {job_id} left no exit status ({name} is missing)")
    except OSError as exc:
        return JobState(LOST, detail=f"job {job_id}'s exit file {name} cannot be read: {exc.strerror}")
    words = text.split()
    if len(words) != 2 or not (words[0].isascii() and words[0].isdigit()):
        return JobState(LOST, detail=f"job {job_id}'s exit file {name} is not what the wrapper writes "
                                     f"(\"<status> <job id>\"): {text[:60]!r}")
    code, owner = int(words[0]), words[1]
    if owner != job_id:
        return JobState(LOST, detail=f"{name} was written by job {owner}, not by job {job_id} "
                                     "(a stale or forged file): its status is not taken")
    if slurm_code is not None and code != slurm_code:
        return JobState(LOST, detail=f"{name} says exit {code} but Slurm recorded exit {slurm_code} for "
                                     f"job {job_id} (the file was rewritten): neither is taken")
    return JobState(DONE if code == 0 else FAILED, code)


def require_tools() -> None:
    missing = [tool for tool in ("sbatch", "squeue", "scontrol", "scancel") if shutil.which(tool) is None]
    if missing:
        raise SlurmConfigError(
            f"the Slurm runner needs {', '.join(missing)} on PATH; run the app on a cluster login node, "
            "or use --runner local"
        )


class SlurmRunner:
    name = "slurm"

    def __init__(self, config: SlurmConfig):
        require_tools()
        self.config = config
        self._watcher = LogWatcher(polling=config.polling_observer, poll_interval=min(1.0, config.poll_interval))
        self._cache: dict[str, tuple[float, JobState]] = {}
        self._finished_seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def batch_script(self, launch: Launch) -> str:
        return "\n".join([
            "#!/bin/sh",
            f"#SBATCH --job-name=mlsbench-{launch.label}",
            f"#SBATCH --chdir={launch.cwd}",
            "#SBATCH --output=/dev/null",  # the command itself writes the setting's log
            "#SBATCH --export=ALL",
            *self.config.sbatch_lines(),
            *batch_wrapper(launch),
            "",
        ])

    def start(self, launch: Launch) -> str:
        launch.log_path.parent.mkdir(parents=True, exist_ok=True)
        script = launch.log_path.with_suffix(".sbatch")
        script.write_text(self.batch_script(launch), encoding="utf-8")
        self._watcher.waiter(launch.log_path)  # watch the folder before output arrives
        proc = subprocess.run(["sbatch", "--parsable", str(script)], capture_output=True, text=True,
                              env=launch.env, cwd=launch.cwd)
        if proc.returncode != 0:
            raise SlurmConfigError(f"sbatch refused the job for {launch.label}: {proc.stderr.strip()}")
        return proc.stdout.strip().split(";")[0]

    def state(self, job_id: str, launch: Launch) -> JobState:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(job_id)
            if cached and (cached[1].status in ENDED or now - cached[0] < self.config.poll_interval):
                return cached[1]
        state = self._query(job_id, launch)
        with self._lock:
            self._cache[job_id] = (now, state)
        return state

    def _query(self, job_id: str, launch: Launch) -> JobState:
        out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T|%r"], capture_output=True, text=True)
        line = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
        if line:
            slurm_state, _, reason = line.partition("|")
            if slurm_state in PENDING_STATES:
                return JobState(QUEUED, detail=f"pending: {reason}")
            if slurm_state in RUNNING_STATES:
                return JobState(RUNNING)
        info, trouble = self._scontrol(job_id)
        if trouble:
            return JobState(RUNNING, detail=f"Slurm does not answer ({trouble}); asking again")
        slurm_state = info.get("JobState", "")
        if not slurm_state:  # forgotten (MinJobAge): only the exit file is left to tell
            ended = wrapper_status(launch.exit_path, job_id, None)
            if ended.status == LOST:
                return JobState(LOST, detail=f"Slurm no longer knows job {job_id}, and {ended.detail}")
            return ended
        if slurm_state in RUNNING_STATES | PENDING_STATES:
            return JobState(RUNNING if slurm_state in RUNNING_STATES else QUEUED, detail=info.get("Reason", ""))
        slurm_code = slurm_exit_status(info.get("ExitCode", ""))
        if slurm_state in ENDED_BY_ITSELF:
            return self._wrapper_ended(job_id, launch, slurm_state, slurm_code)
        return JobState(
            FAILED, slurm_code or 1,
            detail=f"Slurm ended the job: {slurm_state} ({info.get('Reason', '')})",
        )

    def _wrapper_ended(self, job_id: str, launch: Launch, slurm_state: str, slurm_code: int | None) -> JobState:
        ended = wrapper_status(launch.exit_path, job_id, slurm_code)
        if ended.status != LOST:
            return ended
        # The exit file may lag the job's end on a shared file system: wait a little.
        first = self._finished_seen.setdefault(job_id, time.monotonic())
        if time.monotonic() - first < EXIT_FILE_GRACE:
            return JobState(RUNNING, detail="ended; waiting for its exit file")
        seen = f"Slurm: {slurm_state}" + (f", exit {slurm_code}" if slurm_code is not None else "")
        return JobState(LOST, detail=f"job {job_id} ended ({seen}) but {ended.detail}")

    @staticmethod
    def _scontrol(job_id: str) -> tuple[dict[str, str], str]:
        """The job's fields ({} when Slurm has forgotten it), and what went wrong asking."""
        out = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True)
        if out.returncode != 0:
            error = out.stderr.strip()
            return {}, "" if FORGOTTEN in error else (error or f"scontrol exited {out.returncode}")
        return dict(re.findall(r"(\w+)=(\S*)", out.stdout)), ""

    def idle(self, launch: Launch) -> None:
        event = self._watcher.waiter(launch.log_path)
        event.wait(self.config.poll_interval)
        event.clear()

    def cancel(self, job_id: str) -> None:
        subprocess.run(["scancel", job_id], capture_output=True, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True)
            if not out.stdout.strip():
                break
            time.sleep(0.2)
        with self._lock:
            self._cache.pop(job_id, None)


def slurm_exit_status(slurm_exit: str) -> int | None:
    """Slurm's "code:signal" as a shell would report it (128 + signal if killed); None if absent."""
    code, _, signal = slurm_exit.partition(":")
    if not (code.isdigit() and signal.isdigit()):
        return None
    return 128 + int(signal) if int(signal) else int(code)
