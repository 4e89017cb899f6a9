"""Test helpers: the vectors (``helpers.vectors``), decoding them through the real pipeline
(``helpers.decoding``), and running amsread in a child process or terminal (``helpers.live``)."""
