"""Small shared modules: money, time, errors, ids. Imports nothing else of ours."""
