"""What a plan tells the officer in words: why teams sit idle, who is still working at the end and why, and the
plan's pace against the register's own."""
