"""Keys and rules, in one place."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# mlsbench-tui: keys

| key | what it does |
|---|---|
| **ctrl+s** | save the editor: the change is applied to the session (journaled); code that does not compile is still saved, and the file, line, column and error are shown |
| **ctrl+z** / **ctrl+y** | undo / redo typing; with nothing unsaved, ctrl+z undoes the last saved edit |
| **F5** or **ctrl+t** | run a test (a dialog shows what it spends first) |
| **F8** or **ctrl+b** | cancel the running test (it is not refunded) |
| **F9** or **ctrl+g** | submit: choose a test, confirm; the hidden settings then run |
| **F4** or **ctrl+o** | open the file in `$EDITOR`; on return the change is checked |
| **F3** or **ctrl+l** | leaderboard (one profile at a time) |
| **F2** | the task description as a pane, or as one line above the editor (one line by default below 120 columns) |
| **F6** | next layout: editor and logs → logs only (editor hidden) → editor only (logs hidden) |
| **F7** | next tab of the log panel (settings, History) |
| **F12** | show or hide the ghosts: the best baseline's and each agent's re-scored curves on your profile, under yours, with their final values in the metrics table (the footer offers it where there are ghosts) |
| **ctrl+n** / **ctrl+p** | focus the next / previous pane (task, editor, logs); the focused pane is marked in the accent colour |
| **F10** (or **p** outside the editor) | pause or resume the working clock: while paused nothing can be edited or tested (a running test keeps running); pauses are journaled and not counted as working time |
| **ctrl+r** (or **n** outside the editor) | write a note (markdown) at the step the session is at; notes are journaled, exported, shown in History and in replays |
| **F1** | this help · **ctrl+q** quit |

## In the editor

| key | what it does |
|---|---|
| **tab** | indent: spaces to the next tab stop, or every selected line one level (4 spaces) deeper |
| **shift+tab** | dedent the cursor's line, or every selected line, one level |
| **enter** | new line at the same indentation; one level deeper after a line ending in `:` or an open bracket, one less after `return`, `pass`, `raise`, `continue`, `break` |
| **ctrl+f** | find in the file (case matters only when the text has a capital): **enter** or **↓** next match, **↑** previous, `:N` goes to line N, **escape** closes |
| **alt+g** | go to a line |
| **escape** | leave the editor (the focus moves to the next widget; **ctrl+n** / **ctrl+p** move between panes) |

Outside the editor, **tab** / **shift+tab** move the focus between widgets.
In a log pane (the whole log, read from disk): **home** / **end** its first / last
line, **w** wraps long lines or not (unwrapped, **←** / **→** scroll sideways),
**m** plots the next metric.

# The rules (as the agents had them)

- Only the lines marked **┃** in the gutter may change; lines marked **│** are
  fixed, and any key, paste, cut or undo that would change them is refused.
  Editing inside a range moves its end, as the engine defines.
- The file may also be edited in another editor: saved changes are picked up
  and checked the same way; a change to fixed lines is reverted on disk
  (your version is kept in the session's `rejected-edits/` folder).
- A test runs every visible setting on a snapshot of your code and spends one
  unit of the budget, also when it fails or is cancelled. Nothing is spent
  when the preflight check refuses to start it.
- The working clock runs while the app is open and not paused (the header
  shows it; closing the app stops it). With a time limit (`--time-limit 2h`
  when the session is created) only a submission is possible once it is used up.
- Submit picks one finished test as your answer; its code also runs on the
  hidden settings, and the session closes with its final table.
"""


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; max-width: 95%; height: 90%; border: thick $primary; background: $surface; }
    """
    BINDINGS = [Binding("escape,q,f1", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Markdown(HELP)
