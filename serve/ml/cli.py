"""`tidewater features CUSTOMER_ID...`: customers' latest features from the Feast online store (feature_store.py)."""

from __future__ import annotations

from typing import Any

import click

from tidewater.orchestrate.settings import Settings


def format_value(name: str, value: Any) -> str:
    if value is None:
        return "-"  # e.g. days_since_last_order before the first order
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name.startswith("revenue_"):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}"


@click.command(
    "features",
    help="Customers' latest features from the feature store (Feast's online store, loaded by the last run): one "
    "column per customer.",
)
@click.argument("customer_ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.pass_obj
def features(settings: Settings, customer_ids: tuple[int, ...]) -> None:
    from tidewater.serve.ml.feature_store import online_features

    found, _ = online_features(settings, customer_ids)
    known = [customer for customer in found if customer.as_of_date is not None]
    if known:
        names = list(known[0].features)
        width = max(len(name) for name in [*names, "as_of_date"])
        header = "".join(f"{customer.customer_id:>14}" for customer in known)
        click.echo(f"{'customer_id':<{width}}{header}")
        click.echo(f"{'as_of_date':<{width}}" + "".join(f"{customer.as_of_date!s:>14}" for customer in known))
        for name in names:
            values = "".join(f"{format_value(name, customer.features[name]):>14}" for customer in known)
            click.echo(f"{name:<{width}}{values}")
    for customer in found:
        if customer.as_of_date is None:
            click.echo(f"customer {customer.customer_id}: not in the feature store (unknown or erased)")
