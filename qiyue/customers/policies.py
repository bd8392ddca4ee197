"""Who may do what with customers, their contacts and communication records. Seeing is the scope's
(`qiyue.core.permissions`); changing is asked here."""

from qiyue.core.policies import check_assignment, may_create_owned, may_edit_owned, sees

__all__ = ["can_create_customer", "can_edit_customer", "can_see_customer", "check_assignment"]


def can_see_customer(user, customer) -> bool:
    return sees(user, customer)


def can_create_customer(user) -> bool:
    return may_create_owned(user)


def can_edit_customer(user, customer) -> bool:
    """Edit the customer and add or change its contacts and communications."""
    return may_edit_owned(user, customer)
