"""Measured runs of Carnet (`make bench`). Figures only: nothing here is a test."""
