"""What every dingsuite Django app shares: errors, encrypted fields, redaction, Redis, the clock.

`core` sits between the `dingtalk` library and the apps: it may import Django and `dingtalk`,
never an app (an import-linter contract in tests/test_architecture.py keeps that true).
"""
