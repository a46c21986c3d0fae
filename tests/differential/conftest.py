"""The differential suite: `linux`-marked tests skip where the kernel twin cannot run (tests/conftest.py)."""
