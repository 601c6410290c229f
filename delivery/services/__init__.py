"""Writes of the delivery app's dashboard: sender domains and per-site settings."""
