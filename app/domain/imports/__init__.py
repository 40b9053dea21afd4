"""Importers of external files (ministry tables, trainer lists): validate everything, then write.

`tables` is the format of tables in files both ways: the limits every import reads within, and the one CSV writer
of the app, which neutralises formulas that the imports read back as the original text."""
