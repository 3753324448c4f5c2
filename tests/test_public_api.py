"""The package's public surface is small and deliberate: changing it must be a conscious act."""

import cityscore


def test_all_is_pinned() -> None:
    assert sorted(cityscore.__all__) == [
        "Bands",
        "CatalogError",
        "CityScoreError",
        "ConfigError",
        "Kit",
        "StoreError",
        "ValidationError",
        "score_date",
        "score_range",
    ]
    for name in cityscore.__all__:
        assert hasattr(cityscore, name)


def test_every_error_is_a_cityscore_error() -> None:
    for name in ["CatalogError", "ConfigError", "StoreError", "ValidationError"]:
        assert issubclass(getattr(cityscore, name), cityscore.CityScoreError)
