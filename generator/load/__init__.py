"""Readers that keep positions: YAML keys with their line and column, CSV rows with their line."""
