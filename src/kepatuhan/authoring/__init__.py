"""The methodology designer's kit: scaffold, lint, the test kit (public as ``kepatuhan.testing``), pytest fixtures, synthetic rounds."""
