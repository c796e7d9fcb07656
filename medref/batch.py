"""Batch screening (filled in by the batch issue)."""
