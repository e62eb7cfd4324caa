"""Signing in and out, and the links that lead there."""
