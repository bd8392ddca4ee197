"""The index follows every change after commit: saves and deletes of contracts and customers, and
the documents app's signals (which are themselves sent after commit)."""

import threading

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from qiyue.contracts.models import Contract
from qiyue.customers.models import Customer
from qiyue.documents.signals import document_changed, text_extracted

from . import indexing

_pending = threading.local()


def _schedule(function, pk: int) -> None:
    """Index after commit, once per object however often it was saved in the transaction."""
    keys = _pending.__dict__.setdefault("keys", set())
    key = (function.__name__, pk)
    keys.add(key)

    def run():
        if key in keys:
            keys.discard(key)
            indexing.safely(function, [pk])

    transaction.on_commit(run)


@receiver(post_save, sender=Contract, dispatch_uid="search_contract_saved")
@receiver(post_delete, sender=Contract, dispatch_uid="search_contract_deleted")
def contract_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _schedule(indexing.index_contracts, instance.pk)


@receiver(post_save, sender=Customer, dispatch_uid="search_customer_saved")
@receiver(post_delete, sender=Customer, dispatch_uid="search_customer_deleted")
def customer_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        _schedule(indexing.index_customers, instance.pk)


@receiver(text_extracted, dispatch_uid="search_text_extracted")
def version_text_extracted(sender, version_id, **kwargs):
    indexing.safely(indexing.index_version, version_id)


@receiver(document_changed, dispatch_uid="search_document_changed")
def document_updated(sender, document_id, **kwargs):
    indexing.safely(indexing.index_documents, [document_id])
