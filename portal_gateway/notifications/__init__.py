"""Outbox, dispatcher, email backends and templates.

Knows nothing of the domain: what a job becomes is decided by the composers
that the app registers with the dispatcher.
"""
