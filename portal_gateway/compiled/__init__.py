"""The compiled read path: a validated query document whose selections map onto tables is
compiled once into a plan of set-based SQL statements carrying the principal's scope, and
its response assembled without a resolver call per field. What does not compile runs
through Strawberry, the reference (DESIGN.md: The read path)."""
