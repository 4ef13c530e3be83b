"""The JSON API: the same operations as the officer pages, for scripts and integrations, and the
residents' vote. One module per resource; ``registry`` gathers them into routes and the OpenAPI
document."""
