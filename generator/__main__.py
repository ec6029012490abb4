"""`python -m generator` is the same as `vsm`."""

from generator.cli import main

raise SystemExit(main())
