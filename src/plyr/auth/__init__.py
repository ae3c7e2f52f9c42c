"""Signing in with ATProto: the OAuth client, server-side sessions, developer tokens."""
