"""The editable files: one guarded editor per file, saving into the session, and the
changes another editor saves to the workspace (accepted when they keep to the editable
lines, otherwise put back, the rejected text kept in the session folder)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TabbedContent, TabPane

from sessions.disk_sync import UNREADABLE
from sessions.engine import Session
from sessions.errors import Refused
from sessions.settings import current_settings
from tui import recovery
from tui.model import safe_id
from tui.notices import show_refusal
from tui.screens.dialogs import ConfirmDialog
from tui.widgets.editor import GuardedEditor

LINE_EDITORS = {"vi", "vim", "nvim", "nano", "emacs", "micro", "kak", "hx", "helix", "joe", "jed", "mg"}
DISK_SETTLE = 0.2  # seconds a file must stay unchanged before a change on disk is read


class SessionEditor(GuardedEditor):
    """A guarded editor that offers no undo or redo while it is read-only (a submitted
    session takes no more edits; TextArea's own undo ignores read_only)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("undo", "redo") and self.read_only:
            return False
        return super().check_action(action, parameters)


class DiskChanged(Message):
    """The workspace watcher saw an editable file change (posted from its thread)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class FilesPane(Vertical):
    def __init__(self, session: Session, *, cursor_blink: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.cursor_blink = cursor_blink
        self.external_editing = False
        self._disk_timers: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        with TabbedContent(id="files"):
            for path in self.session.editable_paths:
                state = self.session.file_state(path)
                with TabPane(path, id=f"file-{safe_id(path)}"):
                    yield SessionEditor(
                        path, state.text, state.lines, state.ranges,
                        cursor_blink=self.cursor_blink, id=f"editor-{safe_id(path)}",
                    )

    def on_mount(self) -> None:
        if len(self.session.editable_paths) == 1:
            self.query_one("#files", TabbedContent).add_class("single")
        self.set_read_only(self.session.state.submission is not None)

    # -- the editors -----------------------------------------------------------------------
    def editors(self) -> list[GuardedEditor]:
        return list(self.query(GuardedEditor))

    def editor_for(self, path: str) -> GuardedEditor | None:
        return next((e for e in self.editors() if e.path == path), None)

    def active_editor(self) -> GuardedEditor | None:
        pane = self.query_one("#files", TabbedContent).active_pane
        if pane is not None:
            found = list(pane.query(GuardedEditor))
            if found:
                return found[0]
        editors = self.editors()
        return editors[0] if editors else None

    def unsaved(self) -> dict[str, str]:
        """path -> text of every editor whose text the session does not have."""
        return {e.path: e.text for e in self.editors() if e.dirty}

    def set_read_only(self, read_only: bool, because: str | None = None) -> None:
        """Read-only once a test is submitted: the session takes no more edits; or for a
        while (`because`: paused, out of time), which a key in the editor then says."""
        for editor in self.editors():
            editor.read_only = read_only
            editor.locked_because = because if read_only else None
            self.label_file(editor)
        self.screen.refresh_bindings()

    def label_file(self, editor: GuardedEditor) -> None:
        mark = " ●" if editor.dirty else ""
        ro = " (read-only)" if editor.read_only else ""
        self.query_one("#files", TabbedContent).get_tab(f"file-{safe_id(editor.path)}").label = f"{editor.path}{mark}{ro}"
        name = f"{editor.path}{mark}{ro} · " if len(self.session.editable_paths) == 1 else ""
        self.border_title = name + editor.legend()
        self.border_subtitle = "● unsaved · ctrl+s saves to the session" if editor.dirty else ""

    @on(GuardedEditor.DirtyChanged)
    def _dirty_changed(self, event: GuardedEditor.DirtyChanged) -> None:
        self.label_file(event.editor)

    @on(TabbedContent.TabActivated, "#files")
    def _file_tab(self, event: TabbedContent.TabActivated) -> None:
        editor = self.active_editor()
        if editor is not None:
            self.label_file(editor)

    # -- into the session --------------------------------------------------------------------
    def save_all(self, quiet: bool = False) -> bool:
        """Apply every unsaved editor to the engine; False if one was refused."""
        ok = True
        for editor in self.editors():
            if not editor.dirty:
                continue
            try:
                message = self.session.replace_text(editor.path, editor.text)
            except Refused as exc:
                show_refusal(self.app, f"Not saved: {editor.path}", str(exc))
                ok = False
                continue
            editor.mark_saved(self.session.file_state(editor.path).ranges)
            self.label_file(editor)
            if message and not quiet:
                self.notify(message, title="Saved (journaled)", timeout=5)
        return ok

    def reload(self) -> None:
        """Show the session's text where an editor differs (after an undo)."""
        for editor in self.editors():
            state = self.session.file_state(editor.path)
            if editor.text != state.text or editor.ranges != state.ranges:
                editor.show_saved(state.text, state.ranges)
            self.label_file(editor)

    def restore_unsaved(self, texts: dict[str, str]) -> None:
        """Put unsaved texts (a recovery copy) back into their editors, still unsaved."""
        for path, text in texts.items():
            editor = self.editor_for(path)
            if editor is not None and text != editor.text:
                editor.load_text(text)
                self.label_file(editor)

    def offer_recovery(self) -> None:
        """Offer back the unsaved text the app was left with last time (see `recovery`)."""
        try:
            copy = recovery.read(self.session.dir)
        except ValueError as exc:
            show_refusal(self.app, "Recovery copy", str(exc))
            return
        if copy is None:
            return
        differs = {p: t for p, t in copy.texts.items() if p in self.session.editable_paths
                   and t != self.session.file_state(p).text}
        if not differs or self.session.state.submission is not None:
            recovery.forget(self.session.dir)
            return

        def chosen(restore: bool | None) -> None:
            if restore:
                self.restore_unsaved(differs)
            recovery.forget(self.session.dir)

        self.app.push_screen(ConfirmDialog(
            "Unsaved changes from last time",
            f"The app was left on {copy.saved_at or 'an earlier run'} with changes to {', '.join(differs)} "
            "that the session does not have. Put them back in the editor (still unsaved)?",
            confirm="Put them back", cancel="Discard them"), chosen)

    # -- another editor -------------------------------------------------------------------------
    def edit_externally(self) -> None:
        """Open the active file in $VISUAL / $EDITOR, then record what it saved."""
        editor = self.active_editor()
        if editor is None:
            return
        if editor.dirty and not self.save_all(quiet=True):
            return
        command = current_settings().editor
        if not command:
            command = "vi" if shutil.which("vi") else ""
        if not command:
            show_refusal(self.app, "No editor", "set $EDITOR (for example: export EDITOR=nano) to edit the file outside the app")
            return
        argv = shlex.split(command)
        if Path(argv[0]).name in LINE_EDITORS and editor.ranges:
            argv.append(f"+{editor.ranges[0].start}")
        argv.append(str(self.session.workspace / editor.path))
        self.external_editing = True
        try:
            try:
                with self.app.suspend():
                    code = subprocess.call(argv)
            except SuspendNotSupported:  # no terminal to hand over (tests, web): run it as it is
                code = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            show_refusal(self.app, "Editor failed", f"could not run {command!r}: {exc}")
            return
        finally:
            self.external_editing = False
        if code != 0:
            self.notify(f"{argv[0]} exited with status {code}; checking the file anyway", severity="warning")
        if not self.check_disk(editor.path, source=Path(argv[0]).name):
            self.notify("No change to the editable lines.", timeout=3)

    def disk_changed(self, path: str) -> None:
        """The watcher saw `path` change: read it once it has settled."""
        timer = self._disk_timers.pop(path, None)
        if timer is not None:
            timer.stop()  # type: ignore[attr-defined]
        self._disk_timers[path] = self.set_timer(DISK_SETTLE, lambda: self._disk_settled(path))

    def _disk_settled(self, path: str) -> None:
        self._disk_timers.pop(path, None)
        if not self.external_editing:
            self.check_disk(path, source="another editor")

    def check_disk(self, path: str, source: str) -> bool:
        """Have the engine take in, or put back, a change saved to the workspace file (the
        policy `session sync` follows too), and say which. True when the disk differed."""
        editor = self.editor_for(path)
        unsaved = editor.text if editor is not None and editor.dirty else None
        outcome = self.session.reconcile_disk(path, unsaved)
        if outcome.refusal:
            unreadable = outcome.outcome == UNREADABLE
            show_refusal(self.app, "Workspace file unreadable" if unreadable else f"Change from {source} refused",
                         outcome.refusal)
        elif outcome.changed:
            if editor is not None:
                state = self.session.file_state(path)
                editor.show_saved(state.text, state.ranges)
                self.label_file(editor)
            note = f" The app's unsaved version was replaced; it is kept in {outcome.kept}." if outcome.kept else ""
            self.notify(f"{outcome.message or 'recorded'}{note}", title=f"Change from {source} accepted", timeout=6)
        return outcome.changed
