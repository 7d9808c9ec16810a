import pytest
from django.core.exceptions import ValidationError

from bookings.validators import id_check_code, normalise_id_number, normalise_mobile


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+8613800138000", "8613800138000"])
def test_it_accepts_mainland_mobiles(typed):
    assert normalise_mobile(typed) == "13800138000"


@pytest.mark.parametrize("typed", ["12800138000", "1380013800", "138001380001", "abc", "010-12345678"])
def test_it_refuses_other_numbers(typed):
    with pytest.raises(ValidationError):
        normalise_mobile(typed)


def test_it_computes_the_gb11643_check_character():
    assert id_check_code("11010519491231002") == "X"
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(ValidationError, match="校验位"):
        normalise_id_number("110105194912310020")
