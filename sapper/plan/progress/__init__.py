"""What the daily reports say of the work so far: what is left to plan on each hazard, and the hazards each team has
started and goes on with."""
