"""Domain logic. Services take a session and a principal, never commit, raise domain errors."""
