"""Payments and saved cards."""
