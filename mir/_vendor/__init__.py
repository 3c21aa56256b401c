"""Upstream code the project ships (see README.md beside this file)."""
