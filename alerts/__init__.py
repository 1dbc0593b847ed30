"""Alerts: one page per real outage, none for a blip (detection, suppression, notifications)."""
