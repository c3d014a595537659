"""The `tap-spreadsheets-strict` command: tap-spreadsheets 1.1.2, with its streams' CSV rows checked (streams.py)."""

from __future__ import annotations

from tap_spreadsheets.tap import TapSpreadsheets

from tap_spreadsheets_strict.streams import StrictSpreadsheetStream


class TapSpreadsheetsStrict(TapSpreadsheets):
    """TapSpreadsheets, same name, settings and streams; each stream stops on a CSV row that does not fit the header.

    Why a wrapper: tap-spreadsheets drops the extra values of a shifted row silently (csv_rows.py)."""

    def discover_streams(self) -> list[StrictSpreadsheetStream]:
        """One stream per configured file, as TapSpreadsheets makes them."""
        return [StrictSpreadsheetStream(self, file_cfg) for file_cfg in self.config["files"]]


if __name__ == "__main__":
    TapSpreadsheetsStrict.cli()
