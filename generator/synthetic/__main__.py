"""`python -m generator.synthetic`: see cli.py."""

from generator.synthetic.cli import main

raise SystemExit(main())
