"""`apollonia tui`: the terminal UI (Textual). Imported only when that command runs, so the rest
of the CLI never pays for Textual."""
