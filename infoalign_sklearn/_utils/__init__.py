"""Utilities every layer may use (no torch): atomic files and checksums (``io``), chunked
parallel maps and progress bars (``parallel``), shared parameter constraints and estimator
tags (``validation``)."""
