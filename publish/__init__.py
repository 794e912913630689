"""The package writer: the dated, citable package under $HUBWATCH_HOME/publish/ (plain Python, no
Dagster import). It reads the warehouse read-only and never writes it."""
