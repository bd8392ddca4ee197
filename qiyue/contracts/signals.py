"""Signals apps above the contracts app listen to (they may not be imported from here)."""

from django.dispatch import Signal

# Sent inside the transition's transaction, after its audit event: sender=Contract, contract, name
# (the transition's), actor. A receiver's failure fails the transition.
contract_transitioned = Signal()
