"""A static-site generator for Espoo's responses to its audit committee's evaluation report.

The data flows one way, one module per stage:

    load (files → parsed documents) → validate (schema and cross-file rules)
    → model (frozen dataclasses) → render (Markdown and Jinja → pages)
    → write (atomic swap of site/)

`sitegen.pipeline` strings the stages together; `sitegen.cli` is the command line.
"""

from pathlib import Path

__version__ = "0.1.0"

TOOL_ROOT = Path(__file__).resolve().parent.parent
"""Where build.py, templates/ and schema.yaml of the generator itself live."""
