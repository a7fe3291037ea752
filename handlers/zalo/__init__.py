"""Zalo: the Bot Platform client, events in, numbered texts out, and a fake server for tests.

Everything that knows Zalo lives in this package; the core never names it.
"""
