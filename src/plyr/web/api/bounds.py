"""Bounds the JSON API puts on text fields before the services see them."""

# Far above what the services accept (they answer with the precise limit), low enough
# that nobody can make us hold a huge string.
SLACK = 4
