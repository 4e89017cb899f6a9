"""From an APDU to a reading: the message model, flat layouts, the generic tree, the decoder."""
