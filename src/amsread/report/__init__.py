"""Hourly energy and the capacity tariff (issue 12, docs/report-contract.md).

``hours`` turns readings into hours (counters, the stale repeat, estimates from power),
``capacity`` takes the month's daily maxima, peaks and mean, ``tariffs`` reads the shipped grid
tariffs (credit: "Fri nettleie", CC-BY-4.0), ``month`` puts a meter's month together and streams
months out, ``live`` computes the kWh left this hour (for ``watch --grid`` and ``run --grid``),
``history`` reads the history files and ``text`` prints a month for a terminal. All pure and exact
(Decimal throughout); the command is ``amsread.cli.report``.
"""
