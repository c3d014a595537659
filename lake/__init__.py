"""The lake: the engine-neutral copy of what the loaders wrote, as Parquet (export.py)."""
