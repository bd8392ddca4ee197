"""Read-only admin for documents: every change goes through the services (and the audit log)."""

from django.contrib import admin

from .models import Document, DocumentVersion, PaperLoan, PaperOriginal


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionInline(admin.TabularInline):
    model = DocumentVersion
    fields = ("number", "filename", "file_type", "size", "sha256", "key_id", "uploaded_by", "created_at",
              "extraction_status")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "contract", "customer", "created_by", "created_at", "deleted_at")
    list_filter = ("kind",)
    search_fields = ("title", "contract__number")
    list_select_related = ("contract", "customer", "created_by")
    inlines = [VersionInline]


class LoanInline(admin.TabularInline):
    model = PaperLoan
    fields = ("borrower", "purpose", "lent_on", "due_on", "returned_on", "recorded_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaperOriginal)
class PaperOriginalAdmin(ReadOnlyAdmin):
    list_display = ("contract", "room", "cabinet", "box", "copies")
    search_fields = ("contract__number", "room", "cabinet", "box")
    list_select_related = ("contract",)
    inlines = [LoanInline]
