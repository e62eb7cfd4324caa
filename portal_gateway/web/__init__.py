"""HTTP surfaces: the GraphQL endpoint, the middleware, and the pages this service serves
itself (the link page, the sign-in pages). Each calls services or the schema; none
reaches the resolvers but through the schema."""
