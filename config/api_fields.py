"""Serializer fields shared by the apps' APIs."""

from rest_framework import serializers


class IntegerIdField(serializers.PrimaryKeyRelatedField):
    """An id that is a whole number (``1.5`` and ``"1.5"`` are refused, never
    read as 1), of a row of the field's queryset."""

    def __init__(self, **kwargs) -> None:
        super().__init__(pk_field=serializers.IntegerField(), **kwargs)
