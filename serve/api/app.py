"""The routes of the suppliers' API. Each answers one supplier, the one its bearer token was issued to: no route takes a
supplier from the request, and every query is a tenant-scoped macro (tenant_scope.py) with the supplier and the
dates bound as parameters, on a read-only connection to the current serving copy.

Bad input is a 4xx with a one-line reason, never a 500 or a traceback: dates are ISO days (YYYY-MM-DD), `from` <=
`to`, at most MAX_DAYS days; `limit` is 1..MAX_LIMIT; a parameter the route does not take, or one given twice, is
refused rather than ignored (a client that sends `supplier_id=` learns it has no effect).
"""

import contextlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings
from tidewater.serve.api import tenant_scope
from tidewater.serve.api.tokens import TokenChecker

MAX_DAYS = 366
DEFAULT_DAYS = 28
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
# Copies kept open: the current one, and the previous one for requests that started before a promotion.
OPEN_COPIES = 2
# Answers kept per process: each holds at most a year of days, so the cache stays small.
CACHED_ANSWERS = 1000
ISO_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # ASCII digits only: a regex \d also takes other scripts' digits

# What API clients read (/openapi.json).
DESCRIPTION = f"""Your own numbers at Saltbox Home, as JSON: daily sales, daily returns, top products and the funnel
(product views, add to cart, orders). Send `Authorization: Bearer <your token>`; every answer is about the supplier
the token was issued to. Ranges: `from` and `to` are days (YYYY-MM-DD), at most {MAX_DAYS} days; by default the
last {DEFAULT_DAYS} days published. Sales and returns count on the order's date; `orders` is counted per product."""

log = logging.getLogger("tidewater.serve.api")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class ServingCopies:
    """Read-only connections to the serving copies, one per file, opened on first use. The current copy is looked
    up on every request (one symlink read), so a newly promoted copy is served without a restart; each query gets
    its own cursor (DuckDB connections are not shared between threads).

    A copy never changes once promoted, so a macro's answer for the same arguments on the same copy is the same:
    answers are kept (as JSON, the last CACHED_ANSWERS asked for) keyed by the copy's path, the macro and all its
    arguments, the supplier first. A dashboard reloaded by a supplier's staff costs no query."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._open: OrderedDict[Path, duckdb.DuckDBPyConnection] = OrderedDict()
        self._answers: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    def _connection(self) -> tuple[Path, duckdb.DuckDBPyConnection]:
        from tidewater.serve import published

        try:
            path = published.current_database(self.settings)
        except TidewaterError:
            raise ApiError(503, "no data published yet") from None
        with self._lock:
            connection = self._open.get(path)
            if connection is None:
                # One thread per query: requests run side by side, and their queries are small.
                connection = duckdb.connect(str(path), read_only=True, config={"threads": 1})
                self._open[path] = connection
                while len(self._open) > OPEN_COPIES:
                    self._open.popitem(last=False)[1].close()
            return path, connection

    def rows(self, macro: str, *arguments: Any) -> list[dict[str, Any]]:
        """Rows of one tenant-scoped macro; the macro's name is one of ours, every argument a bound parameter."""
        return json.loads(self.answer(macro, *arguments))

    def answer(self, macro: str, *arguments: Any) -> bytes:
        """The macro's rows as a JSON array (from the cache when the same copy was asked the same)."""
        path, connection = self._connection()
        key = (path, macro, *arguments)
        with self._lock:
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
                return cached
        parameters, _ = tenant_scope.MACROS[macro]
        placeholders = ", ".join("?" for _ in parameters)
        cursor = connection.cursor()
        try:
            result = cursor.execute(f"select * from {tenant_scope.SCHEMA}.{macro}({placeholders})", list(arguments))
            columns = [column[0] for column in result.description]
            rows = [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in result.fetchall()]
        finally:
            cursor.close()
        encoded = json.dumps(rows, separators=(",", ":")).encode()
        with self._lock:
            self._answers[key] = encoded
            while len(self._answers) > CACHED_ANSWERS:
                self._answers.popitem(last=False)
        return encoded

    def close(self) -> None:
        with self._lock:
            self._answers.clear()
            while self._open:
                self._open.popitem(last=False)[1].close()


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, f"`{name}` is not a calendar day: {text[:10]!r}") from None


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for a data folder (default: the settings' own), its tokens in `settings.api_token_store`."""
    settings = settings or Settings.load()
    copies = ServingCopies(settings)
    checker = TokenChecker(settings.api_token_store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        copies.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Saltbox Home supplier API",
        version="1",
        description=DESCRIPTION,
        redirect_slashes=False,  # `/v1/funnel/` is a 404, not a redirect
        docs_url=None,
        redoc_url=None,
    )
    app.state.copies = copies

    def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        headers = {"Cache-Control": "no-store", **(headers or {})}
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'request'}: {error['msg']}" for error in exc.errors()
        )
        return _error(422, problems[:300])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail)[:300])

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request failed: %s", request.url.path)  # the details stay in the server's log
        return _error(500, "internal error")

    def tenant(request: Request) -> int:
        """The supplier of the request's bearer token."""
        header = request.headers.getlist("authorization")
        challenge = {"WWW-Authenticate": 'Bearer realm="suppliers"'}
        if len(header) != 1:
            raise ApiError(401, "a bearer token is required" if not header else "one Authorization header", challenge)
        scheme, _, token = header[0].partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "a bearer token is required", challenge)
        try:
            verdict = checker.check(token.strip())
        except (ValueError, KeyError, TypeError):  # a damaged store (hand-edited?): refuse everyone, say why in the log
            log.exception("the token store %s cannot be read", checker.store)
            raise ApiError(503, "tokens cannot be checked right now") from None
        if verdict.revoked:
            raise ApiError(403, "this token was revoked")
        if verdict.supplier_id is None:
            raise ApiError(401, "invalid token", challenge)
        return verdict.supplier_id

    def strict_query(*allowed: str) -> Any:
        def check(request: Request) -> None:
            for key in request.query_params:
                if key not in allowed:
                    raise ApiError(400, f"unknown parameter {key[:40]!r} (this route takes: {', '.join(allowed)})")
                if len(request.query_params.getlist(key)) > 1:
                    raise ApiError(400, f"parameter {key!r} given more than once")

        return Depends(check)

    def date_range(
        date_from: Annotated[str | None, Query(alias="from", pattern=ISO_DAY, max_length=10)] = None,
        date_to: Annotated[str | None, Query(alias="to", pattern=ISO_DAY, max_length=10)] = None,
    ) -> tuple[date, date]:
        """The requested days; by default the last DEFAULT_DAYS days published."""
        first, last = _day(date_from, "from"), _day(date_to, "to")
        try:
            if last is None:
                published_last = copies.rows("published_days")[0]["last_day"]
                last = date.fromisoformat(published_last) if published_last else date.today()
                if first is not None and first > last:
                    last = first + timedelta(days=DEFAULT_DAYS - 1)
            if first is None:
                first = last - timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:  # a default range that would start before year 1 or end after 9999
            raise ApiError(422, "give both `from` and `to` for days this far out") from None
        if first > last:
            raise ApiError(422, "`from` is after `to`")
        if (last - first).days + 1 > MAX_DAYS:
            raise ApiError(422, f"at most {MAX_DAYS} days per request")
        return first, last

    # Routes list `tenant` first among their dependencies: a request without a valid token is refused before its
    # parameters are looked at (FastAPI calls it once per request).
    Tenant = Annotated[int, Depends(tenant)]
    Days = Annotated[tuple[date, date], Depends(date_range)]

    def answer(supplier: int, days: tuple[date, date] | None, macro: str, *arguments: Any) -> Response:
        """{"supplier_id", "from", "to", "rows"}: the supplier's rows of one macro, the supplier bound first."""
        head: dict[str, Any] = {"supplier_id": supplier}
        if days is not None:
            head |= {"from": days[0].isoformat(), "to": days[1].isoformat()}
        rows = copies.answer(macro, supplier, *(days or ()), *arguments)
        body = json.dumps(head, separators=(",", ":")).encode()[:-1] + b',"rows":' + rows + b"}"
        return Response(body, media_type="application/json", headers={"Cache-Control": "private, no-store"})

    @app.get("/health", dependencies=[strict_query()])
    def health() -> JSONResponse:
        """Whether a serving copy is published (no token: it says nothing about any supplier)."""
        days = copies.rows("published_days")[0]
        return JSONResponse({"status": "ok", **days})

    @app.get("/v1/me", dependencies=[Depends(tenant), strict_query()])
    def me(supplier: Tenant) -> Response:
        """The token's supplier: name, product counts and the days it has data for."""
        if not copies.rows("supplier_profile", supplier):
            raise ApiError(404, "this supplier is not in the published data")
        return answer(supplier, None, "supplier_profile")

    @app.get("/v1/sales/daily", dependencies=[Depends(tenant), strict_query("from", "to")])
    def daily_sales(supplier: Tenant, days: Days) -> Response:
        """Orders, units sold and revenue per day (every day of the range, zero without sales)."""
        return answer(supplier, days, "supplier_daily_sales")

    @app.get("/v1/returns/daily", dependencies=[Depends(tenant), strict_query("from", "to")])
    def daily_returns(supplier: Tenant, days: Days) -> Response:
        """Returned units and refunded amount per day, on the returned order's date."""
        return answer(supplier, days, "supplier_daily_returns")

    @app.get("/v1/products/top", dependencies=[Depends(tenant), strict_query("from", "to", "limit")])
    def top_products(
        supplier: Tenant,
        days: Days,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> Response:
        """The supplier's best-selling products of the range, by revenue."""
        return answer(supplier, days, "supplier_top_products", limit)

    @app.get("/v1/funnel", dependencies=[Depends(tenant), strict_query("from", "to")])
    def funnel(supplier: Tenant, days: Days) -> Response:
        """Product views -> add to cart -> orders over the range, with the step rates."""
        return answer(supplier, days, "supplier_funnel")

    return app


def app_from_environment() -> FastAPI:
    """The API of the data folder the environment names (`tidewater serve` sets it): what uvicorn calls in each worker
    process it starts."""
    return create_app(Settings.load())
