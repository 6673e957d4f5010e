"""The H5 form channel's HTTP side: the page, its submissions and its image uploads.

    GET  /h5/<tenant>/<slug>              the page (HTML), from the form's latest version
    POST /h5/<tenant>/<slug>/submissions  JSON; a ticket.created with the form's values
    POST /h5/<tenant>/<slug>/uploads      multipart `file`; returns a reference for an image field
    GET  /h5/<tenant>/uploads/<ref>       an uploaded image (its name is its sha256)

An unknown tenant, form or token is the same 404, so a link cannot be guessed a piece at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, jsonify, render_template, request, send_file

from shared import web
from shared.contracts import ticket_number
from shared.deadline import OUTCOME_UNKNOWN, bounded
from shared.errors import DomainError, Invalid, NotFound
from shared.identity.guard import public

from services.intake.application import IntakeApplication
from services.intake.forms.page import CONTACT_RULES, rules
from services.intake.forms.domain import Form, form_id, parse_slug
from shared.ratelimit import RateLimiter, TooManyRequests
from services.intake.forms.submission import FormSubmission, check, describe
from services.intake.forms.uploads import KINDS, REF, Uploads

CHANNEL = "h5"


class NotJson(DomainError):
    status, code = 415, "unsupported_media_type"


@dataclass(frozen=True)
class FormChannel:
    uploads: Uploads
    limiter: RateLimiter

    def register(self, app: Flask, intake: IntakeApplication) -> None:
        app.register_blueprint(_blueprint(intake, self))
        _document(app, self.uploads.max_bytes)


def _form(intake: IntakeApplication, tenant: str, slug: str) -> Form:
    parsed = parse_slug(slug)
    form = intake.current(form_id(tenant, parsed[0]), tenant, Form) if parsed else None
    if form is None or not form.admits(parsed[1]):
        raise NotFound("no such form")
    return form


def _blueprint(intake: IntakeApplication, channel: FormChannel) -> Blueprint:
    pages = Blueprint("h5_forms", __name__, template_folder="templates")

    @pages.errorhandler(TooManyRequests)
    def too_many(e: TooManyRequests):
        response, status = web.error_body(e.status, e.code, e.message, **e.details)
        response.headers["Retry-After"] = str(e.retry_after)
        return response, status

    def limit(form: Form) -> None:
        # Behind a reverse proxy, configure it (or werkzeug's ProxyFix) so remote_addr is the client's.
        channel.limiter.take((request.remote_addr, form.tenant, form.key))

    # Public: a form's link holds its token, and every client address is rate-limited.
    @pages.get("/h5/<tenant>/<slug>")
    @public
    def page(tenant: str, slug: str):
        form = _form(intake, tenant, slug)
        return render_template("form.html", form=form, version=form.latest, rules=rules,
                               contact_rules=CONTACT_RULES, kinds=",".join(KINDS.values()),
                               max_mib=channel.uploads.max_bytes // (1024 * 1024))

    @pages.post("/h5/<tenant>/<slug>/submissions")
    @public
    @bounded
    def submit(tenant: str, slug: str):
        form = _form(intake, tenant, slug)
        limit(form)
        if not request.is_json:
            raise NotJson("send the body as application/json")
        body, version, values = check(request.get_json(silent=True), form, channel.uploads)
        accepted = intake.submit(tenant, CHANNEL, body["submission_id"], body["customer"], describe(version, values),
                                 template=form.key, route={"by": "form", "key": form.key}, values=values)
        return (jsonify(ticket_id=str(accepted.ticket_id), number=ticket_number(accepted.ticket_id),
                        created=accepted.created), 201 if accepted.created else 200)

    @pages.post("/h5/<tenant>/<slug>/uploads")
    @public
    def upload(tenant: str, slug: str):
        form = _form(intake, tenant, slug)
        limit(form)
        request.max_content_length = channel.uploads.max_bytes + 64 * 1024  # the multipart framing around it
        sent = request.files.get("file")
        if sent is None:
            raise Invalid("send the image as the multipart/form-data part `file`")
        data = sent.stream.read(channel.uploads.max_bytes + 1)
        ref = channel.uploads.save(tenant, data)
        return jsonify(ref=ref, url=f"/h5/{tenant}/uploads/{ref}"), 201

    @pages.get("/h5/<tenant>/uploads/<ref>")
    @public  # named by its content's SHA-256: only who saw the reference can ask for it
    def uploaded(tenant: str, ref: str):
        if not channel.uploads.exists(tenant, ref):
            raise NotFound("no such upload")
        served = send_file(channel.uploads.path(tenant, ref), mimetype=KINDS[REF.fullmatch(ref)["ext"]],
                           max_age=365 * 24 * 3600)  # a name that is its content's hash never changes
        # Only the first bytes were checked: whatever follows them (HTML, script) must never run, even
        # when the file is opened on its own rather than shown in an <img>.
        served.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        served.headers["Content-Disposition"] = f'inline; filename="{ref}"'
        return served

    return pages


def _document(app: Flask, max_bytes: int) -> None:
    base = "/h5/{tenant}/{slug}"
    web.document(app, "get", base, "An H5 form page (HTML) for a published template; the link is `scrm intake "
                 "form-link TENANT KEY`", responses={200: "text/html", 404: "No such form"})
    web.document(app, "post", base + "/submissions", "Submit a form page; checked against the version it showed",
                 body=FormSubmission, responses={201: "Accepted: ticket_id, number", 200: "Already accepted: same ticket",
                                                 400: "Invalid fields: details.errors maps each to its message",
                                                 415: "Not JSON",
                                                 404: "No such form", 429: "Too many requests (Retry-After)",
                                                 503: OUTCOME_UNKNOWN})
    web.document(app, "post", base + "/uploads", f"Upload an image (multipart `file`; JPEG, PNG or WebP, at most "
                 f"{max_bytes // (1024 * 1024)} MiB); returns `ref` for an image field's value",
                 responses={201: "ref, url", 400: "No file part", 404: "No such form", 413: "Too large",
                            415: "Not a JPEG, PNG or WebP image", 429: "Too many requests (Retry-After)"})
    web.document(app, "get", "/h5/{tenant}/uploads/{ref}", "An uploaded image", responses={200: "The image",
                                                                                        404: "No such upload"})
