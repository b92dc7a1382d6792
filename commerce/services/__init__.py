"""The commerce app's services: the order ledger, entitlements, in-app purchases."""
