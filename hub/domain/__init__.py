"""The rules (pure functions) and the operations that change data."""
