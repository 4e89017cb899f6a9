"""Destinations by URL scheme: where frames (and later readings) are written."""
