"""One identity for the platform, verified the same way by every service.

- Staff sign in at workflow (which owns the staff directory): a password (argon2id) or a WeCom
  OAuth code. They get a short-lived token signed by workflow (`tokens`), carrying tenant,
  staff id and roles, sent as `Authorization: Bearer <token>` or, from a browser, as the
  session cookie with a CSRF token (`guard`).
- Machine clients use a tenant's API keys (`apikeys`): hashed, revocable, shown once, scoped
  (read, write, admin). Workflow issues them; every other service keeps a replica of each
  tenant's keys and of which tenants exist (`access`), fed by workflow's public events.
- Every route of every app is closed unless it says it is public (`guard.public`).
"""
