"""The H5 form channel's HTTP side: the page, its submissions and its image uploads.

    GET  /h5/<tenant>/<slug>              the page (HTML), from the form's latest version
    POST /h5/<tenant>/<slug>/submissions  JSON; a ticket.created with the form's values
    POST /h5/<tenant>/<slug>/uploads      multipart `file`; returns a reference for an image field
    GET  /h5/<tenant>/uploads/<ref>       an uploaded image (its name is its sha256)

An unknown tenant, form or token is the same 404, so a link cannot be guessed a piece at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request, send_file
from marshmallow import Schema, fields

from shared import web
from shared.deadline import bounded
from shared.errors import DomainError, Invalid, NotFound
from shared.identity.guard import public
from shared.restapi import Blueprint

from services.intake.api.accepted import answer, submits
from services.intake.application import IntakeApplication
from services.intake.forms.page import CONTACT_RULES, rules
from services.intake.forms.domain import Form, form_id, parse_slug
from shared.ratelimit import RateLimiter, TooManyRequests
from services.intake.forms.submission import FormSubmission, check, describe
from services.intake.forms.uploads import KINDS, REF, Uploads

CHANNEL = "h5"


class NotJson(DomainError):
    status, code = 415, "unsupported_media_type"


class Uploaded(Schema):
    ref = fields.String(metadata={"description": "The value for an image field: `<sha256>.<ext>`"})
    url = fields.String(metadata={"description": "Where the image is served"})


TEXT = {"type": "string"}
IMAGE = {"type": "string", "format": "binary"}
LIMITED = {429: "Too many requests from this address for this form (Retry-After)"}


@dataclass(frozen=True)
class FormChannel:
    uploads: Uploads
    limiter: RateLimiter

    def blueprint(self, intake: IntakeApplication) -> Blueprint:
        return _blueprint(intake, self)


def _form(intake: IntakeApplication, tenant: str, slug: str) -> Form:
    parsed = parse_slug(slug)
    form = intake.current(form_id(tenant, parsed[0]), tenant, Form) if parsed else None
    if form is None or not form.admits(parsed[1]):
        raise NotFound("no such form")
    return form


def _blueprint(intake: IntakeApplication, channel: FormChannel) -> Blueprint:
    pages = Blueprint(
        "h5_forms",
        __name__,
        template_folder="templates",
        description="H5 form pages of published templates, their submissions and image uploads",
    )
    max_mib = channel.uploads.max_bytes // (1024 * 1024)

    @pages.errorhandler(TooManyRequests)
    def too_many(e: TooManyRequests):
        response, status = web.error_body(e.status, e.code, e.message, **e.details)
        response.headers["Retry-After"] = str(e.retry_after)
        return response, status

    def limit(form: Form) -> None:
        # Behind a reverse proxy, configure it (or werkzeug's ProxyFix) so remote_addr is the client's.
        channel.limiter.take((request.remote_addr, form.tenant, form.key))

    # Public: a form's link holds its token, and every client address is rate-limited.
    @pages.route("/h5/<tenant>/<slug>", methods=["GET"])
    @pages.answers(200, {"text/html": TEXT}, "The page")
    @pages.refuses({404: "No such form"})
    @public
    def page(tenant: str, slug: str):
        """An H5 form page (HTML) for a published template

        Public: the link (`scrm intake form-link TENANT KEY`) holds the form's token; a wrong one is a 404,
        like an unknown tenant or form."""
        form = _form(intake, tenant, slug)
        return render_template(
            "form.html",
            form=form,
            version=form.latest,
            rules=rules,
            contact_rules=CONTACT_RULES,
            kinds=",".join(KINDS.values()),
            max_mib=max_mib,
        )

    @pages.route("/h5/<tenant>/<slug>/submissions", methods=["POST"])
    @submits(pages)
    @pages.takes(
        {"application/json": FormSubmission},
        "Checked against the version the page showed: the customer, and the values of that version's fields",
    )
    @pages.refuses(
        {
            400: "Invalid fields: details.errors maps each (a field key, customer.phone, …) to its message",
            404: "No such form",
            415: "Not application/json",
            **LIMITED,
        }
    )
    @public
    @bounded
    def submit(tenant: str, slug: str):
        """Submit a form page

        Public: the form's link holds its token (a wrong one is a 404, like an unknown tenant or form), and
        each address is rate-limited per form."""
        form = _form(intake, tenant, slug)
        limit(form)
        if not request.is_json:
            raise NotJson("send the body as application/json")
        body, version, values = check(request.get_json(silent=True), form, channel.uploads)
        return answer(
            intake.submit(
                tenant,
                CHANNEL,
                body["submission_id"],
                body["customer"],
                describe(version, values),
                template=form.key,
                route={"by": "form", "key": form.key},
                values=values,
            )
        )

    @pages.route("/h5/<tenant>/<slug>/uploads", methods=["POST"])
    @pages.response(201, Uploaded)
    @pages.takes(
        {"multipart/form-data": {"type": "object", "required": ["file"], "properties": {"file": IMAGE}}},
        f"The image as the part `file`: JPEG, PNG or WebP (read from its first bytes), at most {max_mib} MiB",
    )
    @pages.refuses(
        {
            400: "No part `file`",
            404: "No such form",
            413: f"Larger than {max_mib} MiB",
            415: "Not a JPEG, PNG or WebP image",
            **LIMITED,
        }
    )
    @public
    def upload(tenant: str, slug: str):
        """Upload an image for an image field; answers its `ref`

        Public: the form's link holds its token (a wrong one is a 404, like an unknown tenant or form), and
        each address is rate-limited per form."""
        form = _form(intake, tenant, slug)
        limit(form)
        request.max_content_length = channel.uploads.max_bytes + 64 * 1024  # the multipart framing around it
        sent = request.files.get("file")
        if sent is None:
            raise Invalid("send the image as the multipart/form-data part `file`")
        data = sent.stream.read(channel.uploads.max_bytes + 1)
        ref = channel.uploads.save(tenant, data)
        return {"ref": ref, "url": f"/h5/{tenant}/uploads/{ref}"}

    @pages.route("/h5/<tenant>/uploads/<ref>", methods=["GET"])
    @pages.answers(200, {kind: IMAGE for kind in KINDS.values()}, "The image")
    @pages.refuses({404: "No such upload"})
    @public  # named by its content's SHA-256: only who saw the reference can ask for it
    def uploaded(tenant: str, ref: str):
        """An uploaded image

        Public: named by its content's SHA-256, known only to who uploaded it or saw the reference."""
        if not channel.uploads.exists(tenant, ref):
            raise NotFound("no such upload")
        served = send_file(
            channel.uploads.path(tenant, ref), mimetype=KINDS[REF.fullmatch(ref)["ext"]], max_age=365 * 24 * 3600
        )  # a name that is its content's hash never changes
        # Only the first bytes were checked: whatever follows them (HTML, script) must never run, even
        # when the file is opened on its own rather than shown in an <img>.
        served.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        served.headers["Content-Disposition"] = f'inline; filename="{ref}"'
        return served

    return pages
