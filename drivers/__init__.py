"""Fixed training scaffolds, run as subprocesses in a session workspace; never imported by the app."""
