"""Rasa SDK actions: thin wrappers over the `bot` core, one module per capability.

The action server (`rasa run actions --actions actions`) registers every module in this package.
"""
