"""The tamper-evident substrate of Tongban: crypto, Merkle trees, chain, audit log, store.

``ledger`` knows nothing of certificates or HTTP; ``credentials`` and ``api`` build on it.
"""
