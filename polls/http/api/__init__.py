"""The JSON API: the same operations as the officer pages, for scripts and integrations."""
