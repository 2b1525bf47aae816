"""The off-chain store (SQLite in WAL mode by default)."""
