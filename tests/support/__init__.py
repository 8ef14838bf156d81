"""Helpers shared by test folders, as PTB's ``tests/auxil``: imported, never collected.

conftest files hold fixtures only; anything a test imports lives here.
"""
