"""The same project on other engines than DuckDB, from the lake (docs/scale-out.md): PostgreSQL (postgres.py) and
Spark (spark.py), built by build.py."""

# profiles.yml's targets `tidewater build --target` and `tidewater bench --target` take.
ENGINES = ("postgres", "spark")
