"""target-postgres 0.8.1, with records that carry _sdc_deleted_at deleting their row (hard_delete)."""
