"""The loader's own tests: target-duckdb-explicit-csv on Singer messages written by the tests, no tap, no Meltano."""
