"""The suppliers' API (serve/api/), served by real uvicorn on 127.0.0.1 from the built folder's serving copy: each
token reads its own supplier's rows and nobody else's, bad tokens and hostile requests get a 4xx and no data, and a
supplier's figures are the marts'.

The tokens live in a store the test owns (a file under the test's temporary folder, `--tokens-file`): the built data
folder is only read."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from conftest import Built
from helpers import rows, served

from tidewater.orchestrate.settings import Settings
from tidewater.serve import published
from tidewater.serve.api import command, tokens
from tidewater.serve.api.app import MAX_DAYS

pytestmark = pytest.mark.e2e

RANGED = ("/v1/sales/daily", "/v1/returns/daily", "/v1/products/top", "/v1/funnel")
ENDPOINTS = ("/v1/me", *RANGED)
CENT = Decimal("0.01")


@dataclass
class Api:
    url: str
    store: Path
    tokens: dict[int, str]
    process: subprocess.Popen[bytes]

    def get(self, path: str, token: str | None, **params: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return requests.get(self.url + path, params=params, headers=headers, timeout=30)


def _serving(settings: Settings, store: Path, log: Path) -> Any:
    """The API (`tidewater serve`) on a free port of 127.0.0.1 until the block ends."""
    return served(lambda port: command(settings, port, tokens_file=store), "/health", log)


@pytest.fixture(scope="module")
def api(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("supplier-api")
    store = folder / "api-tokens.json"
    suppliers = [supplier for (supplier,) in rows(built.settings, "select supplier_id from marts.dim_suppliers")]
    assert len(suppliers) >= 2, "the isolation tests need at least two suppliers"
    issued = {supplier: tokens.issue(built.settings, supplier, store=store) for supplier in sorted(suppliers)}
    with _serving(built.settings, store, folder / "api.log") as (url, process):
        yield Api(url=url, store=store, tokens=issued, process=process)


# -- what the marts say, computed here from the warehouse (not through the API's macros) -------------------------


def _published_range(settings: Settings) -> tuple[date, date]:
    with published.connect(settings) as copy:
        found = copy.execute("select min(date_day), max(date_day) from marts.fct_supplier_product_daily").fetchone()
    assert found is not None and found[0] is not None
    return found[0], found[1]


def _chunks(first: date, last: date) -> list[tuple[date, date]]:
    """The range in pieces the API accepts (at most MAX_DAYS days each)."""
    chunks, start = [], first
    while start <= last:
        end = min(last, start + timedelta(days=MAX_DAYS - 1))
        chunks.append((start, end))
        start = end + timedelta(days=1)
    return chunks


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _expected(settings: Settings, supplier: int, path: str, first: date, last: date, limit: int = 100) -> list[Any]:
    """The rows the API must answer, from the warehouse's marts, comparable with `_comparable`."""
    facts = "from marts.fct_supplier_product_daily where supplier_id = ? and date_day between ? and ?"
    if path == "/v1/me":
        found = rows(
            settings,
            "select supplier_id, supplier_name, product_count, active_product_count, "
            "(select min(date_day) from marts.fct_supplier_product_daily where supplier_id = ?), "
            "(select max(date_day) from marts.fct_supplier_product_daily where supplier_id = ?) "
            "from marts.dim_suppliers where supplier_id = ?",
            supplier,
            supplier,
            supplier,
        )
        return [tuple(row) for row in found]
    if path in ("/v1/sales/daily", "/v1/returns/daily"):
        columns = (
            "sum(orders), sum(units_sold), sum(revenue)"
            if path == "/v1/sales/daily"
            else ("sum(returned_units), sum(refunded_amount)")
        )
        by_day = {
            day: values
            for day, *values in rows(settings, f"select date_day, {columns} {facts} group by 1", supplier, first, last)
        }
        zeros = [0] * (3 if path == "/v1/sales/daily" else 2)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return [(supplier, day, *[_money(v) for v in by_day.get(day, zeros)]) for day in days]
    if path == "/v1/products/top":
        found = rows(
            settings,
            f"select supplier_id, product_id, sum(orders), sum(units_sold), sum(revenue), sum(returned_units) {facts} "
            "group by 1, 2 having sum(units_sold) > 0 order by sum(revenue) desc, sum(units_sold) desc, product_id",
            supplier,
            first,
            last,
        )
        return [(s, rank, p, *[_money(v) for v in rest]) for rank, (s, p, *rest) in enumerate(found[:limit], 1)]
    found = rows(
        settings,
        f"select sum(product_views), sum(add_to_carts), sum(orders), sum(units_sold) {facts}",
        supplier,
        first,
        last,
    )
    return [(supplier, *[int(v or 0) for v in found[0]])]


def _comparable(path: str, row: dict[str, Any]) -> tuple[Any, ...]:
    if path == "/v1/me":
        return (
            row["supplier_id"],
            row["supplier_name"],
            row["product_count"],
            row["active_product_count"],
            *[date.fromisoformat(row[k]) if row[k] else None for k in ("first_day", "last_day")],
        )
    if path == "/v1/sales/daily":
        figures = [row["orders"], row["units_sold"], row["revenue"]]
        return (row["supplier_id"], date.fromisoformat(row["date_day"]), *[_money(v) for v in figures])
    if path == "/v1/returns/daily":
        figures = [row["returned_units"], row["refunded_amount"]]
        return (row["supplier_id"], date.fromisoformat(row["date_day"]), *[_money(v) for v in figures])
    if path == "/v1/products/top":
        figures = [row["orders"], row["units_sold"], row["revenue"], row["returned_units"]]
        return (row["supplier_id"], row["product_rank"], row["product_id"], *[_money(v) for v in figures])
    return (row["supplier_id"], row["product_views"], row["add_to_carts"], row["orders"], row["units_sold"])


# -- isolation ----------------------------------------------------------------------------------------------------


def test_each_token_reads_its_own_supplier_and_no_other(built: Built, api: Api) -> None:
    """For every pair of suppliers (A, B) and every endpoint over every published day: each row A's token gets is
    exactly one of A's own rows (from the marts, in order), and none is one of B's (its figures, whatever supplier id
    it carries). A sum over several suppliers would equal neither."""
    first, last = _published_range(built.settings)
    requests_tried = rows_checked = not_own = 0
    differ: list[tuple[int, str, dict[str, Any]]] = []  # answers that are not exactly the supplier's rows
    leaked = dict.fromkeys(((a, b) for a in api.tokens for b in api.tokens if a != b), 0)  # (A, B) -> B's rows A got
    for path in ENDPOINTS:
        for start, end in [(first, last)] if path == "/v1/me" else _chunks(first, last):
            params = {} if path == "/v1/me" else {"from": start.isoformat(), "to": end.isoformat()}
            if path == "/v1/products/top":
                params["limit"] = 100
            expected = {supplier: _expected(built.settings, supplier, path, start, end) for supplier in api.tokens}
            # A row without whose it is (nor, for a product, its rank among the supplier's own).
            skip = 2 if path == "/v1/products/top" else 1
            figures = {supplier: {row[skip:] for row in found} for supplier, found in expected.items()}
            for supplier, token in api.tokens.items():
                response = api.get(path, token, **params)
                requests_tried += 1
                assert response.status_code == 200, (path, params, response.text)
                assert response.json()["supplier_id"] == supplier
                got = [_comparable(path, row) for row in response.json()["rows"]]
                rows_checked += len(got)
                not_own += sum(1 for row in got if row not in expected[supplier])
                for other in api.tokens:
                    if other != supplier:
                        leaked[(supplier, other)] += sum(
                            1 for row in got if row[skip:] in figures[other] and row[skip:] not in figures[supplier]
                        )
                if got != expected[supplier]:
                    differ.append((supplier, path, params))
    print(
        f"isolation: {len(api.tokens)} suppliers, {len(leaked)} pairs, {requests_tried} requests, {rows_checked} rows "
        f"checked, {not_own} not the supplier's own, {sum(leaked.values())} another supplier's"
    )
    assert rows_checked > 0
    assert not any(leaked.values()), {pair: count for pair, count in leaked.items() if count}
    assert not_own == 0 and not differ, differ[:5]


def test_a_suppliers_totals_are_the_marts(built: Built, api: Api) -> None:
    """Summed over every published day, each supplier's sales, returns and funnel equal its rows in
    fct_supplier_product_daily, whatever their date."""
    first, last = _published_range(built.settings)
    revenue = Decimal(0)
    for supplier, token in api.tokens.items():
        totals = dict.fromkeys(
            ("orders", "units_sold", "revenue", "returned_units", "refunded_amount", "product_views", "add_to_carts"),
            Decimal(0),
        )
        for start, end in _chunks(first, last):
            params = {"from": start.isoformat(), "to": end.isoformat()}
            for path, keys in (
                ("/v1/sales/daily", ("orders", "units_sold", "revenue")),
                ("/v1/returns/daily", ("returned_units", "refunded_amount")),
                ("/v1/funnel", ("product_views", "add_to_carts")),
            ):
                for row in api.get(path, token, **params).json()["rows"]:
                    for key in keys:
                        totals[key] += _money(row[key])
        (marts,) = rows(
            built.settings,
            "select coalesce(sum(orders), 0), coalesce(sum(units_sold), 0), coalesce(sum(revenue), 0), "
            "coalesce(sum(returned_units), 0), coalesce(sum(refunded_amount), 0), coalesce(sum(product_views), 0), "
            "coalesce(sum(add_to_carts), 0) from marts.fct_supplier_product_daily where supplier_id = ?",
            supplier,
        )
        assert totals == dict(zip(totals, [_money(v) for v in marts], strict=True)), supplier
        revenue += totals["revenue"]
    assert revenue > 0


# -- tokens -------------------------------------------------------------------------------------------------------


def test_missing_wrong_and_revoked_tokens_get_no_data(built: Built, api: Api) -> None:
    supplier, good = next(iter(api.tokens.items()))
    token_id = good.split("_")[1]
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")  # the right id, a wrong secret
    refused: dict[str, tuple[str | None, dict[str, str]]] = {
        "no header": (None, {}),
        "empty bearer": (None, {"Authorization": "Bearer "}),
        "another scheme": (None, {"Authorization": f"Basic {good}"}),
        "not a token": ("not-a-token", {}),
        "SQL as a token": ("' or 1=1 --", {}),
        "unknown id": (f"twk_{'0' * 12}_{'A' * 43}", {}),
        "wrong secret": (forged, {}),
        "the store's hash": (tokens._read(api.store)[token_id]["sha256"], {}),
        "the token id": (token_id, {}),
    }
    for path in ENDPOINTS:
        for what, (token, headers) in refused.items():
            sent = {**headers, **({"Authorization": f"Bearer {token}"} if token is not None else {})}
            response = requests.get(api.url + path, headers=sent, timeout=30)
            assert response.status_code == 401, (path, what, response.status_code)
            assert "rows" not in response.json() and response.headers["WWW-Authenticate"].startswith("Bearer")

    fresh = tokens.issue(built.settings, supplier, store=api.store)
    assert api.get("/v1/funnel", fresh).status_code == 200
    assert tokens.revoke(built.settings, token_id=fresh.split("_")[1], store=api.store) == [fresh.split("_")[1]]
    for path in ENDPOINTS:  # no restart: the API re-reads the store when it changes
        response = api.get(path, fresh)
        assert response.status_code == 403 and "rows" not in response.json(), (path, response.text)
    assert api.get("/v1/funnel", good).status_code == 200  # the supplier's other token still works
    listed = {record["token_id"]: record for record in tokens.listing(built.settings, store=api.store)}
    assert listed[fresh.split("_")[1]]["revoked_at"] and "sha256" not in listed[token_id]
    # Stored hashed, readable by its owner only.
    assert good not in api.store.read_text() and fresh not in api.store.read_text()
    assert api.store.stat().st_mode & 0o777 == 0o600


# -- hostile input ------------------------------------------------------------------------------------------------

FULLWIDTH_DAY = "\uff12\uff10\uff12\uff16-\uff10\uff11-\uff10\uff11"  # 2026-01-01 in fullwidth digits
ARABIC_INDIC_DAY = "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661"
BAD_DAYS = [
    "2026-01-01' or '1'='1",
    "2026-01-01; drop table marts.dim_suppliers",
    "1) union select * from marts.dim_suppliers--",
    "2026-13-01",
    "2026-02-30",
    "0000-01-01",
    "26-01-01",
    "2026/01/01",
    "20260101",
    "",
    " 2026-01-01",
    "2026-01-01T00:00",
    "1767225600",
    FULLWIDTH_DAY,
    ARABIC_INDIC_DAY,
    "2026-01-01\x00",
    "2026-01-01\u202e",
    "\U0001f600",
    "9" * 5000,
    "{{7*7}}",
    "${jndi:ldap://x}",
    "../../etc/passwd",
    "null",
    "true",
    "[]",
    "-1",
    "2026-1-1",
    "2026-01-011",
]
BAD_LIMITS = [
    "0",
    "-1",
    "101",
    "1e3",
    "1.5",
    "9" * 40,
    "9223372036854775808",
    "NaN",
    "inf",
    "",
    "ten",
    "1 or 1=1",
    "\uff11\uff10",
    "0x10",
    "10;--",
]
BAD_PATHS = [
    "/v1/funnel/",
    "/v1//funnel",
    "/V1/funnel",
    "/v1/funnel%00",
    "/v1/funnel;supplier_id=2",
    "/v1/suppliers/2/funnel",
    "/v1/sales/daily/..%2F..%2Ffunnel",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/v1/me.json",
    "/v2/funnel",
    "/v1/sales",
    "/v1/products/top/1",
    "/v1/" + "a" * 4000,
    "/v1/funnel%2F",
    "/admin",
]


def _hostile(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, params) that must each get a 4xx."""
    requests_: list[tuple[str, str, dict[str, Any]]] = []
    for path in RANGED:
        for bad in BAD_DAYS:
            requests_ += [("GET", path, {"from": bad}), ("GET", path, {"from": "2026-01-01", "to": bad})]
        requests_ += [
            ("GET", path, {"from": "2026-01-01", "to": "2025-01-01"}),  # backwards
            ("GET", path, {"from": "2020-01-01", "to": "2026-01-01"}),  # too long
            ("GET", path, {"from": "9999-12-31"}),  # no room for a default end
            ("GET", path, {"to": "0001-01-01"}),  # no room for a default start
            ("GET", path, {"from": ["2026-01-01", "2026-01-02"]}),  # repeated
            ("GET", path, {"supplier_id": "2"}),  # the tenant never comes from the request
            ("GET", path, {"x" * 3000: "1"}),
            ("POST", path, {}),
            ("DELETE", path, {}),
        ]
    for bad in BAD_LIMITS:
        requests_.append(("GET", "/v1/products/top", {"limit": bad}))
    requests_.append(("GET", "/v1/products/top", {"limit": ["5", "6"]}))
    requests_ += [("GET", path, {}) for path in BAD_PATHS]
    requests_ += [("GET", "/v1/me", {"supplier": "2"}), ("GET", "/v1/me", {"from": "2026-01-01"})]
    return requests_


def test_hostile_requests_get_a_4xx_and_no_data(api: Api) -> None:
    supplier, token = next(iter(api.tokens.items()))
    tried = _hostile(api)
    statuses: dict[int, int] = {}
    for method, path, params in tried:
        response = requests.request(
            method, api.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert 400 <= response.status_code < 500, (method, path, params, response.status_code, response.text[:300])
        assert "rows" not in response.text and "Traceback" not in response.text, (path, params)
    print(f"hostile requests: {len(tried)}, statuses {dict(sorted(statuses.items()))}")
    assert len(tried) >= 200
    # Headers naming another supplier change nothing: the token's supplier answers.
    other = next(s for s in api.tokens if s != supplier)
    for header in ("X-Supplier-Id", "X-Tenant", "X-Forwarded-User"):
        response = requests.get(
            api.url + "/v1/me", headers={"Authorization": f"Bearer {token}", header: str(other)}, timeout=30
        )
        assert response.status_code == 200 and response.json()["rows"][0]["supplier_id"] == supplier
    assert api.process.poll() is None


# -- the serving copy ---------------------------------------------------------------------------------------------


def test_the_api_reads_the_serving_copy_and_follows_a_promotion(built: Built, api: Api, tmp_path: Path) -> None:
    """The API holds the current serving copy open, never the warehouse (it would block the pipeline); a copy
    promoted while it runs is what the next request reads, without a restart."""
    open_files = {Path(os.readlink(fd)) for fd in Path(f"/proc/{api.process.pid}/fd").iterdir() if fd.is_symlink()}
    assert published.current_database(built.settings).resolve() in open_files
    assert built.settings.warehouse.resolve() not in open_files

    # A data folder of the test's own: the built copy as `serving/current`, then a changed one promoted over it.
    settings = Settings.load(tmp_path / "data")
    first_copy = settings.serving_dir / "first" / published.FILE_NAME
    first_copy.parent.mkdir(parents=True)
    shutil.copy(published.current_database(built.settings), first_copy)
    (settings.serving_dir / published.CURRENT).symlink_to("first")
    supplier, token = next(iter(api.tokens.items()))
    with _serving(settings, api.store, tmp_path / "api.log") as (url, _):
        before = requests.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        second_copy = settings.serving_dir / "second" / published.FILE_NAME
        second_copy.parent.mkdir()
        shutil.copy(first_copy, second_copy)
        with duckdb.connect(str(second_copy)) as con:
            con.execute("update marts.dim_suppliers set supplier_name = 'Renamed' where supplier_id = ?", [supplier])
        staged = settings.serving_dir / ".staged"
        staged.symlink_to("second")
        os.replace(staged, settings.serving_dir / published.CURRENT)
        after = requests.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert before["rows"][0]["supplier_name"] != "Renamed"
    assert after["rows"][0]["supplier_name"] == "Renamed"


def test_the_latency_bench_loads_a_suppliers_dashboard(built: Built, tmp_path: Path) -> None:
    """`tidewater bench-api` (bench/api_latency.py) on the built folder, briefly: every request answered."""
    from tidewater.bench.api_latency import measure, table

    result = measure(built.settings, clients=[3], seconds=1, while_running=False, work_dir=tmp_path)
    assert [(level["clients"], level["cold"]) for level in result["levels"]] == [(3, False), (3, True)]
    assert all(level["requests"] > 0 and level["errors"] == 0 for level in result["levels"]), result
    assert "| 3 | cold |" in table(result["levels"])
