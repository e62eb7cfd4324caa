"""Principals, scope, API keys, link tokens and access tokens."""
