"""Between the ORM and the engine: the only code that turns database rows into
engine arrays and back, and does the recommender's writes. By topic:

- :mod:`.dataset`: signals to arrays (training data, each profile's history,
  genre features, MovieLens files for offline evaluation).
- :mod:`.training`: the model registry (the active version, loading a
  model once per process) and training, promotion, rollback, tuning.
- :mod:`.candidates`: scoring and storing each profile's candidates.
- :mod:`.trending`: "Trending now" (the queries; the decay is
  ``engine.trending``).
- :mod:`.engagement`: the home page's writes: seeds turned down, and which
  row a played or rated title came from.
- :mod:`.forget`: taking erased profiles' rows out of the model files.

Callers import the module they need (``from recommendations.services import
training``); this package exports nothing itself.
"""
