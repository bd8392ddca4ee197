"""Documents API: multipart uploads, versions, verified downloads (an access event each), paper
originals and their loans. Thin: load through the selectors (invisible rows are 404), validate the
input, call one service, render the output."""

import json

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from qiyue.core.api import ServiceViewMixin, require_version
from qiyue.core.errors import ApplicationError, permission_denied

from .. import policies, selectors, services
from ..filters import DocumentFilter, PaperLoanFilter, PaperOriginalFilter
from ..models import Document, DocumentVersion, PaperLoan, PaperOriginal
from ..previews import PREVIEW_CSP, PREVIEW_TYPES
from ..uploads import install_size_limit, too_large_error
from .serializers import (
    DocumentOutput,
    DocumentUpdateInput,
    LendInput,
    LoanOutput,
    PaperOriginalInput,
    PaperOriginalOutput,
    PaperOriginalUpdateInput,
    ReturnInput,
    UploadInput,
    VersionInput,
    VersionOutput,
)

ERRORS = {400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}"),
          403: OpenApiResponse(description="permission_denied"),
          404: OpenApiResponse(description="not_found")}
UPLOAD_ERRORS = {**ERRORS, 413: OpenApiResponse(description="file_too_large"),
                 409: OpenApiResponse(description="stale_version")}
DOWNLOAD_ERRORS = {**ERRORS, 409: OpenApiResponse(description="integrity_failed: the stored file is not what was "
                                                             "uploaded; no bytes are sent (or key_unavailable)"),
                   503: OpenApiResponse(description="storage_unavailable: the store could not be read just now; "
                                                    "try again")}
FILE_CODES = ("file_required, file_empty, file_too_large, file_type_not_allowed, file_type_mismatch, zip_bomb, "
              "zip_unsafe_path, zip_unsupported, pdf_encrypted, pdf_corrupt")


class FileRenderer(renderers.BaseRenderer):
    """Lets a client ask for the file's own type (Accept: application/pdf …); errors stay JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict | list):
            # An error (the file itself goes out as a FileResponse): JSON, and said so, never "*/*".
            response = (renderer_context or {}).get("response")
            if response is not None:
                response["Content-Type"] = "application/json"
            return json.dumps(data).encode()
        return data


class SizeLimitMixin:
    """Install the streaming size limit before DRF first parses the body (authentication reads it)."""

    def initialize_request(self, request, *args, **kwargs):
        if request.method in ("POST", "PUT", "PATCH"):
            install_size_limit(request)
        return super().initialize_request(request, *args, **kwargs)

    def uploaded_files(self, request, *names: str) -> list:
        files = [f for name in names for f in request.FILES.getlist(name)]  # parses the body first
        if getattr(request._request, "oversize_uploads", None):
            raise too_large_error()
        return files


@extend_schema_view(
    list=extend_schema(summary="Documents the user may see"),
    retrieve=extend_schema(summary="One document with its current version", responses={200: DocumentOutput, **ERRORS}),
)
class DocumentViewSet(SizeLimitMixin, ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Documents of the contracts and customers the user may see, each with its versions. Files are
    uploaded as multipart forms, checked (type, size, content) and stored encrypted; every upload,
    change, view and download is audited."""
    serializer_class = output_serializer = DocumentOutput
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    queryset = Document.objects.none()
    filterset_class = DocumentFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.document_list(user=self.request.user)
        return selectors.document_queryset(user=self.request.user)

    @extend_schema(
        summary="Upload one or many files as new documents (multipart)",
        description="Multipart form: `contract` or `customer`, `kind`, optional `title` and `comment`, and "
                    "`file` (one file → the document) or `files` repeated (→ a list). All or nothing. "
                    f"Refused files give one of: {FILE_CODES}.",
        request={"multipart/form-data": UploadInput},
        responses={201: DocumentOutput, **UPLOAD_ERRORS},
    )
    def create(self, request):
        files = self.uploaded_files(request, "file", "files")
        data = self.validated(UploadInput, {k: v for k, v in request.data.items() if k not in ("file", "files")})
        documents = services.document_upload(
            actor=request.user, files=files, kind=data["kind"], contract=data.get("contract"),
            customer=data.get("customer"), title=data["title"], comment=data["comment"])
        if len(documents) == 1 and not request.FILES.getlist("files"):
            return Response(self.output(documents[0]), status=status.HTTP_201_CREATED)
        return Response([self.output(d) for d in documents], status=status.HTTP_201_CREATED)

    @extend_schema(summary="Rename or re-classify a document", request=DocumentUpdateInput,
                   responses={200: DocumentOutput, **UPLOAD_ERRORS})
    def partial_update(self, request, pk=None):
        document = self.get_object()
        data = self.validated(DocumentUpdateInput, request.data)
        document = services.document_update(actor=request.user, document=document, data=data,
                                            expected_version=require_version(data))
        return Response(self.output(document))

    @extend_schema(summary="Delete a document (soft, audited)", responses={204: None, **ERRORS})
    def destroy(self, request, pk=None):
        services.document_delete(actor=request.user, document=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], summary="The document's versions, newest first",
                   responses={200: VersionOutput(many=True), **ERRORS})
    @extend_schema(methods=["POST"], summary="Upload a new version (multipart: `file`, `comment`)",
                   description=f"Refused files give one of: {FILE_CODES}.",
                   request={"multipart/form-data": VersionInput}, responses={201: VersionOutput, **UPLOAD_ERRORS})
    # Not paginated (a document has few versions): the schema says a plain list, as the answer is.
    @action(detail=True, methods=["get", "post"], url_path="versions", url_name="versions", pagination_class=None)
    def versions(self, request, pk=None):
        document = self.get_object()
        if request.method == "GET":
            versions = selectors.document_versions(document=document).select_related("document")
            return Response(VersionOutput(versions, many=True, context=self.get_serializer_context()).data)
        if not policies.can_change_document(request.user, document):
            raise permission_denied()
        files = self.uploaded_files(request, "file")
        data = self.validated(VersionInput, {k: v for k, v in request.data.items() if k != "file"})
        version = services.document_add_version(actor=request.user, document=document,
                                                file=files[0] if files else None,
                                                comment=data["comment"], expected_version=data.get("version"))
        fresh = selectors.version_get(user=request.user, pk=version.pk)
        return Response(VersionOutput(fresh, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


def _serve(request, version: DocumentVersion, *, inline: bool):
    plain = services.version_open(actor=request.user, version=version,
                                  action="document.previewed" if inline else "document.downloaded")
    response = FileResponse(plain, as_attachment=not inline, filename=version.filename,
                            content_type=version.content_type)
    response["Content-Length"] = str(version.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Inline or not, a file from the API runs nothing if a browser shows it.
    response["Content-Security-Policy"] = PREVIEW_CSP
    return response


@extend_schema_view(retrieve=extend_schema(summary="One document version", responses={200: VersionOutput, **ERRORS}))
class DocumentVersionViewSet(ServiceViewMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One version of a document: its facts, its file (download, verified against its SHA-256) and an
    inline preview. Every download and preview is audited."""
    serializer_class = output_serializer = VersionOutput
    queryset = DocumentVersion.objects.none()

    def get_queryset(self):
        return selectors.version_queryset(user=self.request.user)

    @extend_schema(summary="Download the version (verified; records an access event)",
                   description="Served as an attachment with RFC 6266 Content-Disposition and nosniff. The GCM "
                               "tags and the SHA-256 are checked first; on a mismatch: 409 integrity_failed.",
                   responses={(200, "*/*"): OpenApiTypes.BINARY, **DOWNLOAD_ERRORS})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, FileRenderer])
    def download(self, request, pk=None):
        return _serve(request, self.get_object(), inline=False)

    @extend_schema(summary="A PDF or image inline (verified; records an access event)",
                   description="The file itself with `Content-Disposition: inline`, nosniff and a sandbox CSP, for "
                               "clients that show it themselves. A browser's own PDF viewer ignores that sandbox, so "
                               "the web preview (`/documents/versions/{id}/preview/`) never sends a PDF: it shows the "
                               "pages rendered to PNG on the server. 404 for other file types.",
                   responses={(200, "*/*"): OpenApiTypes.BINARY, **DOWNLOAD_ERRORS})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, FileRenderer])
    def preview(self, request, pk=None):
        version = self.get_object()
        if version.file_type not in PREVIEW_TYPES:
            raise ApplicationError("not_found", "This file type has no preview; download it instead.", status=404)
        return _serve(request, version, inline=True)


@extend_schema_view(
    list=extend_schema(summary="Paper originals the user may see"),
    retrieve=extend_schema(summary="One paper original with its loan history",
                           responses={200: PaperOriginalOutput, **ERRORS}),
    create=extend_schema(summary="Record where a paper original is kept", request=PaperOriginalInput,
                         responses={201: PaperOriginalOutput, **ERRORS}),
    partial_update=extend_schema(summary="Move a paper original (room, cabinet, box …)",
                                 request=PaperOriginalUpdateInput, responses={200: PaperOriginalOutput, **ERRORS}),
)
class PaperOriginalViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Where the signed paper originals of the user's contracts are kept, and who has borrowed them.
    Every move, loan and return is audited."""
    serializer_class = output_serializer = PaperOriginalOutput
    queryset = PaperOriginal.objects.none()
    filterset_class = PaperOriginalFilter

    def get_queryset(self):
        return selectors.paper_original_queryset(user=self.request.user).order_by("contract_id", "id")

    def create(self, request):
        data = self.validated(PaperOriginalInput, request.data)
        contract = data.pop("contract")
        original = services.paper_original_record(actor=request.user, contract=contract, data=data)
        return Response(self.output(original), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        original = self.get_object()
        data = self.validated(PaperOriginalUpdateInput, request.data, partial=True)
        original = services.paper_original_update(actor=request.user, original=original, data=data)
        return Response(self.output(original))

    @extend_schema(summary="Lend the paper original to a user", request=LendInput,
                   responses={201: LoanOutput, **ERRORS, 409: OpenApiResponse(description="already_lent")})
    @action(detail=True, methods=["post"])
    def lend(self, request, pk=None):
        original = self.get_object()
        if not policies.can_manage_paper(request.user, original.contract):
            raise permission_denied()
        data = self.validated(LendInput, request.data)
        loan = services.paper_original_lend(actor=request.user, original=original, **data)
        fresh = selectors.paper_loan_get(user=request.user, pk=loan.pk)
        return Response(LoanOutput(fresh).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Loans of paper originals the user may see",
                       parameters=[OpenApiParameter("overdue", bool), OpenApiParameter("open", bool)]),
    retrieve=extend_schema(summary="One loan", responses={200: LoanOutput, **ERRORS}),
)
class PaperLoanViewSet(ServiceViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Loans of paper originals: who borrowed which original, why, until when, and its return."""
    serializer_class = output_serializer = LoanOutput
    queryset = PaperLoan.objects.none()
    filterset_class = PaperLoanFilter

    def get_queryset(self):
        params = self.request.query_params
        if params.get("overdue") in ("1", "true"):
            qs = selectors.overdue_loans(user=self.request.user)
        else:
            qs = selectors.paper_loan_queryset(user=self.request.user).order_by("-lent_on", "-id")
        if params.get("open") in ("1", "true"):
            qs = qs.filter(returned_on__isnull=True)
        return qs

    @extend_schema(summary="Record the return of a lent paper original", request=ReturnInput,
                   responses={200: LoanOutput, **ERRORS, 409: OpenApiResponse(description="not_lent")})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        loan = self.get_object()
        if not policies.can_manage_paper(request.user, loan.original.contract):
            raise permission_denied()
        data = self.validated(ReturnInput, request.data)
        loan = services.paper_loan_return(actor=request.user, loan=loan, returned_on=data["returned_on"])
        return Response(self.output(loan))
