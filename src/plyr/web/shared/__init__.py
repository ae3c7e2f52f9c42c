"""HTTP plumbing every surface shares: the runtime dependency, who is calling (cookie or
token) and CSRF, error shapes, request ids, rate limits, streamed multipart forms, the
Jinja2 environment, and the JSON shapes of tracks and people. Nothing here defines a route."""
