"""See exchange/__init__.py."""
