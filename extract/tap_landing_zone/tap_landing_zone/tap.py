"""tap-landing-zone: reads Tidewater's event landing zone (JSON lines, one folder per day)."""

from __future__ import annotations

from singer_sdk import Tap
from singer_sdk import typing as th

from tap_landing_zone.streams import EventsStream, LandingFilesStream
from tap_landing_zone.writer import BufferedMsgSpecWriter


class TapLandingZone(Tap):
    """Why our own tap: tap-jsonl skips a malformed line with a log warning, a silent drop for the warehouse.
    This one lands every line; a line that does not parse arrives with `parse_error` and `raw_line` set."""

    name = "tap-landing-zone"
    message_writer_class = BufferedMsgSpecWriter

    config_jsonschema = th.PropertiesList(
        th.Property("landing_dir", th.StringType, required=True, description="Folder holding one folder per day."),
        th.Property(
            "file_pattern",
            th.StringType,
            description=(
                "Optional glob, relative to landing_dir, narrowing the landing files read; a landing file it leaves "
                "out is listed as rejected. Unset: every landing file (`<day>/<name>.jsonl`, .ndjson or .json, any "
                "case, optionally .gz, .bz2 or .xz)."
            ),
        ),
    ).to_dict()

    def discover_streams(self) -> list[EventsStream | LandingFilesStream]:
        return [EventsStream(self), LandingFilesStream(self)]


if __name__ == "__main__":
    TapLandingZone.cli()
