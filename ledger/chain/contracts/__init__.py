"""The consortium's contracts, read from their committed artifacts.

Bindings, named revert errors and the call helpers that raise them (``calls``),
consortium deployment and the deployment record.
"""
