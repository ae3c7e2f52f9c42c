"""Every API call written once, as an operation (effects.py) that `Client` runs blocking
and `AsyncClient` runs awaiting: one module per area of the API."""
