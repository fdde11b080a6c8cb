"""A plan made in parts: one part of the register planned on its own (the whole register, or one region of a
country), and a country's regions planned apart in parallel processes and joined into one plan."""
