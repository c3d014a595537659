"""tap-spreadsheets-strict's own tests: the Meltano SDK's standard tap tests and the row check, on CSV files the
tests write."""
