"""The province's processes and their wiring.

Settings, logs, chain start, parts assembly, provisioning, the demo
consortium, the supervisor (``tongban serve``), the writer and the HTTP
workers.
"""
