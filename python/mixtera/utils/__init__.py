"""Helpers for training loops (the original's ``mixtera.utils``)."""
