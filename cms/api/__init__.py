"""The headless API (/api/v1/): pages resolved for the visitor, editor preview, staff reports."""
