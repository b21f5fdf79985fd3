"""Frontyard: the resident counters of a Japanese city hall."""

from pathlib import Path

__version__ = "0.1.0"

#: The checkout holding templates/, static/ and locales/ beside the packages.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
