"""The province's HTTP API (FastAPI).

The app, typed dependencies, authentication, middleware, rate limits,
metrics and problem details; ``routes/`` has one router per resource and
``schemas/`` their request and response models.
"""
