"""The only readers of the outside world: files, standard input, serial ports and URLs."""
