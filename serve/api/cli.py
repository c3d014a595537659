"""`tidewater api-token issue|revoke|list`: the suppliers' API tokens of the data folder (serve/api/tokens.py)."""

from __future__ import annotations

import json

import click

from tidewater.orchestrate.settings import Settings


@click.group(name="api-token", help=__doc__)
def api_token() -> None:
    pass


@api_token.command(help="A new token for SUPPLIER_ID, printed once: only its hash is kept.")
@click.argument("supplier_id", type=int)
@click.pass_obj
def issue(settings: Settings, supplier_id: int) -> None:
    from tidewater.serve.api import tokens

    token = tokens.issue(settings, supplier_id)
    click.echo(token)
    click.echo(f"(supplier {supplier_id}; store it now, it is not shown again)", err=True)


@api_token.command(help="Revoke one token (TOKEN_ID, from `list`) or every token of a supplier (--supplier).")
@click.argument("token_id", required=False)
@click.option("--supplier", "supplier_id", type=int, help="Revoke every active token of this supplier.")
@click.pass_obj
def revoke(settings: Settings, token_id: str | None, supplier_id: int | None) -> None:
    from tidewater.serve.api import tokens

    revoked = tokens.revoke(settings, token_id=token_id, supplier_id=supplier_id)
    click.echo(f"revoked: {', '.join(revoked)}" if revoked else "nothing to revoke: already revoked")


@api_token.command(name="list", help="Every token's id, supplier, issue and revocation time (never the token).")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def list_tokens(settings: Settings, as_json: bool) -> None:
    from tidewater.serve.api import tokens

    records = tokens.listing(settings)
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for record in records:
        state = f"revoked {record['revoked_at']}" if record["revoked_at"] else "active"
        click.echo(f"{record['token_id']}  supplier {record['supplier_id']:>6}  issued {record['issued_at']}  {state}")
    if not records:
        click.echo("no tokens")
