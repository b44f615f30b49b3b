"""Prefect blocks of modelgate: named configuration kept on the Prefect server."""
