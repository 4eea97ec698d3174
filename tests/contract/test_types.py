import pytest

from dataward.contract.types import DataType, TypeKind, parse_physical_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BIGINT", DataType(TypeKind.BIGINT)),
        ("int8", DataType(TypeKind.BIGINT)),
        ("INTEGER", DataType(TypeKind.INTEGER)),
        ("int", DataType(TypeKind.INTEGER)),
        ("SMALLINT", DataType(TypeKind.SMALLINT)),
        ("DECIMAL(19,4)", DataType(TypeKind.DECIMAL, precision=19, scale=4)),
        ("numeric( 10 , 0 )", DataType(TypeKind.DECIMAL, precision=10, scale=0)),
        ("NUMERIC(5)", DataType(TypeKind.DECIMAL, precision=5, scale=0)),
        ("DOUBLE", DataType(TypeKind.DOUBLE)),
        ("double precision", DataType(TypeKind.DOUBLE)),
        ("REAL", DataType(TypeKind.REAL)),
        ("TEXT", DataType(TypeKind.TEXT)),
        ("VARCHAR(80)", DataType(TypeKind.VARCHAR, length=80)),
        ("character varying(3)", DataType(TypeKind.VARCHAR, length=3)),
        ("BOOLEAN", DataType(TypeKind.BOOLEAN)),
        ("DATE", DataType(TypeKind.DATE)),
        ("TIMESTAMP", DataType(TypeKind.TIMESTAMP)),
        ("timestamp without time zone", DataType(TypeKind.TIMESTAMP)),
        ("TIMESTAMPTZ", DataType(TypeKind.TIMESTAMPTZ)),
        ("timestamp with time zone", DataType(TypeKind.TIMESTAMPTZ)),
        ("UUID", DataType(TypeKind.UUID)),
        ("JSON", DataType(TypeKind.JSON)),
        ("jsonb", DataType(TypeKind.JSONB)),
    ],
)
def test_supported_physical_types(text, expected):
    assert parse_physical_type(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MONEY", "unsupported physical type"),
        ("DECIMAL", "needs a precision and scale"),
        ("DECIMAL(5,6)", "exceeds its precision"),
        ("DECIMAL(40,2)", "precision must be"),
        ("VARCHAR(0)", "must be positive"),
        ("INTEGER(4)", "takes no parameters"),
        ("DATE(", "cannot read"),
    ],
)
def test_rejected_physical_types(text, message):
    with pytest.raises(ValueError, match=message):
        parse_physical_type(text)


def test_canonical_text():
    assert str(parse_physical_type("numeric(19,4)")) == "DECIMAL(19,4)"
    assert str(parse_physical_type("character varying(3)")) == "VARCHAR(3)"
