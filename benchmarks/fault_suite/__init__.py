"""The fault-injection and bad-input suite behind ``make faults`` (see ``benchmarks/faults.py``)."""

from benchmarks.fault_suite.tally import Tally, table

__all__ = ["Tally", "table"]
