"""Signals other apps listen to (the search index, for one)."""

from django.dispatch import Signal

# Sent after commit when a version's text has been extracted: kwargs `version_id`.
text_extracted = Signal()
# Sent after commit when a document (or one of its versions) changed in a way search must follow
# (uploaded, new current version, deleted): kwargs `document_id`.
document_changed = Signal()
