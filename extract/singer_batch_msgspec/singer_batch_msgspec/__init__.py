"""tap-postgres (meltanolabs-tap-postgres 0.10.0) with its JSON-lines batch files written by msgspec: see batcher.py."""
