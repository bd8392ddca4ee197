"""Signals apps above the contracts app listen to (they may not be imported from here)."""

from django.dispatch import Signal

# Sent inside the transition's transaction, after its audit event: sender=Contract, contract, name
# (the transition's), actor. A receiver's failure fails the transition.
contract_transitioned = Signal()

# Sent inside amendment_submit's transaction: sender=Amendment, amendment, contract, actor. The workflow
# app starts the amendment's approval; its failure fails the submission.
amendment_submitted = Signal()
