"""Thin CLI commands over the library API; one module per ``xkde-data`` command."""
