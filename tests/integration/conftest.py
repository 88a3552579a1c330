"""Integration tests use the running assistant of tests/conftest.py (`assistant` fixture)."""
