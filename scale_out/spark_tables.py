"""Run by spark.py in a process of its own: `python -m tidewater.scale_out.spark_tables REQUEST` (JSON: the Spark
parameters, the lake's folder, where to write the row counts). Registers each lake table as an external Parquet
table partitioned by load_day, its columns taken from the table's _schema.parquet (so a table with no rows yet has
them too: Spark skips files whose names start with an underscore), then finds its load days' folders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tidewater.lake import export as lake

SIMPLE = {pa.int64(): "bigint", pa.int32(): "int", pa.float64(): "double", pa.bool_(): "boolean", pa.date32(): "date"}


def spark_type(kind: pa.DataType) -> str:
    """Spark SQL's name for an Arrow type the lake holds. A timestamp with a zone (the audit snapshot's time) is
    Spark's timestamp: an instant, shown in the session's zone (UTC in profiles.yml)."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string"
    if pa.types.is_decimal(kind):
        return f"decimal({kind.precision},{kind.scale})"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if kind in SIMPLE:
        return SIMPLE[kind]
    raise ValueError(f"the lake holds a column of type {kind}, which has no Spark type here yet")


def main(request: dict[str, str | dict[str, str]]) -> None:
    from pyspark.sql import SparkSession

    parameters = request["parameters"]
    assert isinstance(parameters, dict)
    builder = SparkSession.builder.appName("tidewater-lake-tables").enableHiveSupport()
    for key, value in parameters.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    lake_dir = Path(str(request["lake"]))
    counts: dict[str, int] = {}
    try:
        for table in lake.tables(lake_dir):
            schema, _ = table.split(".")
            folder = lake.table_dir(lake_dir, table)
            fields = pq.read_schema(folder / lake.SCHEMA_FILE)
            columns = ", ".join(f"`{field.name}` {spark_type(field.type)}" for field in fields)
            spark.sql(f"create database if not exists `{schema}`")
            # External: dropping it forgets the table, never the lake's files.
            spark.sql(f"drop table if exists {table}")
            spark.sql(
                f"create table {table} ({columns}, {lake.DAY_COLUMN} date) using parquet "
                f"partitioned by ({lake.DAY_COLUMN}) location '{folder.resolve()}'"
            )
            spark.sql(f"alter table {table} recover partitions")
            counts[table] = spark.table(table).count()
            print(f"{table}: {counts[table]:,} rows", flush=True)
    finally:
        spark.stop()
    Path(str(request["out"])).write_text(json.dumps(counts) + "\n")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
