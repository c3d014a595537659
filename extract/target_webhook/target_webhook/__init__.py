"""target-tidewater-webhook: batches of changes POSTed as JSON to a webhook, with retries."""
