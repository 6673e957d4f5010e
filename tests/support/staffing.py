"""Staff in a tenant's directory, straight through workflow's application: the default template's
tickets go to the technicians' pool, and a pool nobody is in sends them to the unassigned queue."""

from shared.settings import Settings

from services.workflow import bootstrap as workflow


def hire(settings: Settings, tenant: str, user: str, *roles: str) -> None:
    """`user` in `tenant`'s directory with `roles` (a technician by default)."""
    app = workflow.application(settings)
    try:
        app.change_staff(tenant, lambda d: d.save_member(user, "admin", roles=roles or ("technician",)))
    finally:
        app.close()
