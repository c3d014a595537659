"""Business days: the sources' simulated calendar, one Dagster partition a day.

The generator writes a year of history ending on 2026-10-31 (day 0, the first partition); each later partition is
one business day the sources move on (`generate/advance.py`: day 1 is 2026-11-01). Materializing a day brings the
sources up to it, loads what arrived and builds the marts; a range of days runs as one run (single-run backfills),
which gives the same marts as the days one by one. The calendar is the simulation's, not the wall clock's: it runs
to 2027-12-31.
"""

from __future__ import annotations

from datetime import date, timedelta

from dagster import BackfillPolicy, DailyPartitionsDefinition

from tidewater.generate.config import WINDOW_END

FIRST_DAY = WINDOW_END.date()
LAST_DAY = date(2027, 12, 31)  # the last business day the simulation can move to (the metrics follow the data)

business_days = DailyPartitionsDefinition(
    start_date=FIRST_DAY.isoformat(),
    end_date=(LAST_DAY + timedelta(days=1)).isoformat(),
    # Every day of the simulated calendar is a partition now, whatever today's date is.
    end_offset=(LAST_DAY - FIRST_DAY).days + 1,
)
# A range of days is one run: the generator advances day after day, then one load and one incremental build.
one_run = BackfillPolicy.single_run()


def day_index(partition_key: str) -> int:
    """0 for the generated year, k for the k-th advanced business day."""
    return (date.fromisoformat(partition_key) - FIRST_DAY).days


def partition_key(day: int) -> str:
    return (FIRST_DAY + timedelta(days=day)).isoformat()
