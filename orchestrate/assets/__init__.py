"""The lifecycle's assets, one module per stage."""

import warnings

from dagster import BetaWarning, PreviewWarning

# Single-run backfills and freshness checks are marked beta/preview in Dagster; we rely on them knowingly.
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)
