"""``python -m evalmodel``: the same as the ``evalmodel`` command."""

from evalmodel.cli import main

raise SystemExit(main())
