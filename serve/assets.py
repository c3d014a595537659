"""The serving outputs, as Dagster assets. None yet: the serving issues add theirs here, depending on the marts'
asset keys (`marts/<model>`, `metrics/<model>`), so each runs after the build that feeds it."""

from __future__ import annotations

from dagster import AssetsDefinition

SERVING_ASSETS: list[AssetsDefinition] = []
