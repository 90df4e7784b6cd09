"""The data sources by name, in the order ``tui-optim list datasets`` shows them.

To add a source: write its loader ``(spec, options, seed) -> RawData`` in a source module
(or a new one), declare a :class:`DatasetInfo` with its options (``HParam``: name, default,
range; the scenario schema validates them and ``list`` shows them) and its ``shape`` (rows
and columns from the options, for the memory estimate), and add it to that module's
``ENTRIES``. Nothing else names sources.
"""

from __future__ import annotations

from tui_optim.engine.data import bundled, csv_file, series, synthetic
from tui_optim.engine.data.spec import DatasetInfo

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (*bundled.ENTRIES, *synthetic.ENTRIES, *series.ENTRIES, *csv_file.ENTRIES)
}
