"""Request and response models of the HTTP API (camelCase JSON), kept out of the route modules."""
