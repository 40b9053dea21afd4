"""Imports every module that registers periodic jobs, so that `tick` sees them all."""
