from tests.invoicing.conftest import consult_fee, standard  # noqa: F401 - shared fixtures
