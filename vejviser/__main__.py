from vejviser.cli import app

app()
