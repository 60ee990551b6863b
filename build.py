#!/usr/bin/env python3
"""Build the site: `python build.py --help` lists the commands. The work lives in sitegen/."""

from sitegen.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
