"""Screens of the app: the race, help and forms; the views detail, surface, grid, leaderboard."""
