"""What API keys and webhook endpoints share: one owner, a suite or an internal app."""

from __future__ import annotations


class SuiteOrAppOwned:
    """For models with nullable `suite` and `app` foreign keys, exactly one of them set (each
    model keeps its own check constraint, named after it)."""

    @property
    def owner_label(self) -> str:
        if self.suite_id is not None:
            return f"suite {self.suite.suite_key}"
        return f"app {self.app.app_key_label}" if self.app_id is not None else "none"
