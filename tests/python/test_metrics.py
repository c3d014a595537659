"""The semantic layer answers on DuckDB (`mf query`), and its answers equal the marts'."""

from __future__ import annotations

import csv
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Built
from helpers import BIN

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

BUSINESS_METRICS = [
    "revenue",
    "orders",
    "average_order_value",
    "active_customers",
    "conversion_rate",
    "cost_per_acquisition",
    "return_on_ad_spend",
]


def mf_query(run: Built, workdir: Path, *args: str) -> list[dict[str, str]]:
    """`mf` reads the semantic manifest from <project>/target only: give it a project folder whose target/ is
    this run's dbt target, so the test neither needs nor touches the user's target/."""
    project = workdir / "project"
    project.mkdir(exist_ok=True)
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests"):
        (project / name).symlink_to(PROJECT_ROOT / name)
    (project / "target").symlink_to(run.settings.dbt_target_dir)
    out = workdir / "mf.csv"
    env = {**os.environ, **run.settings.env(), "DBT_PROFILES_DIR": str(project)}
    env.pop("DBT_TARGET_PATH")
    result = subprocess.run(
        [str(BIN / "mf"), "query", *args, "--csv", str(out)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    with out.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def monthly(built: Built, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    return mf_query(
        built,
        tmp_path_factory.mktemp("mf"),
        "--metrics",
        ",".join(BUSINESS_METRICS),
        "--group-by",
        "metric_time__month",
    )


@pytest.mark.parametrize("metric", BUSINESS_METRICS)
def test_every_business_metric_answers(monthly: list[dict[str, str]], metric: str) -> None:
    values = [row[metric] for row in monthly if row[metric] not in ("", None)]
    assert values, f"mf query gave no value for {metric}"
    assert all(Decimal(value) >= 0 for value in values)


def test_monthly_revenue_and_orders_add_up_to_the_marts(built: Built, monthly: list[dict[str, str]]) -> None:
    with warehouse.connect(built.settings.warehouse) as connection:
        ((revenue, orders),) = connection.execute(
            "select sum(case when not is_cancelled then order_revenue else 0 end), count(*) from marts.fct_orders"
        ).fetchall()
    assert sum(Decimal(r["revenue"]) for r in monthly if r["revenue"]) == Decimal(str(revenue))
    assert sum(int(r["orders"]) for r in monthly if r["orders"]) == orders


def test_average_order_value_is_revenue_per_non_cancelled_order(built: Built, monthly: list[dict[str, str]]) -> None:
    with warehouse.connect(built.settings.warehouse) as connection:
        rows = dict(
            connection.execute(
                "select strftime(order_date, '%Y-%m'), sum(order_revenue) / count(*) from marts.fct_orders "
                "where not is_cancelled group by 1"
            ).fetchall()
        )
    for row in monthly:
        if row["average_order_value"]:
            month = row["metric_time__month"][:7]
            assert float(row["average_order_value"]) == pytest.approx(float(rows[month]), rel=1e-9)
