"""tap-landing-zone's own tests: the Meltano SDK's standard tap tests and the tap's behaviour, on landing files the
tests write."""
