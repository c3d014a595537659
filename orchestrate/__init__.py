"""Tidewater: the Saltbox Home analytics-engineering project (source generator and pipeline helpers)."""
