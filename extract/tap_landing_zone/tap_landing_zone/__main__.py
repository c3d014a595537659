from tap_landing_zone.tap import TapLandingZone

TapLandingZone.cli()
