"""EVM connection, local chain nodes, contract artifacts, signing and nonces.

``open_chain`` turns one setting (``embedded``, ``anvil`` or an http(s) URL)
into a connected, ready chain; ``NonceManager`` sends locally signed
transactions, many in flight from one account.
"""
