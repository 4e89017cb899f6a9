"""DLMS/COSEM application layer: A-XDR data, APDUs, block transfer and ciphering."""
