"""amsread: read your own electricity meter from its HAN port.

Packages, each importing only those below it (the import-linter contracts in pyproject.toml):

* ``cli`` (the command line: group, shared options, runner, one module per verb);
* ``live`` (watch's state, view and text), ``diagnose`` (probe), ``simulator``, ``sinks``
  (destinations by URL scheme), ``report`` (hourly energy, capacity peaks, grid tariffs; pure);
* ``formats`` (CSV, JSON, text and hex strings, no I/O);
* ``decode.decoder`` (an envelope to a reading) and ``decode.pipeline`` (bytes to readings with
  the decoder it is handed);
* ``meters`` (one module per maker: layouts, list ids, scalers, presets, simulator models);
* ``decode.flat`` and ``decode.generic`` (the two roads to a message), ``decode.layout`` (the
  table types);
* ``contract`` (``Reading``, ``COLUMNS``) over ``decode.message`` (``Item``, ``Slot``, ``Message``);
* ``cosem`` (A-XDR, the data-notification, block transfer, ciphering), ``wire`` (HDLC and M-Bus
  frames, the framer and its envelopes), ``sources`` (the only readers of the outside world: files,
  stdin, serial ports and URLs, hex text) and ``stdio`` (standard streams that fail in words);
* ``obis``, ``settings``, ``crc``, ``text`` and ``errors`` (standard library only).

Docstrings cite their public sources by these keys: IEC 62056-46 (HDLC and LLC for DLMS);
GB8 / GB9 (DLMS UA Green Book, editions 8 and 9) and BB13 (DLMS UA Blue Book, edition 13);
EN 13757-2 and DOC48 (M-Bus); NEK ("AMS + HAN" v2.0, 2015) and NVE (the Norwegian regulator's
2016 letter with the three vendor lists); AID-IF (Aidon HAN Interface Description v1.1A),
AID-OBIS (Aidon OBIS list information), AID-RJ12 (Aidon RJ12 HAN interface, Sweden); KFM (Kaifa
HAN OBIS codes KFM_001); KAM-OBIS (Kamstrup OBIS list information), KAM-NVE (Kamstrup HAN-NVE
interface description rev 3.1), KAM-DK (Kamstrup OMNIPOWER HAN interface specification, Denmark);
TINETZ (TINETZ customer interface description, Austria); SE-BR (Swedish industry recommendation
for the local interface v2.0); P1 (DSMR P1 companion standard 5.0.2). Other readers consulted:
AMSHAN (toreamun/amshan), AMSR (UtilitechAS/amsreader-firmware), ROAR
(roarfred/AmsToMqttBridge), HASSAMS (turbokongen/hass-AMS).
"""

__version__ = "0.1.0"
