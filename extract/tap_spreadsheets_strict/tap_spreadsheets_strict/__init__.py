"""tap-spreadsheets 1.1.2, stopping with the file and line when a CSV row has more or fewer values than the header."""
