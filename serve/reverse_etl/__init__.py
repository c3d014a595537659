"""Reverse ETL: the audiences' syncable members, and a few non-personal attributes of each, sent to a CRM database
and (when configured) a webhook, changes only (sync.py). Meltano runs it: extract/tap_warehouse reads the changes,
target-postgres-crm and target-webhook deliver them; the warehouse keeps what each destination has
(reverse_etl.synced_*) and a log of every sync (reverse_etl.sync_log)."""
