"""Privacy and security: pseudonymisation before the loader, erasure everywhere, retention of raw events."""
