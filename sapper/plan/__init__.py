"""The planner: priorities, methods, sectors, lanes, schedule and forecast. Pure: no database.

The pipeline (build.py), the scheduling problem, sectors and each hazard's tasks sit here; the rules and their cited
figures in rules/, survey in survey/, the work reported so far in progress/, plans in parts and regions in regions/,
what a plan says in words in notes/, and the schedules, forecasts and lanes in their own sub-packages.
"""
