"""Database layer: engine and sessions, the schema, and migrations."""
