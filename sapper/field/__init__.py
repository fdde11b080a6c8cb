"""Field data collection: XLSForms built from the register's vocabularies, their lists from the
register, and what ODK Collect / KoboCollect send back (OpenRosa)."""
