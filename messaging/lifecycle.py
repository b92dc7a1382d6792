"""messaging's part of a tenant's data (tenants/lifecycle.py): its notifications, their batches
and recipients, and its ledger entries (every messaging table with a tenant foreign key).

Chats and media are DingTalk's (nothing is stored here); the limiter's counters are keyed by
app and corp, hold no content and age out within their window, so they are left alone.
"""

from tenants.lifecycle import app_part, register

register(app_part("messaging", order=100))
