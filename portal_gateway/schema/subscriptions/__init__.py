"""Subscriptions: reading them, and what a customer may change."""
