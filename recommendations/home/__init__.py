"""The home page's rows, built at request time from the stored candidates.

- ``rows``: the rule book (which rows, what is in them, in what order), what
  a row is, and what every row uses (who may see what, the candidates).
- ``snapshot``: the catalog and the charts as the rows see them (cached).
- ``signals``: what the profile did, and its taste (shared with the privacy
  centre through :func:`signals.taste_of`).
- ``shared`` / ``personal``: the rows everyone gets / the profile's own.
- ``page``: a whole page: :func:`page.home_page`, order, de-duplication.
- ``cache``: where pages are cached, and their rendered HTML.
- ``why``: "Why this?".
"""
