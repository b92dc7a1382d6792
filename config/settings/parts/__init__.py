"""Settings of the later areas, one module each (identity, commerce, directory, the tenant data
lifecycle), so each area's defaults and beat entries read in one place. base.py star-imports
them and merges each module's BEAT_SCHEDULE into CELERY_BEAT_SCHEDULE. Plain values and the
environment only: no Django imports here."""
