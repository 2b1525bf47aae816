"""Solidity sources (``src/``) and their committed compiled artifacts (``build/``).

Python code reads the contracts only through ``build/*.json``; the service never
needs a compiler. ``scripts/build_contracts.py`` rebuilds them reproducibly.
"""
