"""Portal Gateway: the GraphQL API behind a self-service customer billing portal."""
