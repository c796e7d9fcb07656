"""Readers: every input format becomes :class:`~medref.regimen.MedicationLine` items and
:class:`~medref.regimen.Record` regimens (:mod:`.lines` for one item, :mod:`.records` for a
record object, :mod:`.files` for .txt, .json, .jsonl and .csv files)."""
