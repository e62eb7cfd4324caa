"""Invoices and their lines."""
