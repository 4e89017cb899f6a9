"""The wire: frames on the HAN port (HDLC, wired M-Bus) split from a byte stream, no I/O."""
