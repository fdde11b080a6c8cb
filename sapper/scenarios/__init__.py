"""Ready-made registers of documented scenarios, built through sapper's public register API."""
