"""One module per subcommand; each exposes ``command``, a click command. See ``amsread.cli``."""
