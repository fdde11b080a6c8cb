"""Palmyra 2016: the ancient city, the modern town (Tadmur) and the airfield, as a register.

Drawn on the real outline and monuments (``data/palmyra_heritage.geojson``) and sized to the
published figures; every figure no public source gives is a labelled assumption
(``data/palmyra.toml`` and ``ASSUMPTIONS.md``). ``make_plan()`` computes the scenario without
a register; ``build(reg)`` writes it into an empty one in one transaction.
"""

from sapper.scenarios.palmyra.build import build
from sapper.scenarios.palmyra.plan import make_plan

__all__ = ["build", "make_plan"]
