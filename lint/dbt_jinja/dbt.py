"""`dbt.<macro>(...)`: dbt's cross-database macros, rendered as dbt-duckdb renders them."""

from __future__ import annotations

from collections.abc import Sequence


def type_bigint() -> str:
    return "bigint"


def type_int() -> str:
    return "integer"


def type_string() -> str:
    return "text"


def type_timestamp() -> str:
    return "timestamp"


def type_numeric() -> str:
    return "numeric(28,6)"


def type_float() -> str:
    return "float"


def type_boolean() -> str:
    return "boolean"


def hash(field: str) -> str:
    return f"md5(cast({field} as text))"


def concat(fields: Sequence[str]) -> str:
    return " || ".join(fields)


def safe_cast(field: str, type: str) -> str:
    return f"try_cast({field} as {type})"


def datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp)"


def dateadd(datepart: str, interval: str | int, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def date_trunc(datepart: str, date: str) -> str:
    return f"date_trunc('{datepart}', {date})"


def split_part(string_text: str, delimiter_text: str, part_number: int) -> str:
    return f"string_split({string_text}, {delimiter_text})[{part_number}]"


def current_timestamp() -> str:
    return "now()"


def escape_single_quotes(expression: str) -> str:
    return expression.replace("'", "''")


def string_literal(value: str) -> str:
    return f"'{value}'"


def listagg(measure: str, delimiter_text: str = "','", order_by_clause: str | None = None) -> str:
    order_by = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order_by})"


def generate_series(upper_bound: int) -> str:
    # dbt's own renders a cross join of powers of two; one select with the same column is enough to lint against.
    return f"select unnest(range(1, {upper_bound} + 1)) as generated_number"
