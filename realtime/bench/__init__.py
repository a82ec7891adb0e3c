"""The harness behind ``lowlight bench``: :mod:`~lowlight.realtime.bench.harness` (the measurements),
:mod:`~lowlight.realtime.bench.report` (table, JSON, chart) and :mod:`~lowlight.realtime.bench.synthetic`
(the dark test clips, also used by ``benchmarks/`` and the tests)."""
