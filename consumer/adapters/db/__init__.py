"""Catalog persistence: tables, engine, migrations, repositories and the unit of work."""
