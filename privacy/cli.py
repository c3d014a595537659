"""`tidewater forget CUSTOMER_ID...`: erase customers from every store of the data folder (privacy/erasure.py)."""

from __future__ import annotations

import click

from tidewater.orchestrate.settings import Settings


@click.command(
    help="Erase customers from every store of the data folder: raw, snapshot history, Elementary's samples, marts, "
    "serving copies."
)
@click.argument("customer_ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.option(
    "--no-run",
    is_flag=True,
    help="Only record the request and erase raw, the snapshot and Elementary's samples now; the marts and the serving "
    "copy follow at the next run.",
)
@click.pass_obj
def forget(settings: Settings, customer_ids: tuple[int, ...], no_run: bool) -> None:
    from tidewater.orchestrate import runner, warehouse
    from tidewater.privacy import erasure

    with (
        warehouse.run_lock(settings.warehouse, "tidewater forget"),
        warehouse.connect(settings.warehouse, read_only=False) as con,
    ):
        new = erasure.request(con, customer_ids, requested_by="tidewater forget")
        removed = erasure.apply(con)
    already = sorted(set(customer_ids) - set(new))
    click.echo(f"erasure recorded for {len(new)} customer(s)" + (f"; already requested: {already}" if already else ""))
    click.echo("removed now: " + ", ".join(f"{table} {rows:,} rows" for table, rows in removed.items()))
    if no_run:
        click.echo("the marts and the serving copy follow at the next run (`make run`)")
        return
    # One run of the lifecycle on the current day: it builds the marts and a new serving copy without them, and
    # drops the copies made before (serve/published.py).
    summary = runner.run(settings, seed=None, scale=None)
    runner.print_summary(settings, summary)
