"""Widgets of the app; each renders from the RaceRecord and holds no training logic."""
