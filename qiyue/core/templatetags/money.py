"""`{{ amount|money:currency }}`: an amount with its currency's decimals and the language's grouping."""

from django import template

from qiyue.core.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return format_money(amount, currency)
