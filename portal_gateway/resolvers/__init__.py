"""Thin functions between GraphQL arguments and services or loaders."""
