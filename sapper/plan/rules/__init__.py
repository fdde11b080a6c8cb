"""The rules and cited figures the planner applies: priority weights, which methods may work where, how fast work goes,
how far apart teams keep; each read from a TOML file in data/ that names its sources."""
