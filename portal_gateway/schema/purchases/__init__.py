"""Purchases and the license keys they came with."""
