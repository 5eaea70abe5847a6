"""The leaderboard: models ranked across run folders by per-sample worst-case robust accuracy, with their costs.

Modules:

* ``board``: A leaderboard across run folders: one row per model, ranked by per-sample worst-case robust accuracy.
* ``costs``: The leaderboard's cost columns: join each model's cost (``costs/``), filter by a budget, sort by a cost.
"""
