"""The methodology designer's kit: scaffold, lint, the test kit (public as
``kepatuhan.testing``), the pytest fixtures and synthetic national rounds."""
