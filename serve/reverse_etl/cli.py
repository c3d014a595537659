"""`tidewater sync`: the reverse ETL alone on the data folder (serve/reverse_etl/sync.py), e.g. again after a
failed delivery, without a pipeline run."""

from __future__ import annotations

import click

from tidewater.orchestrate.settings import Settings


@click.command(
    "sync",
    help="Send the audiences' changes since the last sync to the CRM database (and the webhook, when "
    "TIDEWATER_CRM_WEBHOOK_URL is set); log in reverse_etl.sync_log.",
)
@click.pass_obj
def sync_command(settings: Settings) -> None:
    from tidewater.orchestrate import warehouse
    from tidewater.serve.reverse_etl.sync import sync

    with warehouse.run_lock(settings.warehouse, "tidewater sync"):
        results = sync(settings, log=click.echo)
    for result in results:
        click.echo(
            f"  {result.destination:<8} {result.audience_id:<28} sent {result.rows_sent:>6,}  updated "
            f"{result.rows_updated:>6,}  removed {result.rows_removed:>6,}  rejected {result.rows_rejected:>4,}  "
            f"blocked {result.rows_blocked:>6,}"
        )
