"""`tidewater bench`: the pipeline's stages timed at several scales, and its extract+load against dlt and DuckDB."""
