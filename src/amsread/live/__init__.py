"""``amsread watch``'s live view: state (pure), view (rich) and formats."""
