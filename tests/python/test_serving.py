"""The serving copy (serve/published.py): what the dashboards and the API read instead of the warehouse. Every run
promotes a whole copy of the marts and metric marts, with nothing that identifies a person; a copy whose checks fail
is never promoted."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import Built
from test_governance import looks_personal

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings
from tidewater.serve import published

pytestmark = pytest.mark.e2e


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, int]:
    names = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in (select unnest(?)) order by 1, 2",
        [list(schemas)],
    ).fetchall()
    return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in names}


def test_the_run_promotes_a_whole_copy_of_the_marts_and_metric_marts(built: Built) -> None:
    settings = built.settings
    with duckdb.connect(str(settings.warehouse), read_only=True) as wh, published.connect(settings) as copy:
        in_warehouse = _tables(wh, published.SCHEMAS)
        assert in_warehouse
        assert _tables(copy, published.SCHEMAS) == in_warehouse
        # The copy is read-only for its readers.
        with pytest.raises(duckdb.InvalidInputException, match="read-only"):
            copy.execute("delete from marts.fct_orders")
    # The current copy is a symlink, relative, so a copied or moved data folder still finds it.
    link = settings.serving_dir / published.CURRENT
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()


def test_nothing_that_identifies_a_person_is_served(built: Built) -> None:
    """The copy holds only schemas past staging (and Elementary's run tables): no column there is named like personal
    data (the classification and its tests, test_governance.py, keep such columns in staging)."""
    with published.connect(built.settings) as copy:
        served = {name for (name,) in copy.execute("select column_name from duckdb_columns()").fetchall()}
    assert "customer_id" in served
    assert not {name for name in served if looks_personal(name)}


def test_a_copy_whose_checks_fail_is_not_promoted(built: Built, tmp_path: Path) -> None:
    """A failing step (a broken dashboard query, an export that cannot be written) fails the publication: the previous
    copy stays current and the half-made one is removed."""
    settings = Settings.load(tmp_path / "data")
    settings.warehouse.parent.mkdir(parents=True)
    settings.warehouse.symlink_to(built.settings.warehouse)
    first = published.publish(settings, {})

    def broken(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        con.execute("select no_such_column from marts.fct_orders")
        return {}

    with pytest.raises(duckdb.BinderException, match="no_such_column"):
        published.publish(settings, {"dashboards": broken})
    assert published.current_database(settings) == first.database
    assert [p.name for p in settings.serving_dir.iterdir() if not p.is_symlink()] == [first.database.parent.name]


def test_readers_get_one_clear_line_before_the_first_run(tmp_path: Path) -> None:
    with pytest.raises(TidewaterError, match=r"nothing published .* run `make run` first"):
        published.connect(Settings.load(tmp_path / "data"))
