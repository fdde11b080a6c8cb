"""Who works which sector, when: the list schedule, CP-SAT, and the bounds that say how good a plan is."""
