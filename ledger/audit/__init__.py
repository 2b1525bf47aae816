"""The data-access audit log: events, receipts, checkpoints and proofs."""
