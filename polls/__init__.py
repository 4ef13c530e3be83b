"""polls: participatory democracy polling for local-democracy pilots."""
