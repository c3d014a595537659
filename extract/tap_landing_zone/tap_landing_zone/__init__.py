"""Singer tap for the event landing zone: one record per line, malformed lines kept with their error."""
