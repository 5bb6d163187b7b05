"""Revisions, oldest first by name: `<schema>_0001` is the schema of the previous release."""
