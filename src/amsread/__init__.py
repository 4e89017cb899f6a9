"""amsread: read your own electricity meter from its HAN port.

Layers, one module each: ``source`` (bytes in) -> ``hdlc`` (frames) -> ``dlms`` (APDUs and the
A-XDR data tree) -> ``readings`` (the output contract) -> ``output`` (rows).  Only ``source`` and
``cli`` touch the outside world.
"""

__version__ = "0.1.0"
