"""Businesses: what a merchant sees of itself, and the settings it changes."""
