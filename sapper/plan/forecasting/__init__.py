"""When will it be finished: rates learned from the reports, the Monte Carlo forecast, and its backtest."""
