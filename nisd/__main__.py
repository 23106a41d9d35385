"""``python -m nisd``: the command line, as the ``nisd`` script."""

from nisd.cli import main

main()
