"""A tenant's templates (工单模板): drafts being designed and every published version. No I/O here.

One aggregate per tenant, so that publishing (which numbers versions and checks that regional
variants do not overlap) sees all of the tenant's templates at once. Events carry the template's
JSON (`Template.to_dict`); published versions are kept forever, for the tickets that run on them.
The built-in `default` template needs no publishing and cannot be replaced; copy it to change it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.contracts import DEFAULT_TEMPLATE
from shared.errors import Conflict, Invalid, NotFound
from shared.pertenant import tenant_uuid

from services.workflow.templates.catalogue import Catalogue
from services.workflow.templates.model import FieldRules, HandlerRule, Node, Template, Transition, copy_template

_LIBRARY_IDS = UUID("9a3e4b27-51c8-4f0d-8e6a-0c7d2b1f5e93")
TASK = ("view", "edit", "advance", "transfer", "cancel")


DEFAULT_HANDLER = HandlerRule("role", "technician")  # nobody named: the technicians' pool (else the queue)


def default_template(handler: HandlerRule | str = DEFAULT_HANDLER) -> Template:
    """处理中 → 已完成, handled by the technicians' pool (a user, when named: tests): the flow every ticket
    had before templates (parts and labour recorded at 处理中, then closed). Node keys are the names, as
    before."""
    rule = HandlerRule("user", handler) if isinstance(handler, str) else handler
    return Template(
        DEFAULT_TEMPLATE,
        "默认工单",
        version=1,
        nodes=(
            Node("处理中", "处理中", handler=rule, actions=TASK + ("close",), fields=FieldRules()),
            Node("已完成", "已完成", kind="end", actions=("view", "reopen")),
        ),
        transitions=(Transition("处理中", "已完成"),),
    )


def library_id(tenant: str) -> UUID:
    return tenant_uuid(_LIBRARY_IDS, tenant)


class TemplateLibrary(Aggregate):
    @staticmethod
    def create_id(tenant: str) -> UUID:
        return library_id(tenant)

    @event("Created")
    def __init__(self, tenant: str):
        self.tenant = tenant
        self.drafts: dict[str, dict[str, Any]] = {}
        self.catalogue = Catalogue(tenant)

    def draft(self, key: str) -> Template:
        if key not in self.drafts:
            raise NotFound(f"no draft of template {key!r}", template=key)
        return Template.from_dict(self.drafts[key])

    def save_draft(self, template: Template, by: str) -> None:
        """Keep a template being designed; it is checked in full only when published."""
        if template.key == DEFAULT_TEMPLATE:
            raise Conflict(f"{DEFAULT_TEMPLATE!r} is built in; copy it to a new key to change it")
        if not template.key or not template.name:
            raise Invalid("a template needs a key and a name")
        self._draft_saved(template=template.to_dict() | {"version": 0}, by=by)

    @event("DraftSaved")
    def _draft_saved(self, template: dict[str, Any], by: str) -> None:
        self.drafts[template["key"]] = template

    def publish(self, key: str, by: str) -> Template:
        """The draft becomes the next version of `key`; Invalid lists every problem if it may not."""
        stamped = self.catalogue.publish(self.draft(key)).latest(key)
        self._published(tenant=self.tenant, template=stamped.to_dict(), by=by)
        return stamped

    class Published(Aggregate.Event):
        """v2 names the tenant: the event is public (template.published), and intake learns forms from it."""

        class_version = 2
        tenant: str | None
        template: dict[str, Any]
        by: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Not knowable from the event alone (the library id is a hash of it); the outbox skips these.
            state["tenant"] = None

    @event(Published)
    def _published(self, tenant: str | None, template: dict[str, Any], by: str) -> None:
        del self.drafts[template["key"]]
        self.catalogue = self.catalogue.recorded(Template.from_dict(template))

    def copy(self, source: Template, key: str, name: str, by: str, regions: tuple[str, ...] = ()) -> Template:
        """Copy-and-modify: a draft from a whole template; with regions, a regional variant of it."""
        if key in self.drafts:
            raise Conflict(f"there is already a draft of {key!r}; publish or change that one")
        variant = {"variant_of": source.key, "regions": tuple(regions)} if regions else {}
        copied = copy_template(source, key, name, **variant)
        self.save_draft(copied, by)
        return copied


def choose(library: TemplateLibrary | None, key: str, region: str | None, default: Template) -> Template:
    """The template a new ticket runs on: the latest version of `key`, or of its regional variant for
    `region`; the default template when the tenant has no such template (never nowhere)."""
    if key == DEFAULT_TEMPLATE or library is None or key not in library.catalogue.published:
        return default
    return library.catalogue.select(key, region)
