"""Widgets of the app; each renders from the RaceModel and holds no training logic."""
