"""Code that runs on the caller's machine, not in the province.

The HTTP client of a province's API (``remote``), the citizen's wallet
(``wallet``) and their access history (``history``). Nothing here imports the
service (``http``, ``runtime``, ``province``) or the command line.
"""
