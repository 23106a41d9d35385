"""Run the nisd command line from a checkout: ``python cli.py --help``."""

from nisd.cli import main

if __name__ == "__main__":
    main()
