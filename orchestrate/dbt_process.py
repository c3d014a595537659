"""`tidewater-dbt`: the dbt executable the pipeline runs (dagster-dbt's `dbt_executable`, orchestrate/dbt.py). It is
dbt's own command line, with Python's cyclic garbage collector run less often.

dbt makes a great many small, long-lived objects (for every node, a namespace of every macro of the project and its
packages), and at Python's default thresholds the collector walks them again and again. Run over a hundred times less
often at the youngest generation, it frees the same cycles later, and the build needs less CPU for a few percent more
memory (docs/benchmark.md, "Seventh pass"). A `dbt` typed by hand is dbt's own, unchanged.
"""

import gc

# Python's defaults are (700, 10, 10).
THRESHOLDS = (100_000, 50, 50)


def main() -> None:
    gc.set_threshold(*THRESHOLDS)
    from dbt.cli.main import cli  # after the thresholds: importing dbt makes many objects already

    cli(prog_name="dbt")
