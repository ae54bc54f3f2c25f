"""Background jobs that need no in-memory token: MedMij list refreshes, clean-up of
expired sessions and authorizations, scheduled re-collects with stored refresh tokens.

``queue`` is the durable queue (the ``jobs`` table), ``tasks`` the job kinds and their
handlers, ``worker`` the loop run by ``regie worker`` (and, on SQLite, inside the web
process). See docs/decisions/0004-jobs.md.
"""
