"""`python -m services.web` serves the web client; with arguments, the operator commands
(`python -m services.web clients add NAME`, see cli.py)."""

import sys

if len(sys.argv) > 1:
    from services.web.cli import app

    app(prog_name="python -m services.web")
else:
    from shared.serve import serve

    serve("web")
