"""Reaching an EVM node.

Connection, local node processes (ganache, anvil), accounts, locally signed
transactions with their nonces, and revert data.
"""
