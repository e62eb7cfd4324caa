"""A customer: the person across businesses, and their account at each."""
