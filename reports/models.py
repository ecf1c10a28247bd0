"""Arrives with its own issue; the app is registered now so the layout is fixed."""
