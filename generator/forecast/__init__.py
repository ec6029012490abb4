"""Planning the future from the stream's own history (docs/forecast.md, docs/scenarios.md).

- history.py: completions as known at any instant, daily throughput, open items
- window.py: the throughput window a forecast samples from, and its stability check
- montecarlo.py: the vectorised Monte Carlo simulation and its percentile lines
- backtest.py: forecasts from earlier dates checked against what happened
- sle.py: the service level expectation, its share per period and month, aging WIP by risk
- plan.py: everything above for one stream (`forecast_stream`) and for a report's as_of
- paths.py, scenarios.py, scenario_text.py: what-if scenarios, the current period's completed
  items replayed with a scenario's changes (future-state maps)

Like metrics/, nothing here does I/O or reads a clock; every random generator is seeded
from a hash of (stream, what is forecast or projected, window or period bounds).
"""
