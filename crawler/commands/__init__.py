"""The ``corpus`` subcommands, one module each; :mod:`crawler.cli` assembles them."""
