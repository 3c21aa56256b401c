"""Triggers: the inbox sensor."""
