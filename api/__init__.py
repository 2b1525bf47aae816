"""The province service: HTTP API and command line, thin wiring over the domain packages."""
