"""The consortium's contracts, read from their committed artifacts.

Bindings, named revert errors, consortium deployment and the deployment
record.
"""
