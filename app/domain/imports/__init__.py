"""Importers of external files (ministry tables, trainer lists): validate everything, then write."""
