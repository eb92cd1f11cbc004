"""Investigations: crimes and non-crime incidents, from recording to a Home Office outcome."""
