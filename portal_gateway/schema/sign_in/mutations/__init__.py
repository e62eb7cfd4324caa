"""One mutation per module."""
