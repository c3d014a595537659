"""The same project on other engines than DuckDB, from the lake (docs/scale-out.md): PostgreSQL (postgres.py)."""
