"""Orchestration: the lifecycle as Dagster assets (definitions.py), what runs unattended (automation.py), the
`tidewater` command line (cli.py), the settings (settings.py), and the one way each tool is called (dbt.py,
meltano.py, elementary.py)."""
