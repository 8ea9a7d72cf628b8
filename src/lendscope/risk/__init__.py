"""Risk engine: books, stress scenarios, the day-by-day engine, Monte Carlo VaR and kernels.

`books` reads DeFi positions, CDP vaults and CeFi loan tapes; `scenarios` loads dated historical
replays and user shocks; `engine` runs a book through a scenario day by day; `montecarlo`
generates seeded correlated GBM/jump paths and `var`/`kernels` evaluate books against them;
`executors` run chunks locally, on Dask or on Spark with identical results; `results` returns
the JSON summary. Import the module you need: this package imports nothing, so a chain read or a
stress run does not load Numba.
"""
