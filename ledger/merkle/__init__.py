"""RFC 9162 Merkle trees with inclusion and consistency proofs, hash-agnostic."""
