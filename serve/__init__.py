"""Serving: what leaves the warehouse for people and systems. Each output is a Dagster asset downstream of the marts
(serve/assets.py), and every reader opens the read-only serving copy (serve/published.py), never the warehouse:
- dashboards/  the Streamlit dashboards (`make dashboards`), built from the metric marts and the exports;
- exports.py   MetricFlow's saved queries as tables, for consumers without MetricFlow;
- api/         the suppliers' read-only, multi-tenant HTTP API (`make serve`)."""
