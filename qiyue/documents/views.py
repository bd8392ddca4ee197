"""Document and paper-original pages: thin views over the documents selectors and services.

Upload views are csrf_exempt on the outside and csrf_protect inside, so the size-limit upload
handler is installed before the CSRF check first reads the request body (Django's documented
pattern for changing upload handlers per view).
"""

import functools
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from qiyue.contracts.selectors import contract_get
from qiyue.core.errors import ApplicationError
from qiyue.core.htmx import (
    ServiceFormView,
    form_error,
    hx_redirect,
    is_partial,
    message_error,
    raise_for_status,
)
from qiyue.customers.selectors import customer_get

from . import policies, previews, selectors, services
from .forms import LendForm, PaperOriginalForm, ReturnForm, UploadForm, VersionForm
from .models import DocumentText, ExtractionStatus, FileType
from .uploads import install_size_limit, too_large_error

# --- Documents panel (contract page and customer page) ----------------------------------------

def _owner_page(contract=None, customer=None) -> str:
    if contract is not None:
        return reverse("contracts:detail", args=[contract.pk])
    return reverse("customers:detail", args=[customer.pk])


def _panel_context(request, *, contract=None, customer=None, form=None, error=None, message="") -> dict:
    if contract is not None:
        documents = selectors.document_list(user=request.user, contract_id=contract.pk)
        upload_url = reverse("documents:contract_upload", args=[contract.pk])
        panel_url = reverse("documents:contract_panel", args=[contract.pk])
        owner = contract
    else:
        documents = selectors.document_list(user=request.user, customer_id=customer.pk)
        upload_url = reverse("documents:customer_upload", args=[customer.pk])
        panel_url = reverse("documents:customer_panel", args=[customer.pk])
        owner = customer
    documents = list(documents)
    return {
        "panel_contract": contract,
        "panel_customer": customer,
        "documents": documents,
        "upload_form": form or UploadForm(),
        "upload_url": upload_url,
        "panel_url": panel_url,
        "can_upload": policies.can_upload_to(request.user, owner),
        "upload_error": error,
        "upload_message": message,
        "preview_types": previews.WEB_PREVIEW_TYPES,
        "max_mb": settings.QIYUE_MAX_UPLOAD_MB,
        # While a text is still being read, the rows ask again every few seconds (the form is left alone).
        "extracting": any(_pending(document) for document in documents),
    }


def _pending(document) -> bool:
    version = document.current_version
    return version is not None and version.extraction_status in (ExtractionStatus.QUEUED, ExtractionStatus.RUNNING)


def _render_panel(request, status=200, **kwargs):
    return render(request, "documents/_panel.html", _panel_context(request, **kwargs), status=status)


@login_required
@require_GET
def contract_panel(request, pk):
    return _render_panel(request, contract=contract_get(user=request.user, pk=pk))


@login_required
@require_GET
def customer_panel(request, pk):
    return _render_panel(request, customer=customer_get(user=request.user, pk=pk))


def _upload(request, *, contract=None, customer=None):
    form = UploadForm(request.POST)
    error = None
    count = 0
    try:
        if getattr(request, "oversize_uploads", None):
            raise too_large_error()
        if not form.is_valid():
            error = ApplicationError("invalid", _("Please correct the errors below."))
        else:
            documents = services.document_upload(
                actor=request.user, files=request.FILES.getlist("files"), kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"], contract=contract, customer=customer)
            count = len(documents)
    except ApplicationError as exc:
        form_error(form, exc)
        error = exc
    message = "" if error else _("%(count)s file(s) uploaded.") % {"count": count}
    if not is_partial(request):
        if error:
            messages.error(request, error.message)
        else:
            messages.success(request, message)
        return redirect(_owner_page(contract, customer))
    return _render_panel(request, status=error.status if error else 200, contract=contract, customer=customer,
                         form=form if error else None, error=error, message=message)


def size_limited_upload(view):
    """An upload view: the streaming size limit is installed before Django reads the body, and only
    then is CSRF checked (Django's documented way to change upload handlers for one view)."""
    protected = csrf_protect(view)

    @csrf_exempt
    @login_required
    @require_POST
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        install_size_limit(request)
        return protected(request, *args, **kwargs)

    return wrapper


@size_limited_upload
def contract_upload(request, pk):
    return _upload(request, contract=contract_get(user=request.user, pk=pk))


@size_limited_upload
def customer_upload(request, pk):
    return _upload(request, customer=customer_get(user=request.user, pk=pk))


# --- One document: versions, new version, delete ----------------------------------------------

def _versions_context(request, document, *, form=None, error=None, message="") -> dict:
    return {
        "document": document,
        "versions": selectors.document_versions(document=document),
        "version_form": form or VersionForm(initial={"version": document.version}),
        "can_change": policies.can_change_document(request.user, document),
        "version_error": error,
        "version_message": message,
        "preview_types": previews.WEB_PREVIEW_TYPES,
        "max_mb": settings.QIYUE_MAX_UPLOAD_MB,
    }


@login_required
@require_GET
def document_detail(request, pk):
    document = selectors.document_open(user=request.user, pk=pk)
    context = _versions_context(request, document)
    context["nav"] = "contracts" if document.contract_id else "customers"
    return render(request, "documents/detail.html", context)


@size_limited_upload
def document_add_version(request, pk):
    document = selectors.document_get(user=request.user, pk=pk)
    form = VersionForm(request.POST)
    error = None
    try:
        if getattr(request, "oversize_uploads", None):
            raise too_large_error()
        if not form.is_valid():
            error = ApplicationError("invalid", _("Please correct the errors below."))
        else:
            version = services.document_add_version(
                actor=request.user, document=document, file=request.FILES.get("file"),
                comment=form.cleaned_data["comment"], expected_version=form.cleaned_data["version"])
    except ApplicationError as exc:
        form_error(form, exc)
        error = exc
    if error is None:
        message = _("Version %(number)s uploaded.") % {"number": version.number}
        document = selectors.document_get(user=request.user, pk=pk)
    if not is_partial(request):
        if error:
            messages.error(request, error.message)
        else:
            messages.success(request, message)
        return redirect("documents:detail", pk=document.pk)
    if error:
        return render(request, "documents/_versions.html",
                      _versions_context(request, document, form=form, error=error), status=error.status)
    return render(request, "documents/_versions.html", _versions_context(request, document, message=message))


@login_required
@require_POST
def document_delete(request, pk):
    document = selectors.document_get(user=request.user, pk=pk)
    try:
        services.document_delete(actor=request.user, document=document)
    except ApplicationError as exc:
        message_error(request, exc)
        return redirect("documents:detail", pk=document.pk)
    messages.success(request, _("Document “%(title)s” deleted.") % {"title": document.title})
    target = _owner_page(document.contract if document.contract_id else None, document.customer)
    return hx_redirect(target) if is_partial(request) else redirect(target)


# --- Download and preview --------------------------------------------------------------------

def _integrity_page(request, version, exc: ApplicationError):
    return render(request, "documents/integrity_failed.html",
                  {"version": version, "document": version.document, "error": exc}, status=exc.status)


def _open_verified(request, version, *, action: str | None):
    """The verified plaintext, or an ApplicationError to render (404/403 are raised)."""
    try:
        return services.version_open(actor=request.user, version=version, action=action), None
    except ApplicationError as exc:
        raise_for_status(exc)
        return None, exc


def _private(response):
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def version_download(request, pk):
    version = selectors.version_get(user=request.user, pk=pk)
    plain, error = _open_verified(request, version, action="document.downloaded")
    if error:
        return _integrity_page(request, version, error)
    response = FileResponse(plain, as_attachment=True, filename=version.filename, content_type=version.content_type)
    response["Content-Length"] = str(version.size)
    # A download opened in the browser all the same (an HTML file saved as .pdf …) runs nothing.
    response["Content-Security-Policy"] = previews.PREVIEW_CSP
    return _private(response)


@login_required
@require_GET
def version_preview(request, pk):
    """The preview page: one access event; a PDF's pages as server-rendered images, an image as itself.

    The file is decrypted and verified here first, so a tampered file shows the integrity error
    and no image at all."""
    version = selectors.version_get(user=request.user, pk=pk)
    if version.file_type not in previews.WEB_PREVIEW_TYPES:
        raise Http404
    plain, error = _open_verified(request, version, action="document.previewed")
    if error:
        return _integrity_page(request, version, error)
    if version.file_type in previews.TEXT_PREVIEW_TYPES:
        plain.close()
        return _text_preview(request, version)
    token = previews.image_token(user=request.user, version=version)
    layout, unavailable = None, False
    with plain:
        if version.file_type == FileType.PDF:
            try:
                layout = previews.pdf_layout(plain)
            except previews.PreviewUnavailable:
                unavailable = True
        else:
            unavailable = not previews.image_previewable(plain)
    pages = []
    if layout is not None:
        for page in layout.pages:
            url = reverse("documents:preview_page", args=[version.pk, page.number])
            pages.append({"number": page.number, "width": page.width, "height": page.height,
                          "url": f"{url}?{urlencode({'t': token})}"})
    image_url = ""
    if version.file_type != FileType.PDF and not unavailable:
        image_url = f"{reverse('documents:preview_image', args=[version.pk])}?{urlencode({'t': token})}"
    document = version.document
    return _private(render(request, "documents/preview.html", {
        "version": version, "document": document, "pages": pages, "image_url": image_url,
        "page_count": layout.page_count if layout else None, "truncated": bool(layout and layout.truncated),
        "unavailable": unavailable, "nav": "contracts" if document.contract_id else "customers"}))


def _text_preview(request, version):
    """A Word or Excel file as the text the worker extracted: paragraphs and tables, nothing of the
    file's own run in the browser. Until the text is ready the page says so and asks again."""
    text = DocumentText.objects.filter(version=version).first()
    pages, cut = ([], False)
    if text is not None and version.extraction_status == ExtractionStatus.DONE:
        pages, cut = previews.text_pages(text.text, text.pages, sheets=version.file_type == FileType.XLSX)
    document = version.document
    return _private(render(request, "documents/preview.html", {
        "version": version, "document": document, "text_preview": True, "text_pages": pages, "text_cut": cut,
        "text_pending": version.extraction_status in (ExtractionStatus.QUEUED, ExtractionStatus.RUNNING),
        "unavailable": version.extraction_status == ExtractionStatus.FAILED or (
            version.extraction_status == ExtractionStatus.DONE and not any(page.blocks for page in pages)),
        "nav": "contracts" if document.contract_id else "customers"}))


def _preview_part(request, pk, *, file_types):
    """Visibility (404), file type (404) and the preview's image token (403), in that order."""
    version = selectors.version_get(user=request.user, pk=pk)
    if version.file_type not in file_types:
        raise Http404
    if not previews.image_token_valid(request.GET.get("t", ""), user=request.user, version=version):
        raise PermissionDenied
    return version


@login_required
@require_GET
def version_preview_page(request, pk, number):
    """One page of a previewed PDF as PNG. No access event of its own: the preview page recorded it."""
    version = _preview_part(request, pk, file_types=(FileType.PDF,))
    plain, error = _open_verified(request, version, action=None)
    if error:
        return _integrity_page(request, version, error)
    try:
        with plain:
            png = previews.pdf_page_png(plain, number)
    except previews.PreviewUnavailable as exc:
        raise Http404 from exc
    if png is None:
        raise Http404
    response = HttpResponse(png, content_type="image/png")
    response["Content-Security-Policy"] = previews.PREVIEW_CSP
    return _private(response)


@login_required
@require_GET
def version_preview_image(request, pk):
    """A previewed JPEG or PNG, inline and sandboxed. No access event of its own, as above."""
    version = _preview_part(request, pk, file_types=(FileType.PNG, FileType.JPEG))
    plain, error = _open_verified(request, version, action=None)
    if error:
        return _integrity_page(request, version, error)
    if not previews.image_previewable(plain):  # over the pixel limit: the browser never decodes it
        plain.close()
        raise Http404
    response = FileResponse(plain, filename=version.filename, content_type=version.content_type)
    response["Content-Length"] = str(version.size)
    response["Content-Security-Policy"] = previews.PREVIEW_CSP
    return _private(response)


# --- Paper originals (contract page) ----------------------------------------------------------

def _paper_context(request, contract, *, bound: dict | None = None, error: str = "", message: str = "") -> dict:
    """`bound` maps a form key ("new", "lend-<id>", "return-<id>") to a bound form with errors."""
    bound = bound or {}
    originals = selectors.paper_originals(user=request.user, contract_id=contract.pk)
    for original in originals:
        original.lend_form = bound.get(f"lend-{original.pk}") or LendForm(prefix=f"lend-{original.pk}")
        if original.open_loan is not None:
            original.return_form = (bound.get(f"return-{original.open_loan.pk}")
                                    or ReturnForm(prefix=f"return-{original.open_loan.pk}"))
    return {
        "contract": contract,
        "originals": originals,
        "original_form": bound.get("new") or PaperOriginalForm(prefix="paper"),
        "can_edit_paper": policies.can_manage_paper(request.user, contract),
        "paper_error": error,
        "paper_message": message,
    }


class _PaperFormView(ServiceFormView):
    """A write on the paper originals of a contract (record, lend, take back): the panel refreshes in
    place, or the contract page shows the outcome as a message."""

    http_method_names = ["post"]
    partial_template = "documents/_paper_panel.html"

    def allowed(self):
        return policies.can_manage_paper(self.request.user, self.contract)

    def redirect_url(self):
        return reverse("contracts:detail", args=[self.contract.pk])

    def partial_context(self, form, error, message):
        bound = {self.form_key: form} if error else {}
        return _paper_context(self.request, self.contract, bound=bound, error=error, message=message)


@login_required
@require_GET
def paper_panel(request, pk):
    contract = contract_get(user=request.user, pk=pk)
    return render(request, "documents/_paper_panel.html", _paper_context(request, contract))


class PaperCreate(_PaperFormView):
    form_class = PaperOriginalForm
    form_key = "new"
    success_message = _("Paper original recorded.")

    def load(self):
        self.contract = contract_get(user=self.request.user, pk=self.kwargs["pk"])

    def form_kwargs(self):
        return {"prefix": "paper"}

    def save(self, form):
        services.paper_original_record(actor=self.request.user, contract=self.contract, data=form.service_data())


class PaperLend(_PaperFormView):
    form_class = LendForm
    success_message = _("Loan recorded.")

    def load(self):
        self.original = selectors.paper_original_get(user=self.request.user, pk=self.kwargs["pk"])
        self.contract = self.original.contract
        self.form_key = f"lend-{self.original.pk}"

    def form_kwargs(self):
        return {"prefix": self.form_key}

    def save(self, form):
        data = form.cleaned_data
        services.paper_original_lend(actor=self.request.user, original=self.original, borrower=data["borrower"],
                                     purpose=data["purpose"], lent_on=data["lent_on"], due_on=data["due_on"])


class PaperReturn(_PaperFormView):
    form_class = ReturnForm
    success_message = _("Return recorded.")

    def load(self):
        self.loan = selectors.paper_loan_get(user=self.request.user, pk=self.kwargs["pk"])
        self.contract = self.loan.original.contract
        self.form_key = f"return-{self.loan.pk}"

    def form_kwargs(self):
        return {"prefix": self.form_key}

    def save(self, form):
        services.paper_loan_return(actor=self.request.user, loan=self.loan,
                                   returned_on=form.cleaned_data["returned_on"])
