"""Importers: where a collection's items come from (the filesystem today)."""
