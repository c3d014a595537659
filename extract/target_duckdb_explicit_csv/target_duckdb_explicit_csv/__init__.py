"""target-duckdb 0.8.0 (pipelinewise, not a Meltano SDK target), run with its batch CSV dialect stated, a faster
per-record path, Singer BATCH files read by DuckDB and a warehouse shared between loaders: see target.py."""
