"""sapper: open software for clearing a city of explosive hazards."""

from sapper.store import Register, init_register, open_register

__version__ = "0.1.0"
__all__ = ["Register", "__version__", "init_register", "open_register"]
