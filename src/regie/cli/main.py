"""The `regie` command."""
import typer

app = typer.Typer(help="Regie: persoonlijke gezondheidsomgeving")
