"""Starlette endpoints grouped by who uses them, and the machinery they share."""
