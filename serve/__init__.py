"""Serving: what leaves the warehouse for people and systems (dashboards, saved queries, the embedded API, ML
features and scores, reverse ETL). Each output is a Dagster asset downstream of the marts: list it in
`tidewater.serve.assets.SERVING_ASSETS` and the orchestrator (orchestrate/definitions.py) runs it after the build."""
