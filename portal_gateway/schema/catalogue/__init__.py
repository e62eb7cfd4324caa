"""Products and the collections a plan may move within."""
