"""The ``amsread`` command line: the group and error boundary (``main``), shared options, verbs."""
