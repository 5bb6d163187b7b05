"""`vejviser`: the services' own commands and the migrations are imported when a command line
names them (a dead-letter listing does not wait for every service to import), and are all
still there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from vejviser.cli import app

REPO = Path(__file__).resolve().parents[2]


def test_the_help_lists_every_group_of_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for group in ("dlq", "migrate", "web", "referrals", "analytics", "serve", "token"):
        assert group in result.output
    assert "catalogue" not in result.output.split("Commands")[1]  # it has no commands of its own


def test_a_services_commands_run_when_named() -> None:
    result = CliRunner().invoke(app, ["web", "clients", "--help"])
    assert result.exit_code == 0, result.output
    assert "add" in result.output
    migrate = CliRunner().invoke(app, ["migrate", "--help"])
    assert migrate.exit_code == 0 and "upgrade" in migrate.output
    assert "--install-completion" not in migrate.output  # only the top command offers it
    unknown = CliRunner().invoke(app, ["nosuch"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output


def test_a_command_of_its_own_imports_no_service() -> None:
    probe = (
        "import sys\n"
        "from vejviser.cli import app\n"
        "try:\n"
        "    app(['dlq', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('services.') or m == 'shared.migrations'))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
