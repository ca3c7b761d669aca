"""The terminal app of mlsbench-tui: a thin Textual view over the session engine.

Importing this package imports nothing from Textual: the CLI (tui.cli) runs
its scripted subcommands without a screen, and only `tui.app` pulls Textual in.
"""
