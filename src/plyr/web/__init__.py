"""HTTP: the FastAPI app, its middleware, error handling, pages and API routes."""
