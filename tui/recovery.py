"""A recovery copy of the editors' unsaved text, kept in the session folder when the app
is left with text the session does not have; the next start offers it back."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

FILE_NAME = "unsaved-editor.json"


@dataclass(frozen=True)
class Recovery:
    texts: dict[str, str]  # editable path -> the unsaved text
    saved_at: str  # ISO time the copy was written


def recovery_path(session_dir: Path) -> Path:
    return session_dir / FILE_NAME


def keep(session_dir: Path, texts: dict[str, str]) -> Path:
    """Write the copy (atomically: a crash leaves the old copy or the new one)."""
    target = recovery_path(session_dir)
    tmp = target.with_name(target.name + ".tmp")
    body = {"saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "texts": texts}
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(body, fh)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(target)
    return target


def read(session_dir: Path) -> Recovery | None:
    """The copy, or None when there is none. Raises ValueError when it cannot be read (the
    file is then left where it is, for the person to open)."""
    target = recovery_path(session_dir)
    try:
        body = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the recovery copy {target} cannot be read ({exc}); it was left as it is") from exc
    texts = body.get("texts") if isinstance(body, dict) else None
    if not isinstance(texts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in texts.items()):
        raise ValueError(f"the recovery copy {target} is not one this app wrote; it was left as it is")
    return Recovery(texts, str(body.get("saved_at", "")))


def forget(session_dir: Path) -> None:
    recovery_path(session_dir).unlink(missing_ok=True)
