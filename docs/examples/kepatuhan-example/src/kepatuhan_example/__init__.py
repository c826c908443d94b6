"""The example methodology as a kepatuhan rubric plugin."""

RUBRIC_ID = "example"
