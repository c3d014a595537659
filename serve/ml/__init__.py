"""The order-again model: will a past buyer order again within 30 days? Trained and scored every day by the dbt
Python models in models/marts/ml/ (they stay thin: the logic lives here, typed and unit-tested on small frames)."""
