"""The `dataward` command line: one thin module per command group."""
