"""The dashboards (serve/dashboards/, `make dashboards`): the Streamlit app served on 127.0.0.1 over the built
pipeline's serving copy, every page opened in a real browser (headless Chromium): no error, charts drawn, nothing
fetched from anywhere but the app, and the KPI tiles equal to the metric marts to the cent. Each page reads only the
models its dbt exposure names, and `check` (run before a copy is promoted) names the page of a broken query.

A screenshot of each page is kept for people to look at, the suite's artifacts: test-artifacts/dashboards/ in the
project (git-ignored; the path is printed)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot
from conftest import Built
from helpers import rows, served
from playwright.sync_api import Page, Request, sync_playwright
from sqlglot import exp

from tidewater.orchestrate.settings import PROJECT_ROOT, Settings
from tidewater.serve import exports, published
from tidewater.serve.dashboards import command, queries

pytestmark = pytest.mark.e2e

CENT = Decimal("0.01")


@dataclass
class Rendered:
    """What a viewer sees on one page once it has rendered."""

    url: str
    errors: list[str] = field(default_factory=list)
    charts: int = 0
    charts_drawn: int = 0
    tiles: dict[str, str] = field(default_factory=dict)
    foreign_requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None


@dataclass(frozen=True)
class App:
    url: str
    # The data folder the app reads: the built pipeline's serving copy, copied, so a test may promote another.
    settings: Settings


def _promote(settings: Settings, database: Path) -> Path:
    """Make a copy of `database` the current serving copy, as serve/published.py does (one symlink replaced)."""
    folder = settings.serving_dir / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder.mkdir(parents=True)
    shutil.copy2(database, folder / published.FILE_NAME)
    staged = settings.serving_dir / ".current.test"
    staged.symlink_to(folder.name)
    os.replace(staged, settings.serving_dir / published.CURRENT)
    return folder / published.FILE_NAME


@pytest.fixture(scope="module")
def dashboards(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The app, started with `command()` as `tidewater dashboards` starts it; stopped (by its PID) after."""
    settings = Settings.load(tmp_path_factory.mktemp("dashboards") / "data")
    _promote(settings, published.current_database(built.settings))
    with served(
        lambda port: command(settings, port), "/_stcore/health", settings.data_dir / "streamlit.log", env=settings.env()
    ) as (url, _):
        yield App(url=url, settings=settings)


def _render(page: Page, url: str, screenshot: Path) -> Rendered:
    rendered = Rendered(url=url)
    page.on("pageerror", lambda error: rendered.errors.append(f"script error: {error}"))
    app = url.rsplit("/", 1)[0]

    def requested(request: Request) -> None:
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and not request.url.startswith(app):
            rendered.foreign_requests.append(request.url)

    page.on("request", requested)
    page.goto(url)
    # Streamlit shows a skeleton, then runs the page's script: done when the script has stopped and every chart has
    # drawn its marks (Vega draws after the script).
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState === 'notRunning'
                 && !document.querySelector('[data-testid="stSkeleton"]')""",
        timeout=60_000,
    )
    with contextlib.suppress(Exception):
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                     .every(chart => chart.querySelector('svg.marks .role-mark, canvas'))""",
            timeout=30_000,
        )
    for kind in ("stException", "stAlertContentError"):
        rendered.errors += [f"{kind}: {text}" for text in page.locator(f'[data-testid="{kind}"]').all_inner_texts()]
    body = page.locator("body").inner_text()
    rendered.errors += [f"page says: {needle}" for needle in ("Traceback", "Page not found") if needle in body]
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    rendered.charts = charts.count()
    rendered.charts_drawn = page.locator(
        '[data-testid="stVegaLiteChart"]:has(svg.marks .role-mark path, svg.marks .role-mark text, canvas)'
    ).count()
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        rendered.tiles[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    page.screenshot(path=str(screenshot), full_page=True)
    rendered.screenshot = screenshot
    return rendered


@pytest.fixture(scope="module")
def pages(dashboards: App) -> dict[str, Rendered]:
    """Every page, opened once in one browser, with a screenshot each (kept in test-artifacts/dashboards/)."""
    kept = PROJECT_ROOT / "test-artifacts" / "dashboards"
    kept.mkdir(parents=True, exist_ok=True)
    rendered: dict[str, Rendered] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            for name in queries.PAGES:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                rendered[name] = _render(page, f"{dashboards.url}/{name}", kept / f"{name}.png")
                page.close()
        finally:
            browser.close()
    print(f"dashboard screenshots: {kept}")
    return rendered


@pytest.mark.parametrize("name", queries.PAGES)
def test_every_page_renders_without_an_error_and_draws_its_charts(pages: dict[str, Rendered], name: str) -> None:
    page = pages[name]
    assert not page.errors, f"{page.url}: {page.errors}"
    assert page.tiles, f"{page.url} shows no figures"
    if name != queries.HEALTH:  # the health page is tables and figures only
        assert page.charts > 0, f"{page.url} draws no chart"
    assert page.charts_drawn == page.charts, f"{page.url}: {page.charts - page.charts_drawn} charts not drawn"
    # Offline: the app's own assets only (no fonts, tiles or images from the internet).
    assert not page.foreign_requests, f"{page.url} fetched {page.foreign_requests}"


def test_the_bare_address_opens_the_kpis(dashboards: App) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(dashboards.url)
            page.wait_for_url(f"{dashboards.url}/{queries.KPIS}", timeout=60_000)
            assert page.locator("h1").first.inner_text() == "KPIs"
        finally:
            browser.close()


def test_a_newly_promoted_copy_is_shown_without_a_restart(dashboards: App, pages: dict[str, Rendered]) -> None:
    """After a run promotes a new copy, the next view reads it (the pages above were read from the first copy)."""
    first = published.current_database(dashboards.settings)
    with duckdb.connect(str(first), read_only=True) as con:
        ((revenue,),) = con.execute("select sum(revenue) from metrics.metrics_daily").fetchall()
    newer = _promote(dashboards.settings, first)
    with duckdb.connect(str(newer)) as con:
        ((changed,),) = con.execute(
            "update metrics.metrics_daily set revenue = revenue + 1"
            " where date_day = (select min(date_day) from metrics.metrics_daily)"
        ).fetchall()
    assert changed == 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            shown = _render(page, f"{dashboards.url}/{queries.KPIS}", newer.parent / "kpis.png")
        finally:
            browser.close()
    assert _money(shown.tiles["Revenue"]) == _money(pages[queries.KPIS].tiles["Revenue"]) + 1 == revenue + 1


def _money(text: str) -> Decimal:
    assert text.startswith("$"), text
    return Decimal(text[1:].replace(",", ""))


def _number(text: str, suffix: str = "") -> Decimal:
    assert text.endswith(suffix), text
    return Decimal(text.removesuffix(suffix).replace(",", ""))


def _cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_the_kpi_tiles_equal_the_metric_marts_to_the_cent(pages: dict[str, Rendered], built: Built) -> None:
    """The KPIs page opens on the whole period and every channel: its tiles are the warehouse's metric marts."""
    ((revenue, net_revenue, orders, non_cancelled, sessions, purchasing, spend, new_customers),) = rows(
        built.settings,
        "select sum(revenue), sum(net_revenue), sum(orders), sum(non_cancelled_orders), sum(sessions),"
        " sum(purchasing_sessions), sum(spend), sum(new_customers) from metrics.metrics_daily",
    )
    active = rows(built.settings, "select active_customers_90d from metrics.metrics_daily order by date_day desc")[0][0]
    # Attributed ROAS from the other metric mart: paid channels' revenue over all spend, by month and channel.
    ((paid_revenue, channel_spend),) = rows(
        built.settings,
        "select sum(revenue) filter (where is_paid), sum(spend) from metrics.metrics_monthly_by_channel",
    )
    assert channel_spend == spend
    tiles = pages[queries.KPIS].tiles
    assert _money(tiles["Revenue"]) == revenue
    assert _money(tiles["Net revenue"]) == net_revenue
    assert _number(tiles["Orders"]) == orders
    assert _money(tiles["Average order value"]) == _cents(Decimal(revenue) / non_cancelled)
    assert _number(tiles["Active customers"]) == active
    assert _number(tiles["Conversion"], "%") == _cents(Decimal(purchasing) * 100 / sessions)
    assert _money(tiles["Cost per acquisition"]) == _cents(Decimal(spend) / new_customers)
    assert _number(tiles["Blended ROAS"], "x") == _cents(Decimal(revenue) / spend)
    assert _number(tiles["Attributed ROAS"], "x") == _cents(Decimal(paid_revenue) / spend)


def _tables(sql: str) -> set[str]:
    """The schema.table names a query reads (its CTEs left out)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.db or t.name not in ctes}


def test_each_page_reads_only_the_models_its_exposure_names(built: Built) -> None:
    """A page's queries, parsed, read the tables they declare; behind them (through MetricFlow's SQL for an export)
    are exactly the dbt models the page's exposure depends on."""
    settings = built.settings
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    behind_export = {
        f"{export.schema}.{export.table}": _tables(export.sql)
        for export in exports.compile_exports(settings.dbt_target_dir / exports.SEMANTIC_MANIFEST)
    }
    for page in queries.PAGES:
        read: set[str] = set()
        for query in (q for q in queries.QUERIES.values() if q.page == page):
            tables = _tables(query.sql)
            assert tables == set(query.reads), f"{query.name} reads {tables}, declares {query.reads}"
            assert all(t.split(".")[0] in ("metrics", "exports", "elementary") for t in tables), (
                f"{query.name} reads {tables}: the dashboards read the metric layer only"
            )
            read |= tables
        models = set()
        for table in read:
            schema, name = table.split(".")
            if schema == "exports":
                models |= {f"model.tidewater.{t.split('.')[1]}" for t in behind_export[table]}
            else:
                models.add(f"model.{'elementary' if schema == 'elementary' else 'tidewater'}.{name}")
        exposure = manifest["exposures"][f"exposure.tidewater.dashboard_{page}"]
        assert models == set(exposure["depends_on"]["nodes"]), f"page {page}"
        assert exposure["url"].endswith(f"/{page}")


def test_check_runs_every_query_on_the_promoted_copy(built: Built) -> None:
    with published.connect(built.settings) as con:
        counts = queries.check(con)
    assert set(counts) == set(queries.QUERIES)
    # The KPI figures exist, whatever the filters' example values.
    assert counts[queries.KPI_TOTALS.name] == 1
    assert counts[queries.HEALTH_LAST_BUILD.name] == 1


def test_check_names_the_page_and_query_that_broke(built: Built, tmp_path: Path) -> None:
    """A model change that removes a column a page reads fails the check (and so the copy's promotion) with the page
    and the query named."""
    copy = tmp_path / "tidewater.duckdb"
    shutil.copy2(published.current_database(built.settings), copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("alter table metrics.metrics_customer_cohorts drop column repeat_rate_to_date")
        with pytest.raises(queries.DashboardQueryError, match=r"page 'cohorts', query 'cohort_summary'.*repeat_rate"):
            queries.check(con)
