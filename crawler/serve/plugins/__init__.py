"""Datasette plugins of the served corpus (loaded by Datasette from this folder: --plugins-dir)."""
