"""tap-tidewater-warehouse: the audiences' changes for one reverse-ETL destination, read from the warehouse."""
