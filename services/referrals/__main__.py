"""`python -m services.referrals` serves the service; with arguments, the operator commands
(`python -m services.referrals keys rotate`, see cli.py)."""

import sys

if len(sys.argv) > 1:
    from services.referrals.cli import app

    app(prog_name="python -m services.referrals")
else:
    from shared.serve import serve

    serve("referrals")
