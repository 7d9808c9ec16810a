"""factory_boy factories for volume. Business state (attribution, bookings) is built through services."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import Follower, OrgUnit


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    kind = OrgUnit.Kind.STORE
    code = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.Sequence(lambda n: f"测试门店{n}")


class FollowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Follower

    openid = factory.Sequence(lambda n: f"oTEST{n:010d}")
    nickname = factory.Sequence(lambda n: f"粉丝{n}")
    is_subscribed = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    # Hashed before the INSERT: a post-generation set_password without a save would leave the
    # stored hash empty and every force_login session would be rejected.
    password = factory.django.Password("pass12345")
