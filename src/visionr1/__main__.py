from visionr1.cli import app

app()
