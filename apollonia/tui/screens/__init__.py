"""The screens of `apollonia tui` (the view hierarchy of seed 002)."""
