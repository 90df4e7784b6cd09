"""What a watcher computes from a race's messages: the record of each racer, bounded
histories, the leaderboard and the exports (CSV, JSON, weights)."""
