"""The planner: priorities, methods, sectors, lanes, schedule and forecast. Pure: no database."""
