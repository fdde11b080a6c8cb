"""Survey before clearance (IMAS 07.11): non-technical and technical survey of suspected land, technical survey of
confirmed land, what survey is expected to cancel or reduce, and the survey teams' rates learned from their reports."""
