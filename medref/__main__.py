"""``python -m medref``."""

from medref.cli import main

main()
