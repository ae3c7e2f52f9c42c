"""XRPC surfaces beside the web app: the labeler's com.atproto.label.* endpoints."""
