"""Screens of the app (race, help, forms; detail/surface/grid/leaderboard by UI-views)."""
